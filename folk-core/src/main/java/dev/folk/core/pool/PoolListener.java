package dev.folk.core.pool;

/**
 * Events of a pool, for metrics. Called on the thread where the event happens (a caller's thread
 * for calls): implementations must be fast and must not throw or block.
 */
public interface PoolListener {

    /**
     * A call ended.
     *
     * @param waitNanos time spent waiting for a worker
     * @param execNanos time spent on the worker (0 if it never got one)
     */
    default void callCompleted(WorkerPool pool, String method, CallOutcome outcome, long waitNanos, long execNanos) {
    }

    /** A worker completed its handshake. */
    default void workerStarted(WorkerPool pool, int pid, long bootNanos) {
    }

    /** A worker exited the pool (after it was retired, stopped and reaped). */
    default void workerExited(WorkerPool pool, ExitRecord exit) {
    }

    /** A worker failed to start, to say ready, or ended before serving its first call. */
    default void bootFailed(WorkerPool pool, BootFailure failure) {
    }

    default void stateChanged(WorkerPool pool, PoolState from, PoolState to) {
    }
}
