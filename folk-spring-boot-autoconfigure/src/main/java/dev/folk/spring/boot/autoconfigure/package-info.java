/**
 * Auto-configuration of Folk worker pools: the {@code folk.*} properties (the pool settings
 * declared once in {@link dev.folk.spring.boot.autoconfigure.PoolProperties}), their validation
 * with failure analysis, and the wiring of the supervisor, the pools and their lifecycle.
 */
@NullMarked
package dev.folk.spring.boot.autoconfigure;

import org.jspecify.annotations.NullMarked;
