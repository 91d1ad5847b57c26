/**
 * Folk's core: {@link dev.folk.core.FolkException}, the root of its exceptions, above the packages
 * for the native layer, supervision, the protocol and the worker pool.
 */
@NullMarked
package dev.folk.core;

import org.jspecify.annotations.NullMarked;
