/**
 * Auto-configuration of the pools' call observations.
 */
@NullMarked
package dev.folk.spring.boot.autoconfigure.observation;

import org.jspecify.annotations.NullMarked;
