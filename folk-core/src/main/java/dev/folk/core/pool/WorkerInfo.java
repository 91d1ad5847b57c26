package dev.folk.core.pool;

import java.time.Duration;
import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * One worker at the moment of a {@link PoolSnapshot}.
 *
 * @param pid            the worker's pid (and process group)
 * @param state          starting, idle, busy or stopping
 * @param jobs           calls it has served
 * @param startedAt      when it was spawned
 * @param lastUsedAt     when its last call ended, or null if none yet
 * @param rssBytes       resident memory at the last sample, or -1 if not sampled yet
 * @param currentMethod  the method of the call in progress, or null
 * @param currentElapsed how long the call in progress has run, or null
 * @param currentLabel   what the call in progress is about, as its caller described it (for an HTTP
 *                       call, e.g. {@code GET /php/hello}), or null
 * @param leaving        whether it is due to leave (recycling, a reset) once its call in progress ends
 */
public record WorkerInfo(int pid, WorkerState state, long jobs, Instant startedAt, @Nullable Instant lastUsedAt,
                         long rssBytes, @Nullable String currentMethod, @Nullable Duration currentElapsed,
                         @Nullable String currentLabel, boolean leaving) {

    public Duration age(Instant now) {
        return Duration.between(startedAt, now);
    }
}
