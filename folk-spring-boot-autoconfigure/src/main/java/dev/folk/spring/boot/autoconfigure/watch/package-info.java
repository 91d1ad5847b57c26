/**
 * Auto-configuration of reload on change (development).
 */
@NullMarked
package dev.folk.spring.boot.autoconfigure.watch;

import org.jspecify.annotations.NullMarked;
