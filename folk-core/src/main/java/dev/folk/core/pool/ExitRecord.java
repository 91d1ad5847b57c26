package dev.folk.core.pool;

import java.time.Instant;

/**
 * A worker that exited the pool: it was retired, stopped and reaped.
 *
 * @param pid     its pid
 * @param reason  why the pool let it go
 * @param status  how it ended ("exit 0", "killed by SIGKILL"), or "not reaped" if it could not be
 * @param jobs    calls it served
 * @param at      when its exit was recorded
 */
public record ExitRecord(int pid, ExitReason reason, String status, long jobs, Instant at) {
}
