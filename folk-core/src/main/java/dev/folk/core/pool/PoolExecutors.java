package dev.folk.core.pool;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
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
        this.asyncRunner = growing(config.maxSize() + config.maxConcurrentSpawns() + 1, "async");
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

    /**
     * Async callers: as many threads as calls can run at once, and one more whenever all of them are
     * taken. A caller's callback runs on the thread that completed its call and may block there (on
     * a synchronous call to this same pool, say); a fixed set of threads all blocked that way would
     * leave the calls handed to them, and the workers those calls hold, waiting until acquire-timeout
     * failed the callbacks. The extra threads end after 30 s idle.
     */
    private ThreadPoolExecutor growing(int threads, String role) {
        ThreadPoolExecutor e = new ThreadPoolExecutor(threads, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), threads(role));
        e.allowCoreThreadTimeOut(true);
        return e;
    }

    private ThreadPoolExecutor executor(int threads, String role) {
        ThreadPoolExecutor e = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), threads(role));
        e.allowCoreThreadTimeOut(true);
        return e;
    }
}
