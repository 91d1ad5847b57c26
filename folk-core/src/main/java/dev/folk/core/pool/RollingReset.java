package dev.folk.core.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link WorkerPool#reset()}: replaces every current worker, one at a time, make before break —
 * the pool runs one worker more than its (current target) size, and each time a new one is ready an old one is
 * retired as soon as it is idle. One reset at a time, on its own thread.
 */
final class RollingReset {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    private final PoolConfig config;
    private final PoolClock clock;
    private final PoolHealth health;
    private final PoolStatistics stats;
    private final WorkerLifecycle lifecycle;
    private final AtomicReference<CompletableFuture<Void>> inProgress = new AtomicReference<>();

    RollingReset(PoolConfig config, PoolClock clock, PoolHealth health, PoolStatistics stats,
                 WorkerLifecycle lifecycle) {
        this.config = config;
        this.clock = clock;
        this.health = health;
        this.stats = stats;
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
        List<PooledWorker> old = new ArrayList<>();
        for (PooledWorker w : lifecycle.workers()) {
            if (w.state != WorkerState.STOPPING) {
                old.add(w);
            }
        }
        Thread t = new Thread(() -> {
            RuntimeException failure = null;
            try {
                replace(old);
            } catch (RuntimeException e) {
                failure = e;
            } finally {
                lifecycle.resetExtra(false); // before completing: who waits for the reset sees the pool's own size
                inProgress.set(null);
            }
            if (failure == null) {
                done.complete(null);
            } else {
                done.completeExceptionally(failure);
            }
        }, "folk-" + config.name() + "-reset");
        t.setDaemon(true);
        t.start();
        return done;
    }

    private void replace(List<PooledWorker> old) {
        log.info("Pool '{}': rolling reset of {} workers", config.name(), old.size());
        long boots = stats.successfulBoots();
        lifecycle.resetExtra(true); // one extra: make before break
        lifecycle.replenish();
        for (int i = 0; i < old.size(); i++) {
            long deadline = clock.nanoTime() + 2 * config.bootTimeout().toNanos() + config.backoffMax().toNanos();
            while (stats.successfulBoots() <= boots + i) {
                if (health.closing()) {
                    return;
                }
                if (clock.nanoTime() - deadline >= 0) {
                    throw new IllegalStateException("Reset of pool '" + config.name() + "' stopped after " + i
                            + " of " + old.size() + " workers: no replacement became ready (" + health.lastFailure()
                            + ")");
                }
                LockSupport.parkNanos(2_000_000);
            }
            if (i == old.size() - 1) {
                lifecycle.resetExtra(false);
            }
            lifecycle.retireWhenIdle(old.get(i), ExitReason.RESET);
        }
    }
}
