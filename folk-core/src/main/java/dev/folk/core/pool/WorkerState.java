package dev.folk.core.pool;

/** One worker, as the pool sees it. */
public enum WorkerState {
    /** Spawned, waiting for its control.ready handshake. */
    STARTING,
    /** Ready for a call. */
    IDLE,
    /** Serving a call. */
    BUSY,
    /** Retired: being stopped and reaped. */
    STOPPING
}
