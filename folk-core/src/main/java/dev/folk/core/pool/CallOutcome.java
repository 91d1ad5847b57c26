package dev.folk.core.pool;

/** How a call ended, for counters and timers. */
public enum CallOutcome {
    SUCCESS,
    /** The worker answered with an error object. */
    APPLICATION_ERROR,
    EXEC_TIMEOUT,
    WORKER_CRASHED,
    /** The worker passed the hard memory limit during the call and was killed. */
    MEMORY_LIMIT,
    PROTOCOL_ERROR,
    REQUEST_TOO_LARGE,
    QUEUE_FULL,
    ACQUIRE_TIMEOUT,
    POOL_CLOSED;

    /** The lower-case name used in metrics and JSON, e.g. {@code exec-timeout}. */
    public String tag() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
