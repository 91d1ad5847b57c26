/**
 * Auto-configuration of typed calls with the application's JSON mapper.
 */
@NullMarked
package dev.folk.spring.boot.autoconfigure.json;

import org.jspecify.annotations.NullMarked;
