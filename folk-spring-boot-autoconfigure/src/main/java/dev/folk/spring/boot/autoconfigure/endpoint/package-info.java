/**
 * Auto-configuration of the {@code workers} actuator endpoint.
 */
@NullMarked
package dev.folk.spring.boot.autoconfigure.endpoint;

import org.jspecify.annotations.NullMarked;
