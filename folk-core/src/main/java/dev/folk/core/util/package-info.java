/**
 * Small helpers shared by the other packages, such as {@link dev.folk.core.util.Deadline} for loops
 * that poll until a deadline.
 */
@NullMarked
package dev.folk.core.util;

import org.jspecify.annotations.NullMarked;
