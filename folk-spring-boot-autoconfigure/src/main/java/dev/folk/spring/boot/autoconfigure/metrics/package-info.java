/**
 * Auto-configuration of the pools' Micrometer meters.
 */
@NullMarked
package dev.folk.spring.boot.autoconfigure.metrics;

import org.jspecify.annotations.NullMarked;
