package dev.folk.core.pool;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's periodic check ({@link #tick()}, every {@value WorkerPool#TICK_MILLIS} ms): kills a
 * worker past its exec deadline or its boot deadline, makes idle workers due by max-jobs,
 * max-lifetime and max-idle (an elastic pool retires an idle worker above min-size instead),
 * samples memory (max-memory makes a worker due; memory-limit kills it, even mid-call), and
 * replenishes missing slots. Its period bounds how late a timeout is enforced (plus, for a worker
 * that writes its PHP stack, at most {@link SlowCalls#KILL_TRACE_WAIT} waiting for it). Busy
 * workers also go to {@link SlowCalls} for the slow-call log.
 */
final class Housekeeper {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    private final PoolConfig config;
    private final PoolClock clock;
    private final Dispatcher dispatcher;
    private final WorkerLifecycle lifecycle;
    private final SlowCalls slowCalls;
    private final ElasticSize elastic;
    private volatile long nextMemorySampleNanos;

    Housekeeper(PoolConfig config, PoolClock clock, Dispatcher dispatcher, WorkerLifecycle lifecycle,
                SlowCalls slowCalls, ElasticSize elastic) {
        this.config = config;
        this.clock = clock;
        this.dispatcher = dispatcher;
        this.lifecycle = lifecycle;
        this.slowCalls = slowCalls;
        this.elastic = elastic;
    }

    void tick() {
        try {
            long now = clock.nanoTime();
            boolean sampleMemory = now - nextMemorySampleNanos >= 0;
            if (sampleMemory) {
                nextMemorySampleNanos = now + config.memoryCheckInterval().toNanos();
            }
            long maxIdle = config.maxIdle().toNanos();
            long shrinkAfter = config.elastic() ? config.shrinkAfter().toNanos() : 0;
            for (PooledWorker w : lifecycle.workers()) {
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
                                lifecycle.markDue(w, due);
                            }
                        }
                    }
                    default -> { }
                }
                if (sampleMemory && (w.state == WorkerState.IDLE || w.state == WorkerState.BUSY)) {
                    sampleMemory(w);
                }
            }
            elastic.check();
            lifecycle.replenish();
        } catch (RuntimeException e) {
            log.error("Pool '{}' housekeeping failed", config.name(), e);
        }
    }

    private void sampleMemory(PooledWorker w) {
        long rss = w.link.residentSetBytes();
        if (rss < 0) {
            return;
        }
        w.rssBytes = rss;
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
            return;
        }
        long max = config.maxMemoryBytes();
        if (max > 0 && rss > max && w.dueReason == null) {
            lifecycle.markDue(w, ExitReason.MEMORY);
        }
    }
}
