/**
 * How the pools follow the application's life: readiness, the JVM shutdown hook, the signal
 * handler, and the start-up failure when pools do not become ready.
 */
@NullMarked
package dev.folk.spring.boot.lifecycle;

import org.jspecify.annotations.NullMarked;
