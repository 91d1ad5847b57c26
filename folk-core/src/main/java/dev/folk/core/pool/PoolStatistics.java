package dev.folk.core.pool;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a pool counts — calls by outcome, exits by reason, spawns, boots, the most recent exits —
 * and the {@link PoolListener}s told of each event. Lock-free: {@link #record} runs on every call.
 */
final class PoolStatistics {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);
    private static final int RECENT_EXITS = 32;

    private final WorkerPool pool;
    private final LongAdder[] callCounts = adders(CallOutcome.values().length);
    private final LongAdder[] exitCounts = adders(ExitReason.values().length);
    private final LongAdder spawns = new LongAdder();
    private final LongAdder bootFailures = new LongAdder();
    private final LongAdder slowCalls = new LongAdder();
    private final AtomicLong successfulBoots = new AtomicLong();
    private final ConcurrentLinkedDeque<ExitRecord> recentExits = new ConcurrentLinkedDeque<>();
    // Saturation (PHP-FPM's status page): lock-free, no allocation; busy changes on every call.
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicInteger maxBusy = new AtomicInteger();
    private final AtomicInteger maxQueued = new AtomicInteger();
    private final LongAdder noFreeWorker = new LongAdder();
    private final RecentMax recentBusy;
    private final RecentMax recentQueued;
    /** Copy-on-write: added to rarely, read on every call without an iterator or a lock. */
    private volatile PoolListener[] listeners = new PoolListener[0];

    /** Window of the recent maxima (see {@link RecentMax}): the highest within the last 1 to 2 minutes. */
    static final long RECENT_WINDOW_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(1);

    PoolStatistics(WorkerPool pool, PoolClock clock) {
        this.pool = pool;
        this.recentBusy = new RecentMax(clock, RECENT_WINDOW_NANOS);
        this.recentQueued = new RecentMax(clock, RECENT_WINDOW_NANOS);
    }

    synchronized void addListener(PoolListener listener) {
        PoolListener[] next = Arrays.copyOf(listeners, listeners.length + 1);
        next[listeners.length] = listener;
        listeners = next;
    }

    /** A call ended: counts it and tells the listeners. */
    void record(String method, CallOutcome outcome, long waitNanos, long execNanos) {
        callCounts[outcome.ordinal()].increment();
        for (PoolListener l : listeners) { // on every call: no lambda, no iterator
            try {
                l.callCompleted(pool, method, outcome, waitNanos, execNanos);
            } catch (RuntimeException e) {
                log.warn("Pool '{}': listener {} failed", pool.name(), l, e);
            }
        }
    }

    /** A call began on a worker. */
    void callStarted() {
        int n = busy.incrementAndGet();
        RecentMax.raise(maxBusy, n);
        recentBusy.record(n);
    }

    /** A call on a worker ended (whatever its outcome). */
    void callEnded() {
        busy.decrementAndGet();
    }

    /** A call found no idle worker: it queued (the queue now {@code queued} long) or was refused. */
    void noFreeWorker(int queued) {
        noFreeWorker.increment();
        RecentMax.raise(maxQueued, queued);
        recentQueued.record(queued);
    }

    int busy() {
        return busy.get();
    }

    int maxBusy() {
        return maxBusy.get();
    }

    int maxQueued() {
        return maxQueued.get();
    }

    int recentMaxBusy() {
        return recentBusy.get();
    }

    int recentMaxQueued() {
        return recentQueued.get();
    }

    long noFreeWorker() {
        return noFreeWorker.sum();
    }

    void spawned() {
        spawns.increment();
    }

    void bootFailed() {
        bootFailures.increment();
    }

    void bootSucceeded() {
        successfulBoots.incrementAndGet();
    }

    long successfulBoots() {
        return successfulBoots.get();
    }

    long bootFailures() {
        return bootFailures.sum();
    }

    long spawns() {
        return spawns.sum();
    }

    /** A call ran past slow-call-threshold (counted once per call). */
    void slowCall() {
        slowCalls.increment();
    }

    long slowCalls() {
        return slowCalls.sum();
    }

    /** A worker exited: counts it, keeps it among the recent exits, tells the listeners. */
    void exited(ExitRecord record) {
        exitCounts[record.reason().ordinal()].increment();
        recentExits.addFirst(record);
        while (recentExits.size() > RECENT_EXITS) {
            recentExits.pollLast();
        }
    }

    Map<CallOutcome, Long> calls() {
        Map<CallOutcome, Long> calls = new EnumMap<>(CallOutcome.class);
        for (CallOutcome o : CallOutcome.values()) {
            calls.put(o, callCounts[o.ordinal()].sum());
        }
        return calls;
    }

    Map<ExitReason, Long> exits() {
        Map<ExitReason, Long> exits = new EnumMap<>(ExitReason.class);
        for (ExitReason r : ExitReason.values()) {
            exits.put(r, exitCounts[r.ordinal()].sum());
        }
        return exits;
    }

    List<ExitRecord> recentExits() {
        return List.copyOf(recentExits);
    }

    /** A listener that throws must not break the pool's bookkeeping: log it and go on. */
    void notifyListeners(Consumer<PoolListener> event) {
        for (PoolListener l : listeners) {
            try {
                event.accept(l);
            } catch (RuntimeException e) {
                log.warn("Pool '{}': listener {} failed", pool.name(), l, e);
            }
        }
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }
}
