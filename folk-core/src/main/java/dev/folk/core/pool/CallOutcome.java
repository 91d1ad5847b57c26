package dev.folk.core.pool;

import org.jspecify.annotations.Nullable;

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
    /**
     * Refused at once: the pool was BROKEN, none of its workers running or starting. Not counted
     * as {@link #ACQUIRE_TIMEOUT}, which says the workers were busy: here more workers would not help.
     */
    NO_WORKER,
    POOL_CLOSED,
    /** The caller gave up before the call reached a worker (an interrupt, a cancelled future); nothing was sent. */
    CANCELLED;

    /** The lower-case name used in metrics and JSON, e.g. {@code exec-timeout}. */
    public String tag() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /**
     * The outcome a call that failed with {@code error} was counted as, or null for none (not a
     * CallException, or an {@link InvalidParamsException}: the caller's bug, not the pool's).
     */
    static @Nullable CallOutcome of(Throwable error) {
        if (error instanceof WorkerErrorException) {
            return APPLICATION_ERROR;
        } else if (error instanceof ExecTimeoutException) {
            return EXEC_TIMEOUT;
        } else if (error instanceof WorkerCrashedException) {
            return WORKER_CRASHED;
        } else if (error instanceof WorkerMemoryLimitException) {
            return MEMORY_LIMIT;
        } else if (error instanceof WorkerProtocolException) {
            return PROTOCOL_ERROR;
        } else if (error instanceof RequestTooLargeException) {
            return REQUEST_TOO_LARGE;
        } else if (error instanceof QueueFullException) {
            return QUEUE_FULL;
        } else if (error instanceof NoWorkerAvailableException n) {
            return n.noneRunning() ? NO_WORKER : ACQUIRE_TIMEOUT;
        } else if (error instanceof PoolClosedException) {
            return POOL_CLOSED;
        } else if (error instanceof CallCancelledException) {
            return CANCELLED;
        }
        return null;
    }
}
