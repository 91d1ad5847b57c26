/**
 * Process supervision: spawning workers ({@link dev.folk.core.supervision.Supervisor}), reaping each
 * exactly once, the stop ladder (TERM, grace, KILL) on the process group, and their channels.
 */
@NullMarked
package dev.folk.core.supervision;

import org.jspecify.annotations.NullMarked;
