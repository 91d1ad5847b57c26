package dev.folk.core.pool;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads of one pool, all daemons named {@code folk-<pool>-<role>-<n>}: the housekeeper
 * (ticks, back-off delays, async acquire timeouts), spawners (bounded by max-concurrent-spawns),
 * stoppers (a graceful stop waits for the worker to exit) and async callers.
 */
final class PoolExecutors {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);
    private static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** A task no thread could be started for, tried again every second. */
    private record Deferred(ThreadPoolExecutor executor, Runnable task, Runnable whenShutDown, String what) {

        /** An async call that waited past its deadline: abandoned rather than tried again. */
        boolean expired() {
            return task instanceof Abandonable a && a.expired();
        }
    }

    final ScheduledThreadPoolExecutor housekeeper;
    final ThreadPoolExecutor spawner;
    final ThreadPoolExecutor stopper;
    final ThreadPoolExecutor asyncRunner;
    private final String poolName;
    private final ConcurrentLinkedQueue<Deferred> deferred = new ConcurrentLinkedQueue<>();
    /** When deferred tasks are tried next (housekeeper thread only): each failed thread start logs the JVM's own warning. */
    private long nextRetryNanos;

    PoolExecutors(PoolConfig config) {
        this.poolName = config.name();
        this.housekeeper = new ScheduledThreadPoolExecutor(1, threads("housekeeper"));
        housekeeper.setRemoveOnCancelPolicy(true);
        this.spawner = executor(config.maxConcurrentSpawns(), "spawn");
        this.stopper = executor(Math.max(2, config.maxSize()), "stop");
        this.asyncRunner = growing(config.maxSize() + config.maxConcurrentSpawns() + 1, "async");
    }

    /**
     * Runs {@code task} on {@code executor} (the spawner or the stopper), or {@code whenShutDown} at
     * once if the executor is shut down. When the JVM cannot start a thread for it (an
     * OutOfMemoryError, "unable to create native thread": the limit on the processes and threads of
     * the JVM's user or container, which the PHP workers count against too), the task is kept and
     * tried again every second: a worker's exit is still handled and its slot filled,
     * a spawn still made, once a thread can be started. The threads end after 30 s idle, so any
     * task may need a new one.
     *
     * @return false if the task had to wait for a thread (what the caller can do without one, it
     *         should do now)
     */
    boolean run(ThreadPoolExecutor executor, Runnable task, Runnable whenShutDown, String what) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            whenShutDown.run();
        } catch (OutOfMemoryError e) {
            defer(new Deferred(executor, task, whenShutDown, what), e);
            return false;
        }
        return true;
    }

    /**
     * The async callers' executor as {@link AsyncCalls} uses it: it throws RejectedExecutionException
     * once shut down; a call no thread could be started for is kept as {@link #run} keeps a task (it
     * holds a worker), and run on the housekeeper's thread if the pool has shut its threads down
     * meanwhile. An {@link Abandonable} call still without a thread at its deadline is abandoned.
     */
    Executor asyncCallers() {
        return task -> {
            try {
                asyncRunner.execute(task);
            } catch (OutOfMemoryError e) {
                defer(new Deferred(asyncRunner, task, task, "an asynchronous call"), e);
            }
        };
    }

    private void defer(Deferred task, OutOfMemoryError e) {
        boolean first = deferred.isEmpty();
        deferred.add(task);
        if (first) {
            log.error("Pool '{}': the JVM could not start a thread for {} ({}); it is tried again every second until one "
                    + "starts{}. Raise the limit on processes and threads of the JVM's user (ulimit -u) or of its container "
                    + "(pids.max): the JVM's threads and every PHP worker and its children count against it", poolName,
                    task.what(), e.getMessage(), task.task() instanceof Abandonable ? " or the call has waited acquire-timeout" : "");
        }
    }

    /** At each housekeeping tick, at most once a second: the tasks no thread could be started for, tried again. */
    void retryDeferred() {
        if (deferred.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        if (now - nextRetryNanos < 0) {
            return;
        }
        nextRetryNanos = now + RETRY_NANOS;
        int ran = 0;
        boolean threadsStart = true;
        for (int n = deferred.size(); n > 0; n--) {
            Deferred d = deferred.poll();
            if (d == null) {
                break;
            }
            if (d.expired()) {
                abandon(d);
                continue;
            }
            if (!threadsStart) {
                deferred.add(d); // looked at again at the next retry, and abandoned in time if it expires
                continue;
            }
            try {
                d.executor().execute(d.task());
                ran++;
            } catch (RejectedExecutionException e) {
                d.whenShutDown().run();
            } catch (OutOfMemoryError e) {
                if (d.executor() == stopper) {
                    stopHere(d);
                    continue;
                }
                deferred.add(d);
                threadsStart = false;
            }
        }
        if (ran > 0 && deferred.isEmpty()) {
            log.info("Pool '{}': threads start again; {} task{} that had to wait for one now run{}", poolName, ran,
                    ran == 1 ? "" : "s", ran == 1 ? "s" : "");
        }
    }

    /**
     * An async call that waited acquire-timeout without a thread: failed here, its worker given back
     * (a synchronous caller runs its call on its own thread). Waiting on would leave its caller, an
     * HTTP client say, with no answer for as long as the limit lasts.
     */
    private void abandon(Deferred d) {
        try {
            ((Abandonable) d.task()).abandon();
        } catch (RuntimeException e) {
            log.warn("Pool '{}': ending {} that no thread could be started for failed", poolName, d.what(), e);
        }
    }

    /**
     * A stop still without a thread of its own runs on this one. Its worker was sent EOF when the stop
     * had to wait ({@link WorkerExits}), so it has usually exited and the stop only reaps it; until
     * reaped it holds its task, and at a limit on tasks the stop's own thread could never start.
     * This thread's ticks wait meanwhile: at most until the stop's deadline, close-wait + stop-grace.
     */
    private void stopHere(Deferred d) {
        log.warn("Pool '{}': still no thread could be started for {}; it runs on the pool's housekeeping thread",
                poolName, d.what());
        try {
            d.task().run();
        } catch (RuntimeException e) {
            log.warn("Pool '{}': {} failed", poolName, d.what(), e);
        }
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
