/**
 * Micrometer meters of worker pools.
 */
@NullMarked
package dev.folk.spring.boot.metrics;

import org.jspecify.annotations.NullMarked;
