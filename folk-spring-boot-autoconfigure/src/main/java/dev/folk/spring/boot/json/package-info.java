/**
 * Typed calls with Jackson: records and POJOs as call parameters and results.
 */
@NullMarked
package dev.folk.spring.boot.json;

import org.jspecify.annotations.NullMarked;
