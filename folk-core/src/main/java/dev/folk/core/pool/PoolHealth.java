package dev.folk.core.pool;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.jspecify.annotations.Nullable;

import dev.folk.core.util.Durations;

/**
 * Whether a pool can serve and start workers: its {@link PoolState}, whether it is closing, and its
 * boot failures — the back-off of each failing spawn ({@link BootBackoff}), the BROKEN state when
 * they pile up, and the last failure to show users.
 */
final class PoolHealth {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    private final WorkerPool pool;
    private final PoolConfig config;
    private final PoolClock clock;
    private final PoolStatistics stats;
    private final AtomicReference<PoolState> state = new AtomicReference<>(PoolState.NEW);
    /** Set once by close(), before anything else it does: from then on no call starts, nothing spawns. */
    private volatile boolean closing;
    /** The drain timeout close() was given (the configured one unless it was passed another): what failures quote. */
    private volatile @Nullable Duration drainTimeout;

    private final Object failureLock = new Object();
    private final BootBackoff backoff;
    private @Nullable String lastFailureSignature;
    private int sameFailuresInARow;
    /** The last failure and when it happened, one object so that they are always read together. */
    private volatile @Nullable LastFailure lastFailure;
    private volatile @Nullable BootFailure lastBootFailure;

    PoolHealth(WorkerPool pool, PoolConfig config, PoolClock clock, PoolStatistics stats) {
        this.pool = pool;
        this.config = config;
        this.clock = clock;
        this.stats = stats;
        this.backoff = new BootBackoff(config.backoffInitial(), config.backoffMax(), config.brokenThreshold(),
                config.brokenWindow());
    }

    @SuppressWarnings("NullAway") // the state is never null
    PoolState state() {
        return state.get();
    }

    boolean closing() {
        return closing;
    }

    /** NEW -> STARTING; false if the pool was started before. */
    boolean starting() {
        if (!state.compareAndSet(PoolState.NEW, PoolState.STARTING)) {
            return false;
        }
        fireStateChanged(PoolState.NEW, PoolState.STARTING);
        return true;
    }

    /** Marks the pool closing and DRAINING. */
    void draining(Duration drainTimeout) {
        this.drainTimeout = drainTimeout;
        closing = true;
        PoolState before = state.getAndSet(PoolState.DRAINING);
        if (before != PoolState.DRAINING) {
            fireStateChanged(before, PoolState.DRAINING);
        }
    }

    void closed() {
        PoolState last = state.getAndSet(PoolState.CLOSED);
        fireStateChanged(last, PoolState.CLOSED);
    }

    /** The failure of a call the closing pool refused (counted as POOL_CLOSED if it never got a worker). */
    PoolClosedException closedFailure(String method, int pid, @Nullable String detail) {
        if (pid == 0) {
            stats.record(method, CallOutcome.POOL_CLOSED, 0, 0);
        }
        return new PoolClosedException(config.name(), method, pid, detail);
    }

    /** The drain timeout of the pool's close, once it began; the configured one before. */
    Duration drainTimeout() {
        Duration d = drainTimeout;
        return d != null ? d : config.drainTimeout();
    }

    @Nullable String lastFailure() {
        LastFailure last = lastFailure;
        return last == null ? null : last.message();
    }

    /** The last failure with its time: an operator must tell one of a minute ago from one of last week. */
    @Nullable LastFailure lastFailureWithTime() {
        return lastFailure;
    }

    void lastFailure(String failure) {
        lastFailure = new LastFailure(failure, Instant.now());
    }

    /** A failure to show users, and when it happened. */
    record LastFailure(String message, Instant at) {
    }

    @Nullable BootFailure lastBootFailure() {
        return lastBootFailure;
    }

    /**
     * No worker ever booted and the last {@value WorkerPool#FAIL_FAST_AFTER} attempts, all made since
     * {@code failuresBefore} was read, failed alike.
     */
    boolean failingEveryBoot(long failuresBefore) {
        if (stats.successfulBoots() > 0) {
            return false;
        }
        long sinceWaitBegan = stats.bootFailures() - failuresBefore;
        synchronized (failureLock) {
            return Math.min(sameFailuresInARow, sinceWaitBegan) >= WorkerPool.FAIL_FAST_AFTER;
        }
    }

    /**
     * A boot failed: counts it, marks the pool BROKEN if failures pile up, and returns how long the
     * failing spawn waits before its next attempt.
     */
    long bootFailed(SpawnAttempt attempt, BootFailure failure) {
        stats.bootFailed();
        lastFailure(failure.message());
        lastBootFailure = failure;
        long delay;
        boolean broken;
        boolean sameAsBefore;
        synchronized (failureLock) {
            attempt.failures++;
            long now = clock.nanoTime();
            delay = backoff.failed(now, attempt.failures, ThreadLocalRandom.current().nextDouble());
            broken = backoff.broken(now);
            String signature = failure.signature();
            sameAsBefore = signature.equals(lastFailureSignature);
            sameFailuresInARow = sameAsBefore ? sameFailuresInARow + 1 : 1;
            lastFailureSignature = signature;
        }
        if (broken) {
            transition(PoolState.BROKEN);
        }
        // A worker's failure names its pool already ("worker 123 of pool 'x' ..."); a spawn's does not.
        String subject = failure.pid() == 0 ? "Pool '" + config.name() + "': " : "";
        // A script that cannot boot fails every retry alike, every backoff-max while BROKEN: its output
        // (a parse error, often several lines) is quoted once, not again at each attempt.
        String what = failure.toString(); // quoted output stays as printed
        if (failure.output().isEmpty() || sameAsBefore) {
            what = failure.message();
            if (what.endsWith(".")) { // a message of its own ends its sentence
                what = what.substring(0, what.length() - 1);
            }
            if (!failure.output().isEmpty()) {
                what += ", with the same output as the failed boot before";
            }
        }
        // After quoted output, the attempt goes on a line of its own: read after PHP's last line, "; next
        // attempt" looked like part of PHP's message.
        String then = what.indexOf('\n') >= 0 ? "\n" : "; ";
        log.warn("{}{}{}next attempt in {} ms{}", subject, what, then,
                TimeUnit.NANOSECONDS.toMillis(delay), broken ? " (pool BROKEN: " + config.brokenThreshold()
                        + " failures within " + Durations.text(config.brokenWindow()) + ")" : "");
        stats.notifyListeners(l -> l.bootFailed(pool, failure));
        return delay;
    }

    /** Forgets the boot failures so far: a reset starts afresh, its first failure waits the initial back-off. */
    void forgetBootFailures() {
        synchronized (failureLock) {
            backoff.forget();
            sameFailuresInARow = 0;
            lastFailureSignature = null;
        }
    }

    void bootSucceeded() {
        stats.bootSucceeded();
        synchronized (failureLock) {
            sameFailuresInARow = 0;
            lastFailureSignature = null;
        }
        PoolState s = state.get();
        if (s == PoolState.STARTING || s == PoolState.BROKEN) {
            transition(PoolState.RUNNING);
        }
    }

    @SuppressWarnings("NullAway") // the state is never null
    private void transition(PoolState to) {
        while (true) {
            PoolState from = state.get();
            if (from == to || from == PoolState.DRAINING || from == PoolState.CLOSED || from == PoolState.NEW) {
                return;
            }
            if (state.compareAndSet(from, to)) {
                fireStateChanged(from, to);
                return;
            }
        }
    }

    private void fireStateChanged(PoolState from, PoolState to) {
        if (to == PoolState.BROKEN) { // what an operator alerts on: its workers cannot start
            log.warn("Pool '{}' {} -> {}", config.name(), from, to);
        } else {
            log.info("Pool '{}' {} -> {}", config.name(), from, to);
        }
        stats.notifyListeners(l -> l.stateChanged(pool, from, to));
    }
}
