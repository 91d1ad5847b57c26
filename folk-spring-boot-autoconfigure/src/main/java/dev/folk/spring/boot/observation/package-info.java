/**
 * Pool calls as Micrometer observations (a timer, and a span with a tracer), and the W3C trace
 * context sent to the workers.
 */
@NullMarked
package dev.folk.spring.boot.observation;

import org.jspecify.annotations.NullMarked;
