package dev.folk.core.pool;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * When an elastic pool (min-size &lt; max-size) grows: once the oldest queued call has waited
 * grow-after, it adds a worker per such call not already covered by a spawn under way (at most
 * max-concurrent-spawns at a time), up to max-size. A pool with no worker at all grows at once,
 * since nothing will be given back; a call refused because the queue was full counts as one
 * waiting call. Shrinking is the housekeeper's: an idle worker past its idle limit above min-size
 * is retired without replacement ({@link WorkerLifecycle#retireSurplus}).
 *
 * <p>Off the call path: a call that queues only sets a flag and, once, schedules a check on the
 * housekeeper thread; the check re-arms itself while calls wait and the pool can still grow.
 */
final class ElasticSize {

    private final PoolConfig config;
    private final PoolHealth health;
    private final PoolExecutors executors;
    private final Dispatcher dispatcher;
    private final WorkerLifecycle lifecycle;
    private final long growAfterNanos;
    private final AtomicBoolean checkScheduled = new AtomicBoolean();
    private final AtomicBoolean refused = new AtomicBoolean();

    ElasticSize(PoolConfig config, PoolHealth health, PoolExecutors executors, Dispatcher dispatcher,
                WorkerLifecycle lifecycle) {
        this.config = config;
        this.health = health;
        this.executors = executors;
        this.dispatcher = dispatcher;
        this.lifecycle = lifecycle;
        this.growAfterNanos = config.growAfter().toNanos();
        if (config.elastic()) {
            dispatcher.onNoFreeWorker(this::noFreeWorker);
        }
    }

    /** A call found no idle worker: it queued, or it was {@code refused} (max-queue full, or 0). */
    private void noFreeWorker(boolean refused) {
        if (lifecycle.targetSize() >= config.maxSize() || health.closing()) {
            return;
        }
        if (refused) {
            this.refused.set(true);
        }
        if (lifecycle.slots() == 0) {
            check(); // no worker at all, none starting: nothing to wait for
        }
        scheduleCheck();
    }

    private void scheduleCheck() {
        if (!checkScheduled.compareAndSet(false, true)) {
            return;
        }
        try {
            executors.housekeeper.schedule(this::scheduledCheck, Math.max(growAfterNanos, 1_000_000),
                    TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closing) {
            checkScheduled.set(false);
        }
    }

    private void scheduledCheck() {
        check();
        checkScheduled.set(false);
        // A call may have queued after the check and seen the flag still set: look once more.
        if (dispatcher.queueLength() > 0 && lifecycle.targetSize() < config.maxSize() && !health.closing()) {
            scheduleCheck();
        }
    }

    /** Grows for the calls that have waited grow-after; from the schedule above and every housekeeping tick. */
    void check() {
        if (!config.elastic() || health.closing()) {
            return;
        }
        int waiting = dispatcher.waitedAtLeast(growAfterNanos) + (refused.getAndSet(false) ? 1 : 0);
        if (lifecycle.slots() == 0) {
            waiting = Math.max(waiting, dispatcher.queueLength());
        }
        int uncovered = waiting - lifecycle.pendingSpawns();
        if (uncovered > 0) {
            lifecycle.grow(Math.min(uncovered, config.maxConcurrentSpawns()));
        }
    }
}
