package dev.folk.core.pool;

import java.io.EOFException;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.protocol.Message;
import dev.folk.core.protocol.ProtocolException;
import dev.folk.core.supervision.SpawnException;
import dev.folk.core.supervision.SupervisorClosedException;
import dev.folk.core.util.Durations;

import org.jspecify.annotations.Nullable;

/**
 * How many workers a pool runs and how each one joins: slots, spawns, the handshake, giving a
 * worker back after a call, and make-before-break replacement of workers that are due. How a
 * worker is retired and stopped is {@link WorkerExits}'s job.
 *
 * <p>A slot is one worker counting toward the pool's size, from the moment its spawn is scheduled
 * until it is retired; {@link #replenish()} starts a spawn for every missing slot, at once.
 */
final class WorkerLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    private final WorkerPool pool;
    private final PoolConfig config;
    private final PoolClock clock;
    private final WorkerHost host;
    private final PoolHealth health;
    private final PoolStatistics stats;
    private final PoolExecutors executors;
    private final Dispatcher dispatcher;
    private final WorkerExits exits;

    /** Every worker from spawn until it is reaped, by pid (a pid is unique until reaped). */
    private final ConcurrentHashMap<Integer, PooledWorker> workers = new ConcurrentHashMap<>();
    /** Workers counting toward the size: spawns scheduled or in flight, starting, idle, busy. */
    private final AtomicInteger slots = new AtomicInteger();
    /** Workers wanted now: the fixed size, or between min-size and max-size for an elastic pool. */
    private final AtomicInteger targetSize = new AtomicInteger();
    /** Held while a failed growth slot is given up ({@link #growthNoLongerWanted}). */
    private final Object givingUpGrowth = new Object();
    /** One while a rolling reset makes a new worker before it breaks an old one. */
    private volatile int resetExtra;
    /** Raised by each rolling reset: workers whose spawn began under an earlier value are replaced. */
    private volatile long generation;
    /** Runs once a spawned worker is registered (the housekeeper's wake-up: its boot deadline is watched). */
    private volatile Runnable workerAdded = () -> { };
    /** Spawns between their start and the worker's registration (a reset must wait for those it replaces). */
    private final Set<SpawnAttempt> spawning = ConcurrentHashMap.newKeySet();
    /**
     * Slots whose failed spawn waits for its back-off, each with a token of that wait. Whoever
     * removes one from here runs its spawn: the timer when the wait is over, or {@link #retryNow}
     * when a reset cuts it short. The timer removes only its own wait: a slot retried early that
     * failed again waits anew, and the old timer must not end the new wait.
     */
    private final ConcurrentHashMap<SpawnAttempt, Object> waiting = new ConcurrentHashMap<>();
    /**
     * Raised by each {@link #retryAllNow}: a failure counted before a retry but not yet waiting
     * when it looked (see {@link #bootFailed}) sees it changed and retries itself.
     */
    private final AtomicLong retries = new AtomicLong();

    // Make before break: due workers, each serving until a replacement is ready. A worker is counted
    // (which lets a replenish anywhere spawn its replacement) and queued under one lock, which a
    // replacement that becomes ready takes to find it: counted but not yet queued, it would wait for
    // a replacement forever while the one spawned for it served as one more worker.
    private final Object dueLock = new Object();
    private final ArrayDeque<PooledWorker> due = new ArrayDeque<>();
    private final AtomicInteger dueCount = new AtomicInteger();
    /** Run in {@link #markDue} between counting a due worker and queueing it: a test's way into that window. */
    static volatile @Nullable Runnable afterDueCounted;

    WorkerLifecycle(WorkerPool pool, PoolConfig config, PoolClock clock, WorkerHost host, PoolHealth health,
                    PoolStatistics stats, PoolExecutors executors, Dispatcher dispatcher) {
        this.pool = pool;
        this.config = config;
        this.clock = clock;
        this.host = host;
        this.health = health;
        this.stats = stats;
        this.executors = executors;
        this.dispatcher = dispatcher;
        this.targetSize.set(config.size());
        this.exits = new WorkerExits(pool, config, clock, host, health, stats, executors, this);
    }

    /** What to run once a spawned worker is registered; set once at construction. */
    void onWorkerAdded(Runnable action) {
        this.workerAdded = action;
    }

    WorkerExits exits() {
        return exits;
    }

    /** Every worker from spawn until it is reaped. */
    Collection<PooledWorker> workers() {
        return workers.values();
    }

    @Nullable PooledWorker worker(int pid) {
        return workers.get(pid);
    }

    /** Forgets a worker once its exit is recorded. */
    void forget(PooledWorker w) {
        workers.remove(w.pid, w);
    }

    int targetSize() {
        return targetSize.get();
    }

    /** Slots taken: spawns scheduled or in flight, starting, idle and busy workers (not those stopping). */
    int slots() {
        return slots.get();
    }

    /** With {@code on}, one worker more than the target while a rolling reset makes before it breaks. */
    void resetExtra(boolean on) {
        resetExtra = on ? 1 : 0;
    }

    /** Starts a new reset generation and returns it: every worker spawned before now is from an earlier one. */
    long nextGeneration() {
        return ++generation; // one reset at a time (RollingReset): no concurrent writer
    }

    /** Spawns begun and not yet registered as workers. */
    Collection<SpawnAttempt> spawning() {
        return spawning;
    }

    /** Workers that serve and stay: idle or busy, neither retired nor replaced (due ones count until replaced). */
    int serving() {
        int n = 0;
        for (PooledWorker w : workers.values()) {
            WorkerState s = w.state;
            if ((s == WorkerState.IDLE || s == WorkerState.BUSY) && !w.retired.get() && !w.replaced) {
                n++;
            }
        }
        return n;
    }

    /** Retires {@code w} for {@code reason} if it is idle and not replaced; false, touching nothing, otherwise. */
    boolean retireIfIdle(PooledWorker w, ExitReason reason) {
        if (w.state != WorkerState.IDLE || w.replaced || !dispatcher.takeIdle(w)) {
            return false;
        }
        exits.retire(w, reason, false);
        return true;
    }

    /**
     * The number of workers to run now: the target size, plus one during a rolling reset, plus one
     * per due worker awaiting its replacement (at most max-concurrent-spawns of them at a time).
     */
    int target() {
        return targetSize.get() + resetExtra + Math.min(dueCount.get(), config.maxConcurrentSpawns());
    }

    /** Slots not yet serving: spawns scheduled, in flight, backing off or starting (elastic growth counts them). */
    int pendingSpawns() {
        int serving = 0;
        for (PooledWorker w : workers.values()) {
            WorkerState s = w.state;
            if ((s == WorkerState.IDLE || s == WorkerState.BUSY) && !w.retired.get()) {
                serving++;
            }
        }
        return Math.max(0, slots.get() - serving);
    }

    /** Elastic growth: raises the target by up to {@code n}, never above max-size; returns by how many. */
    int grow(int n) {
        while (!health.closing()) {
            int t = targetSize.get();
            int next = Math.min(config.maxSize(), t + n);
            if (next <= t) {
                return 0;
            }
            if (targetSize.compareAndSet(t, next)) {
                log.debug("Pool '{}' grows from {} to {} workers: calls are waiting", config.name(), t, next);
                replenish();
                return next - t;
            }
        }
        return 0;
    }

    /**
     * Elastic shrinking: retires an idle worker without replacement by lowering the target by one,
     * if that stays at or above min-size. Not while a replacement is under way (a due worker, a
     * reset): the target would then count a worker about to leave, and the pool would dip below it.
     * False, touching nothing, otherwise or if it is not idle.
     */
    boolean retireSurplus(PooledWorker w) {
        int t = lowerTarget();
        if (t < 0) {
            return false;
        }
        if (!dispatcher.takeIdle(w)) {
            targetSize.incrementAndGet(); // a call took it meanwhile: keep it
            return false;
        }
        log.debug("Pool '{}' shrinks from {} to {} workers: worker {} was idle", config.name(), t, t - 1, w.pid);
        exits.retire(w, ExitReason.IDLE, false);
        return true;
    }

    /**
     * Lowers the target by one, if that stays at or above min-size and no replacement is under way
     * (see {@link #retireSurplus}); returns the target before, or -1 if it was left alone.
     */
    private int lowerTarget() {
        int t;
        do {
            t = targetSize.get();
            if (t <= config.minSize() || slots.get() != target() || dueCount.get() > 0 || resetExtra > 0) {
                return -1;
            }
        } while (!targetSize.compareAndSet(t, t - 1));
        return t;
    }

    /** Keeps the number of workers at the target: starts a spawn, at once, for every missing slot. */
    void replenish() {
        while (!health.closing()) {
            int n = slots.get();
            if (n >= target()) {
                return;
            }
            if (slots.compareAndSet(n, n + 1)) {
                scheduleSpawn(new SpawnAttempt(), 0);
            }
        }
    }

    /** Gives back the slot of a worker that no longer counts toward the size. */
    void freeSlot() {
        slots.decrementAndGet();
    }

    /** Runs the spawn of a slot now or after {@code delayNanos}; gives the slot back if the pool is shutting down. */
    private void scheduleSpawn(SpawnAttempt attempt, long delayNanos) {
        try {
            if (delayNanos > 0) {
                Object wait = new Object();
                waiting.put(attempt, wait);
                executors.housekeeper.schedule(() -> {
                    if (waiting.remove(attempt, wait)) {
                        scheduleSpawn(attempt, 0);
                    } // else a retry spawned it already
                }, delayNanos, TimeUnit.NANOSECONDS);
            } else {
                executors.run(executors.spawner, () -> spawnOne(attempt), () -> slots.decrementAndGet(), "a spawn");
            }
        } catch (RejectedExecutionException shuttingDown) {
            if (delayNanos <= 0 || waiting.remove(attempt) != null) {
                slots.decrementAndGet();
            }
        }
    }

    /**
     * Spawns now every slot whose failed spawn began before the reset of {@code generation} and
     * waits for its back-off, as if it had not failed: a reset is a fresh start (the code or its
     * environment changed: a fixed script saved, an extension installed), and must not wait for
     * the back-off of failures from before it. Once per slot and reset: if it fails again, it backs
     * off as usual.
     */
    void retryNow(long generation) {
        for (SpawnAttempt attempt : waiting.keySet()) {
            if (attempt.generation < generation) {
                retry(attempt);
            }
        }
    }

    /** Spawns now every slot that waits for its back-off, and those whose failure is being counted now. */
    void retryAllNow() {
        retries.incrementAndGet(); // before looking: a failure not yet waiting sees it (bootFailed)
        retryNow(Long.MAX_VALUE);
    }

    private void retry(SpawnAttempt attempt) {
        if (waiting.remove(attempt) != null) {
            attempt.failures = 0;
            scheduleSpawn(attempt, 0);
        }
    }

    /** Gives back a slot the pool no longer needs (a due worker was retired before its replacement was ready). */
    private boolean surplusSlot() {
        while (true) {
            int n = slots.get();
            if (n <= target()) {
                return false;
            }
            if (slots.compareAndSet(n, n - 1)) {
                return true;
            }
        }
    }

    /**
     * An elastic pool's slot above min-size whose spawn failed, about to be tried again while no call
     * waits: given up with the target, as an idle worker would be retired. The burst it was for is
     * over; at a limit on tasks every such slot would otherwise spawn the moment the limit is lifted,
     * for no call, to be retired idle soon after. The pool grows again when calls wait. A BROKEN pool
     * keeps its last such slot: only a boot that succeeds ends BROKEN, and it is the slot to try one.
     */
    private boolean growthNoLongerWanted() {
        if (!config.elastic()) {
            return false;
        }
        int t;
        // Two such slots at once (one per spawner thread) must each see the other's target and slot gone.
        synchronized (givingUpGrowth) {
            if (dispatcher.queueLength() > 0 || (health.state() == PoolState.BROKEN && pendingSpawns() <= 1)) {
                return false;
            }
            t = lowerTarget();
            if (t < 0) {
                return false;
            }
            slots.decrementAndGet();
        }
        log.debug("Pool '{}' shrinks from {} to {} workers: a spawn that failed is not tried again, no call waits",
                config.name(), t, t - 1);
        return true;
    }

    private void spawnOne(SpawnAttempt attempt) {
        if (health.closing()) {
            slots.decrementAndGet();
            return;
        }
        if (surplusSlot() || (attempt.failures > 0 && growthNoLongerWanted())) {
            return;
        }
        long t0 = clock.nanoTime();
        spawning.add(attempt); // before reading the generation: a reset that misses it here sees the new one there
        attempt.generation = generation;
        WorkerLink link;
        PooledWorker w;
        try {
            try {
                link = host.spawn();
            } catch (SupervisorClosedException e) {
                slots.decrementAndGet(); // the application is shutting down: nothing to retry
                return;
            } catch (RuntimeException e) {
                // A SpawnException names the worker, the executable and the cause; the pool's log line names the pool.
                String why = e instanceof SpawnException ? String.valueOf(e.getMessage())
                        : "cannot start a worker: " + e.getMessage();
                bootFailed(attempt, new BootFailure(0, why, null, List.of(), Instant.now()));
                return;
            }
            stats.spawned();
            PooledWorker made = new PooledWorker(link, config, stats, t0, attempt.generation);
            link.describeCallsWith(() -> made.currentLabel != null ? made.currentLabel : made.currentMethod);
            w = made;
            w.origin = attempt;
            w.bootDeadlineNanos = t0 + config.bootTimeout().toNanos();
            workers.put(w.pid, w);
            workerAdded.run();
        } finally {
            spawning.remove(attempt);
        }
        link.onExit().thenRun(() -> onProcessExit(w));
        if (health.closing()) {
            // close() may have looked at its starting workers before this one joined (or returned): its
            // boot ends now, not at boot-timeout, which a worker that never says ready would take.
            link.abortControl();
            link.kill();
        }
        try {
            handshake(w);
            if (!w.bootSettled.compareAndSet(false, true)) {
                // The housekeeper's boot timeout came first, and it kills the worker: a failed boot.
                w.bootAborted = true;
                throw new IOException("control.ready after the boot timeout");
            }
        } catch (IOException | RuntimeException e) {
            if (health.closing()) {
                exits.retire(w, ExitReason.SHUTDOWN, true);
                return;
            }
            String why = w.bootAborted || clock.nanoTime() - w.bootDeadlineNanos >= 0
                    ? "sent no control.ready within boot-timeout " + Durations.text(config.bootTimeout())
                    : e instanceof EOFException ? "ended before control.ready (it sent nothing on fd 4)"
                    : "failed its handshake: " + e.getMessage();
            // Learning how it ended takes a moment: do it off the spawner, which other slots need.
            Runnable retire = () -> exits.retireUnserved(w, why, false);
            executors.run(executors.stopper, retire, retire, "the end of worker " + w.pid + "'s boot");
            return;
        }
        long bootNanos = clock.nanoTime() - t0;
        w.readyNanos = clock.nanoTime();
        health.bootSucceeded();
        stats.notifyListeners(l -> l.workerStarted(pool, w.pid, bootNanos));
        if (serving() >= target()) {
            // Not wanted any more (a reset ended while it was starting): it leaves before serving.
            log.debug("Pool '{}' retires worker {} as it becomes ready: the pool has its size", config.name(), w.pid);
            exits.retire(w, ExitReason.RESET, false);
            return;
        }
        replaceOneDue();
        offer(w);
    }

    /** Waits for {@code control.ready} on fd 4. */
    private void handshake(PooledWorker w) throws IOException {
        Message m = w.link.awaitControl(w.bootDeadlineNanos - clock.nanoTime());
        if (!(m instanceof Message.Notify n) || !"control.ready".equals(n.method())) {
            throw new ProtocolException("worker " + w.pid + " of pool '" + config.name() + "'",
                    "expected the control.ready notification, got " + m);
        }
        w.features = WorkerFeatures.of(n.params());
    }

    /**
     * A failed boot: counts it and retries the same slot after its own back-off (the slot stays
     * taken meanwhile).
     */
    void bootFailed(SpawnAttempt attempt, BootFailure failure) {
        long retriesBefore = retries.get(); // before the failure is counted, so a retry after the count is seen
        long delay = health.bootFailed(attempt, failure);
        if (health.closing()) {
            slots.decrementAndGet();
            return;
        }
        scheduleSpawn(attempt, delay);
        if (delay > 0 && retries.get() != retriesBefore) {
            retry(attempt); // a retry came while this failure was counted, maybe before it was waiting
        }
    }

    /** From the host's exit notification when a worker's process exits: keep it short. */
    private void onProcessExit(PooledWorker w) {
        w.exited = true; // the supervisor has shut our ends of its sockets down: a call's read ends now
        if (dispatcher.takeIdle(w)) {
            if (w.jobs == 0 && !health.closing()) {
                // It ended before serving anything: a broken script must back off, not loop.
                executors.run(executors.stopper, () -> exits.retireUnserved(w,
                        "exited right after its handshake, before serving a call", true),
                        () -> exits.retire(w, ExitReason.SHUTDOWN, true), "the exit of worker " + w.pid);
            } else {
                exits.retireExitedIdle(w);
            }
        }
    }

    /**
     * After a call: a worker whose replacement is ready is retired; one that has just reached a
     * recycling limit becomes due and keeps serving until its replacement is ready; any other goes
     * to the oldest waiter or back to the idle list. While the pool closes, it goes to the oldest
     * waiter (a call queued before the close began) or, with none, is stopped.
     */
    void giveBack(PooledWorker w) {
        if (w.dueReason == null && !health.closing()) { // a closing pool replaces no worker: it serves on
            ExitReason limit = w.recycleReason(clock.nanoTime());
            if (limit != null) {
                markDue(w, limit);
            }
        }
        offer(w);
    }

    /** Hands a ready worker to a waiter or the idle list, or retires it if it must not serve again. */
    @SuppressWarnings("NullAway") // a replaced worker is due: its dueReason is set
    private void offer(PooledWorker w) {
        if (!dispatcher.offer(w)) {
            ExitReason why = health.closing() ? ExitReason.SHUTDOWN : w.exited ? ExitReason.CRASH : w.dueReason;
            exits.retire(w, why, w.exited);
        }
    }

    /**
     * Marks a worker due for {@code reason} and asks for its replacement. It keeps serving until the
     * replacement is ready ({@link #replaceOneDue()}): healthy retirements never leave the pool
     * short, and never wait for somebody else's failing boots.
     */
    void markDue(PooledWorker w, ExitReason reason) {
        if (!w.markDue(reason) || w.retired.get()) {
            return;
        }
        synchronized (dueLock) {
            if (w.awaitingReplacement.compareAndSet(false, true)) {
                dueCount.incrementAndGet();
                Runnable hook = afterDueCounted;
                if (hook != null) {
                    hook.run();
                }
                due.add(w);
            }
        }
        log.debug("Worker {} of pool '{}' is due ({}); it serves until its replacement is ready", w.pid,
                config.name(), reason.tag());
        replenish();
    }

    /** A new worker is ready: the oldest due worker is replaced (retired at once if idle, else after its call). */
    @SuppressWarnings("NullAway") // a worker in the due queue has its dueReason set
    private void replaceOneDue() {
        PooledWorker old;
        synchronized (dueLock) {
            do {
                old = due.poll();
            } while (old != null && !(stopAwaitingReplacement(old) && !old.retired.get()));
        }
        if (old != null) {
            old.replaced = true;
            if (dispatcher.takeIdle(old)) {
                exits.retire(old, old.dueReason, false);
            }
        }
    }

    /** It no longer counts as a due worker awaiting a replacement; true if it did. */
    boolean stopAwaitingReplacement(PooledWorker w) {
        if (w.awaitingReplacement.compareAndSet(true, false)) {
            dueCount.decrementAndGet();
            return true;
        }
        return false;
    }

    /** Retires a worker as soon as it is idle, without waiting for a replacement of its own (reset). */
    @SuppressWarnings("NullAway") // markDue leaves dueReason set
    void retireWhenIdle(PooledWorker w, ExitReason reason) {
        w.markDue(reason);
        stopAwaitingReplacement(w);
        w.replaced = true;
        if (dispatcher.takeIdle(w)) {
            exits.retire(w, w.dueReason, false);
        }
    }
}
