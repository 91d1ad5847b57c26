package dev.folk.core.pool;

/**
 * One slot of the pool being filled: the spawn of a worker and, if it fails, its retries. Its
 * failure count drives that slot's back-off alone (see {@link BootBackoff}); a new slot, such as
 * the replacement of a worker that crashed after serving, starts at zero and spawns at once.
 */
final class SpawnAttempt {

    /** Consecutive failed boots of this slot. Touched by one thread at a time (spawner or stopper). */
    int failures;

    /** The pool's reset generation when its current spawn began (see {@link RollingReset}). */
    volatile long generation;
}
