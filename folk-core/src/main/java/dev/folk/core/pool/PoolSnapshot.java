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
 * @param size         configured number of workers
 * @param workers      live workers (starting, idle, busy, stopping)
 * @param queueLength  calls waiting for a worker now
 * @param calls        calls by outcome
 * @param exits        workers that exited, by reason
 * @param spawns       workers spawned
 * @param bootFailures failed boots (spawn errors, missed handshakes)
 * @param lastFailure  the last boot or crash failure, or null
 * @param recentExits  the most recent exits, newest first
 * @param takenAt      when this snapshot was taken
 * @param slowCalls    calls that ran past slow-call-threshold (0 while it is off)
 */
public record PoolSnapshot(String name, PoolState state, int size, List<WorkerInfo> workers, int queueLength,
                           Map<CallOutcome, Long> calls, Map<ExitReason, Long> exits, long spawns, long bootFailures,
                           @Nullable String lastFailure, List<ExitRecord> recentExits, Instant takenAt,
                           long slowCalls) {

    public long count(WorkerState state) {
        return workers.stream().filter(w -> w.state() == state).count();
    }

    /** Workers ready or serving. */
    public long ready() {
        return count(WorkerState.IDLE) + count(WorkerState.BUSY);
    }
}
