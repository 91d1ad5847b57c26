/**
 * The {@code workers} actuator endpoint: the pools, their workers, and rolling resets.
 */
@NullMarked
package dev.folk.spring.boot.actuate.endpoint;

import org.jspecify.annotations.NullMarked;
