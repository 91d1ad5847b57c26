package dev.folk.core.pool;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * When to retry a spawn that failed, and whether the pool is BROKEN. Pure arithmetic: time and
 * randomness are passed in, so every case can be tested without processes or clocks.
 *
 * <p>Back-off belongs to one failing spawn, not to the pool: the n-th consecutive failure of the
 * same spawn waits {@code initial * 2^(n-1)} (capped at {@code max}), with full jitter in
 * [delay/2, delay] so pools failing together do not retry in lockstep. Replacing a worker that
 * crashed, or one retired for its age, never waits for somebody else's failures. While the pool is
 * BROKEN ({@code threshold} failures within {@code window}), every retry waits the cap.
 *
 * <p>Not thread-safe: the pool calls it under its own lock.
 */
final class BootBackoff {

    private final long initialNanos;
    private final long maxNanos;
    private final int threshold;
    private final long windowNanos;
    private final ArrayDeque<Long> failures = new ArrayDeque<>();

    BootBackoff(Duration initial, Duration max, int threshold, Duration window) {
        this.initialNanos = initial.toNanos();
        this.maxNanos = max.toNanos();
        this.threshold = threshold;
        this.windowNanos = window.toNanos();
    }

    /**
     * Records a failed boot at {@code now} and returns how long the failing spawn waits before its
     * next attempt.
     *
     * @param attempt how many times in a row this spawn has now failed (1 for its first failure)
     * @param random  a number in [0, 1): the jitter
     */
    long failed(long now, int attempt, double random) {
        failures.addLast(now);
        forgetOld(now);
        long base = broken(now) ? maxNanos
                : Math.min(maxNanos, initialNanos << Math.min(30, Math.max(0, attempt - 1)));
        if (base < 0) {
            base = maxNanos; // overflowed the shift
        }
        return base / 2 + (long) (random * (base / 2));
    }

    /** Whether {@code threshold} failures happened within the window ending at {@code now}. */
    boolean broken(long now) {
        forgetOld(now);
        return failures.size() >= threshold;
    }

    /** Failures within the window ending at {@code now}. */
    int recentFailures(long now) {
        forgetOld(now);
        return failures.size();
    }

    /** Forgets every failure: the next one counts as the first within the window. */
    void forget() {
        failures.clear();
    }

    private void forgetOld(long now) {
        while (!failures.isEmpty() && now - failures.peekFirst() > windowNanos) {
            failures.pollFirst();
        }
    }
}
