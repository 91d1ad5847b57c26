package dev.folk.core.pool;

import java.util.List;

import dev.folk.core.supervision.ExitStatus;

import org.jspecify.annotations.Nullable;

/**
 * The seam between a pool and the processes it drives: everything the pool asks of the operating
 * system goes through here and through {@link WorkerLink}. {@link SupervisedHost} is the real one
 * (a {@code Supervisor} and its socket pairs); tests drive the pool's logic — dispatch, queueing,
 * timeouts, back-off, recycling, failure classification — against in-JVM workers instead.
 *
 * <p>One host per pool: it knows which command the pool runs.
 */
interface WorkerHost {

    /**
     * Starts one worker process (not yet ready: see {@link WorkerLink#awaitControl}).
     *
     * @throws dev.folk.core.supervision.SupervisorClosedException if the application is shutting
     *         down (nothing to retry)
     * @throws RuntimeException if the process could not be started (a boot failure)
     */
    WorkerLink spawn();

    /**
     * Stops many workers from one thread with one deadline: TERM to each group, KILL what is left at
     * {@code killBy} (a {@link PoolClock} instant), reap each.
     *
     * @return how each ended, in the order given (null where it could not be reaped in time)
     */
    List<@Nullable ExitStatus> terminateAll(List<WorkerLink> links, long killBy);

    /** The application is shutting down: its workers are being stopped for it. */
    boolean isClosed();
}
