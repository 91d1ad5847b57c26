package dev.folk.core.pool;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads of one pool, all daemons named {@code folk-<pool>-<role>-<n>}: the housekeeper
 * (ticks, back-off delays, async acquire timeouts), spawners (bounded by max-concurrent-spawns),
 * stoppers (a graceful stop waits for the worker to exit) and async callers.
 */
final class PoolExecutors {

    final ScheduledThreadPoolExecutor housekeeper;
    final ThreadPoolExecutor spawner;
    final ThreadPoolExecutor stopper;
    final ThreadPoolExecutor asyncRunner;
    private final String poolName;

    PoolExecutors(PoolConfig config) {
        this.poolName = config.name();
        this.housekeeper = new ScheduledThreadPoolExecutor(1, threads("housekeeper"));
        housekeeper.setRemoveOnCancelPolicy(true);
        this.spawner = executor(config.maxConcurrentSpawns(), "spawn");
        this.stopper = executor(Math.max(2, config.maxSize()), "stop");
        this.asyncRunner = executor(config.maxSize() + config.maxConcurrentSpawns() + 1, "async");
    }

    /** At close, once every worker is gone: pending spawns and timers are dropped, stops and calls finish. */
    void shutdown() {
        housekeeper.shutdownNow();
        spawner.shutdownNow();
        stopper.shutdown();
        asyncRunner.shutdown();
    }

    private ThreadFactory threads(String role) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "folk-" + poolName + "-" + role + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private ThreadPoolExecutor executor(int threads, String role) {
        ThreadPoolExecutor e = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), threads(role));
        e.allowCoreThreadTimeOut(true);
        return e;
    }
}
