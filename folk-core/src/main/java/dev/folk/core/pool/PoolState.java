package dev.folk.core.pool;

/** The pool as a whole. */
public enum PoolState {
    /** Created, not started. */
    NEW,
    /** Started; fewer workers ready than its size so far (booting). */
    STARTING,
    /** Serving. */
    RUNNING,
    /** Repeated boot failures within the window; still retrying, at the back-off cap. */
    BROKEN,
    /** close() began: no new calls; calls in flight or queued before it finish up to the drain timeout. */
    DRAINING,
    /** Closed: every worker stopped and reaped. */
    CLOSED
}
