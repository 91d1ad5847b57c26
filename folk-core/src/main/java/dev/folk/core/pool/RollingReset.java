package dev.folk.core.pool;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.jspecify.annotations.Nullable;

import dev.folk.core.util.DaemonThreads;

/**
 * {@link WorkerPool#reset()}: replaces every current worker, one at a time, make before break —
 * the pool runs one worker more than its (current target) size, and each time a new one is ready an
 * old one is retired as soon as it is idle. One reset at a time, on its own thread.
 */
final class RollingReset {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    private final PoolConfig config;
    private final PoolClock clock;
    private final PoolHealth health;
    private final WorkerLifecycle lifecycle;
    private final AtomicReference<CompletableFuture<Void>> inProgress = new AtomicReference<>();

    RollingReset(PoolConfig config, PoolClock clock, PoolHealth health, WorkerLifecycle lifecycle) {
        this.config = config;
        this.clock = clock;
        this.health = health;
        this.lifecycle = lifecycle;
    }

    /** Starts a reset, or returns the one in progress. */
    CompletableFuture<Void> start() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        while (!inProgress.compareAndSet(null, done)) {
            CompletableFuture<Void> running = inProgress.get();
            if (running != null) {
                return running; // else the reset in progress ended meanwhile: start a new one
            }
        }
        long generation = lifecycle.nextGeneration();
        health.forgetBootFailures(); // a fresh start: the reset's own failures back off from the initial delay
        Thread t = DaemonThreads.newThread(() -> {
            RuntimeException failure = null;
            try {
                replace(generation);
            } catch (RuntimeException e) {
                failure = e;
            } finally {
                lifecycle.resetExtra(false); // before completing: who waits for the reset sees the pool's own size
                retireBeyondTarget(generation);
                inProgress.set(null);
            }
            if (failure == null) {
                done.complete(null);
            } else {
                done.completeExceptionally(failure);
            }
        }, "folk-" + config.name() + "-reset");
        t.start();
        return done;
    }

    /**
     * Replaces every worker whose spawn began before this reset's {@code generation} — those
     * running, and those still starting (they may have read the old code) — oldest first. One
     * leaves only when the pool keeps its size without it, so callers never find it short. A
     * worker that leaves on its own meanwhile (crash, recycling) just needs no replacement here.
     */
    private void replace(long generation) {
        long began = clock.nanoTime();
        log.info("Pool '{}': rolling reset of {} workers", config.name(), lifecycle.serving());
        // A fresh start: slots waiting for their back-off spawn now, also when no worker is left for
        // the loop below to replace (all died while the script was broken; the reset is for its fix).
        lifecycle.retryNow(generation);
        int replaced = 0;
        int toReplace = stale(generation).count();
        long deadline = clock.nanoTime() + budget();
        while (!health.closing()) {
            Stale stale = stale(generation);
            if (stale.count() == 0) {
                // Said, so that an operator sees when the pool runs only new workers and what it took;
                // "0 replaced" alone would read as a reset that did nothing when recycling beat it to them.
                int leftMeanwhile = toReplace - replaced;
                log.info("Pool '{}': rolling reset done in {} ms ({} workers replaced{})", config.name(),
                        TimeUnit.NANOSECONDS.toMillis(clock.nanoTime() - began), replaced, leftMeanwhile <= 0 ? ""
                                : "; " + leftMeanwhile + " more left on their own meanwhile (recycled, crashed) and "
                                + "were replaced as such");
                return;
            }
            PooledWorker old = stale.oldestReady();
            if (old != null && lifecycle.serving() - 1 >= lifecycle.targetSize()) {
                if (stale.count() == 1) {
                    lifecycle.resetExtra(false); // its leaving must not start one more
                }
                lifecycle.retireWhenIdle(old, ExitReason.RESET);
                replaced++;
                deadline = clock.nanoTime() + budget();
                continue;
            }
            lifecycle.resetExtra(true); // one extra: make before break
            lifecycle.retryNow(generation); // a slot that failed to boot before the reset spawns now, not after its back-off
            lifecycle.replenish();
            if (clock.nanoTime() - deadline >= 0) {
                throw new IllegalStateException("Reset of pool '" + config.name() + "' stopped after replacing "
                        + replaced + " workers: no replacement became ready (" + health.lastFailure() + ")");
            }
            LockSupport.parkNanos(2_000_000);
        }
    }

    /**
     * What a reset of one generation must still replace.
     *
     * @param count       workers ready, starting or being spawned
     * @param oldestReady the one ready the longest, or null if none is ready
     */
    private record Stale(int count, @Nullable PooledWorker oldestReady) {
    }

    /** What a reset of {@code gen} must still replace: workers whose spawn began before it. */
    private Stale stale(long gen) {
        int n = 0;
        for (SpawnAttempt a : lifecycle.spawning()) {
            if (a.generation < gen) {
                n++;
            }
        }
        PooledWorker oldest = null;
        for (PooledWorker w : lifecycle.workers()) {
            WorkerState s = w.state;
            if (w.generation >= gen || w.retired.get() || w.replaced || s == WorkerState.STOPPING) {
                continue;
            }
            n++;
            if (s != WorkerState.STARTING && (oldest == null || w.readyNanos - oldest.readyNanos < 0)) {
                oldest = w;
            }
        }
        return new Stale(n, oldest);
    }

    /**
     * Retires idle workers while more serve than the pool wants, those of earlier generations first:
     * the extra worker may not have been needed after all (an old worker left on its own meanwhile),
     * or the reset gave up with the extra running.
     */
    private void retireBeyondTarget(long generation) {
        for (boolean staleOnly : new boolean[] {true, false}) {
            for (PooledWorker w : lifecycle.workers()) {
                if (health.closing() || lifecycle.serving() <= lifecycle.target()) {
                    return;
                }
                if ((!staleOnly || w.generation < generation) && lifecycle.retireIfIdle(w, ExitReason.RESET)) {
                    log.debug("Pool '{}' retires worker {}: the reset left it beyond the pool's size", config.name(),
                            w.pid);
                }
            }
        }
    }

    /** How long one replacement may take: two boots and the longest back-off between them. */
    private long budget() {
        return 2 * config.bootTimeout().toNanos() + config.backoffMax().toNanos();
    }
}
