/**
 * Worker pools in a Spring application: class path worker scripts extracted for the workers.
 */
@NullMarked
package dev.folk.spring.boot.pool;

import org.jspecify.annotations.NullMarked;
