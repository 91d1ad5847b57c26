package dev.folk.core.pool;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.supervision.WorkerProcess.ResidentSet;

/**
 * The pool's periodic check ({@link #tick()}, every {@value WorkerPool#TICK_MILLIS} ms): kills a
 * worker past its exec deadline or its boot deadline, makes idle workers due by max-jobs,
 * max-lifetime and max-idle (an elastic pool retires an idle worker above min-size instead),
 * samples memory (max-memory makes a worker due; memory-limit kills it, even mid-call), and
 * replenishes missing slots. Its period bounds how late a timeout is enforced (plus, for a worker
 * that writes its PHP stack, at most {@link SlowCalls#KILL_TRACE_WAIT} waiting for it). Busy
 * workers also go to {@link SlowCalls} for the slow-call log.
 *
 * <p>While the pool is quiet (every worker idle, none due, none missing, no call queued) nothing
 * can time out, so it checks every {@value #QUIET_TICK_MILLIS} ms instead (or every
 * memory-check-interval, if shorter): an idle application's pools do not wake its CPU 20 times a
 * second each. A worker taken for a call or spawned ends the quiet at once ({@link #wake()}).
 */
final class Housekeeper {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    /** The period while the pool is quiet: how late max-idle, max-lifetime and shrink-after may act then. */
    static final long QUIET_TICK_MILLIS = 1000;

    private final PoolExecutors executors;
    private final long quietTickMillis;
    /**
     * The run of scheduled ticks that counts: a wake-up starts a new run at once, and a tick of an
     * older run that fires later (its quiet period scheduled before the wake-up) does nothing.
     */
    private final AtomicLong run = new AtomicLong();
    /**
     * Set by a tick before it looks at the workers, cleared when it finds something to watch or by
     * a wake-up. A worker is marked busy (or added) before {@link #wake()} reads this: either the
     * tick sees that worker, or the wake-up sees the flag and starts a new run.
     */
    private final AtomicBoolean quiet = new AtomicBoolean();
    private volatile boolean stopped;
    private Runnable alsoEveryTick = () -> { };
    /**
     * Checks done so far (tests). One thread at a time writes it: the housekeeper's, or a test's
     * {@code tick()} on a pool that does not tick.
     */
    private volatile long ticks;

    private final PoolConfig config;
    private final PoolClock clock;
    private final Dispatcher dispatcher;
    private final WorkerLifecycle lifecycle;
    private final SlowCalls slowCalls;
    private final ElasticSize elastic;
    private volatile long nextMemorySampleNanos;

    Housekeeper(PoolConfig config, PoolClock clock, PoolExecutors executors, Dispatcher dispatcher,
                WorkerLifecycle lifecycle, SlowCalls slowCalls, ElasticSize elastic) {
        this.config = config;
        this.executors = executors;
        this.quietTickMillis = Math.max(WorkerPool.TICK_MILLIS,
                Math.min(QUIET_TICK_MILLIS, config.memoryCheckInterval().toMillis()));
        this.clock = clock;
        this.dispatcher = dispatcher;
        this.lifecycle = lifecycle;
        this.slowCalls = slowCalls;
        this.elastic = elastic;
    }

    /** Starts ticking on the housekeeper thread, running {@code alsoEveryTick} before each check. */
    void start(Runnable alsoEveryTick) {
        this.alsoEveryTick = alsoEveryTick;
        schedule(run.get(), WorkerPool.TICK_MILLIS);
    }

    /** Stops ticking (the pool is closed): a tick already scheduled does nothing. */
    void stop() {
        stopped = true;
    }

    /**
     * Ends a quiet spell: a worker was taken for a call or spawned, and its deadline must be watched
     * at the usual period from now. Costs a volatile read when the housekeeper is not quiet.
     */
    void wake() {
        if (quiet.get() && quiet.compareAndSet(true, false) && !stopped) {
            schedule(run.incrementAndGet(), 0);
        }
    }

    /** Checks done so far. */
    long ticks() {
        return ticks;
    }

    private void schedule(long ofRun, long delayMillis) {
        try {
            executors.housekeeper.schedule(() -> scheduledTick(ofRun), delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            // The pool closed and its threads are shut down: nothing left to watch.
        }
    }

    private void scheduledTick(long ofRun) {
        if (stopped || run.get() != ofRun) {
            return;
        }
        boolean nothingToWatch = false;
        try {
            quiet.set(true); // before looking (see the field)
            try {
                alsoEveryTick.run();
            } catch (RuntimeException e) {
                log.error("Pool '{}' housekeeping failed", config.name(), e);
            }
            nothingToWatch = tick();
        } finally { // whatever was thrown, the pool stays watched
            if (!nothingToWatch) {
                quiet.set(false);
            }
            if (run.get() == ofRun) { // else a wake-up started a new run meanwhile
                schedule(ofRun, nothingToWatch ? quietTickMillis : WorkerPool.TICK_MILLIS);
            }
        }
    }

    /**
     * One check of every worker, as described above.
     *
     * @return whether the pool is quiet: every worker idle and not due, as many as it should run,
     *         no spawn pending and no call queued
     */
    boolean tick() {
        ticks++;
        boolean quietNow = true;
        try {
            long now = clock.nanoTime();
            boolean sampleMemory = now - nextMemorySampleNanos >= 0;
            if (sampleMemory) {
                nextMemorySampleNanos = now + config.memoryCheckInterval().toNanos();
            }
            long maxIdle = config.maxIdle().toNanos();
            long shrinkAfter = config.elastic() ? config.shrinkAfter().toNanos() : 0;
            int present = 0;
            for (PooledWorker w : lifecycle.workers()) {
                present++;
                if (w.state != WorkerState.IDLE || w.dueReason != null) {
                    quietNow = false;
                }
                switch (w.state) {
                    case BUSY -> {
                        // The call state before the deadline, as SlowCalls reads them: beginCall() writes the
                        // deadline, then sets IN_CALL. Read the other way round, a call just begun could meet
                        // the deadline of the worker's previous call (long past after an idle spell, 0 before
                        // its first) and be killed as timed out at once.
                        long msgid = w.callMsgid;
                        if (w.call.get() == PooledWorker.IN_CALL && now - w.callDeadlineNanos >= 0 && w.callMsgid == msgid
                                && w.call.compareAndSet(PooledWorker.IN_CALL, PooledWorker.TIMED_OUT)) {
                            // The worker's stack first (bounded, off this thread), then the kill.
                            slowCalls.timedOut(w, () -> {
                                w.link.abortTask();
                                w.link.kill();
                            });
                        } else {
                            slowCalls.check(w, now);
                        }
                    }
                    case STARTING -> {
                        // The state read above may be stale: only the one who settles the boot acts on it.
                        if (now - w.bootDeadlineNanos >= 0 && w.bootSettled.compareAndSet(false, true)) {
                            w.bootAborted = true;
                            w.link.abortControl();
                            w.link.kill();
                        }
                    }
                    case IDLE -> {
                        if (w.dueReason == null) {
                            ExitReason due = w.recycleReason(now);
                            long since = w.lastUsedNanos != 0 ? w.lastUsedNanos : w.readyNanos;
                            if (due == null && shrinkAfter > 0 && since != 0 && now - since > shrinkAfter
                                    && lifecycle.retireSurplus(w)) {
                                quietNow = false;
                                continue; // elastic: idle above min-size, retired without replacement
                            }
                            // Above min-size an elastic pool's idle worker is one to retire, not to replace:
                            // replaced, it would hold the pool up (a due worker) and start a worker for nothing.
                            // It is retired at a later tick, once no replacement is under way.
                            if (due == null && maxIdle > 0 && since != 0 && now - since > maxIdle
                                    && !(shrinkAfter > 0 && lifecycle.targetSize() > config.minSize())) {
                                due = ExitReason.IDLE;
                            }
                            if (due != null) {
                                quietNow = false;
                                lifecycle.markDue(w, due);
                            }
                        }
                    }
                    default -> { }
                }
                if (sampleMemory && (w.state == WorkerState.IDLE || w.state == WorkerState.BUSY) && sampleMemory(w)) {
                    quietNow = false;
                }
            }
            elastic.check();
            lifecycle.replenish();
            int target = lifecycle.target();
            return quietNow && present == target && lifecycle.slots() == target && dispatcher.queueLength() == 0;
        } catch (RuntimeException e) {
            log.error("Pool '{}' housekeeping failed", config.name(), e);
            return false;
        }
    }

    /**
     * Samples {@code w}'s memory; true if that made it due or killed it. memory-limit holds for the
     * largest process of the worker (a request's process under Scripts); max-memory for the worker's
     * own: a request's process ends with its request, and replacing the worker would free nothing.
     */
    private boolean sampleMemory(PooledWorker w) {
        ResidentSet memory = w.link.residentSet();
        if (memory.own() < 0) {
            return false;
        }
        w.rssBytes = memory.own();
        long rss = memory.largest();
        long limit = config.memoryLimitBytes();
        if (limit > 0 && rss > limit) {
            // Hard: one request must not take the machine's memory. Kill now, even mid-call.
            if (w.state == WorkerState.BUSY && w.call.compareAndSet(PooledWorker.IN_CALL, PooledWorker.MEMORY_EXCEEDED)) {
                w.rssAtKill = rss;
                log.warn("Worker {} of pool '{}' passed memory-limit {} MiB ({} MiB resident) in '{}': killing its group",
                        w.pid, config.name(), limit >> 20, rss >> 20, w.currentMethod);
                w.link.abortTask();
                w.link.kill();
            } else if (dispatcher.takeIdle(w)) {
                log.warn("Worker {} of pool '{}' passed memory-limit {} MiB ({} MiB resident) while idle: killing it",
                        w.pid, config.name(), limit >> 20, rss >> 20);
                lifecycle.exits().retire(w, ExitReason.MEMORY_LIMIT, true);
            }
            return true;
        }
        long max = config.maxMemoryBytes();
        if (max > 0 && memory.own() > max && w.dueReason == null) {
            lifecycle.markDue(w, ExitReason.MEMORY);
            return true;
        }
        return false;
    }
}
