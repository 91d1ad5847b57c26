package dev.folk.core.pool;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * A consistent-enough picture of a pool for health, metrics and the workers endpoint. Counters
 * are cumulative since the pool was created.
 *
 * @param name         the pool's name
 * @param state        the pool's state
 * @param size         configured number of workers (an elastic pool's starting size)
 * @param workers      live workers (starting, idle, busy, stopping)
 * @param queueLength  calls waiting for a worker now
 * @param calls        calls by outcome
 * @param exits        workers that exited, by reason
 * @param spawns       workers spawned
 * @param bootFailures failed boots (spawn errors, missed handshakes)
 * @param lastFailure  the last boot or crash failure, or null
 * @param lastFailureAt when the last failure happened, or null without one
 * @param recentExits  the most recent exits, newest first
 * @param takenAt      when this snapshot was taken
 * @param slowCalls    calls that ran past slow-call-threshold (0 while it is off)
 * @param sizing       the pool's size bounds and its target now
 * @param saturation   how close the pool came to running out of workers
 */
public record PoolSnapshot(String name, PoolState state, int size, List<WorkerInfo> workers, int queueLength,
                           Map<CallOutcome, Long> calls, Map<ExitReason, Long> exits, long spawns, long bootFailures,
                           @Nullable String lastFailure, @Nullable Instant lastFailureAt, List<ExitRecord> recentExits, Instant takenAt,
                           long slowCalls, Sizing sizing, Saturation saturation) {

    public long count(WorkerState state) {
        return workers.stream().filter(w -> w.state() == state).count();
    }

    /** Workers ready or serving. */
    public long ready() {
        return count(WorkerState.IDLE) + count(WorkerState.BUSY);
    }

    /** Workers counting toward the size now: starting, idle or busy (not those stopping). */
    public long currentSize() {
        return ready() + count(WorkerState.STARTING);
    }

    /**
     * The size of the pool. For a fixed pool min = max = target = size.
     *
     * @param min     fewest workers an elastic pool keeps
     * @param max     most workers an elastic pool grows to
     * @param target  workers the pool wants now (between min and max); a rolling reset or a
     *                recycled worker adds one for a moment (make before break)
     * @param elastic whether the pool grows and shrinks
     */
    public record Sizing(int min, int max, int target, boolean elastic) {
    }

    /**
     * What PHP-FPM's status page shows as listen queue, max listen queue, active processes, max
     * active processes and max children reached. The maxima are since the pool was created, the
     * recent ones over the last one to two minutes.
     *
     * @param busy                 calls running on a worker now
     * @param maxBusy              most calls running at once
     * @param recentMaxBusy        most calls running at once recently
     * @param maxQueueLength       longest the queue has been
     * @param recentMaxQueueLength longest the queue has been recently
     * @param noFreeWorker         calls that found no idle worker and had to queue or were refused
     */
    public record Saturation(int busy, int maxBusy, int recentMaxBusy, int maxQueueLength, int recentMaxQueueLength,
                             long noFreeWorker) {
    }
}
