/**
 * Reload on change (development): a watcher of the pools' PHP sources that replaces a pool's
 * workers, make before break, when they change.
 */
@NullMarked
package dev.folk.spring.boot.watch;

import org.jspecify.annotations.NullMarked;
