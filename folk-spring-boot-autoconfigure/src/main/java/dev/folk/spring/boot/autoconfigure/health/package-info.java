/**
 * Auto-configuration of the {@code folk} health contributor.
 */
@NullMarked
package dev.folk.spring.boot.autoconfigure.health;

import org.jspecify.annotations.NullMarked;
