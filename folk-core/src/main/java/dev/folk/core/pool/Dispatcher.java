package dev.folk.core.pool;

import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import dev.folk.core.util.VirtualThreads;

/**
 * Which call gets which worker: the idle workers and the FIFO queue of calls waiting for one. A
 * call takes any idle worker; only when none is idle does it wait, and a worker given back goes
 * straight to the oldest waiter, so no call waits while a worker is idle.
 *
 * <p>The lock is held only to move a worker between the idle list, the queue and a caller; nothing
 * under it blocks, allocates on the common path, or calls out of this class.
 */
final class Dispatcher {

    private final PoolConfig config;
    private final PoolClock clock;
    private final PoolHealth health;
    private final PoolStatistics stats;
    /** Describes the pool's load for an acquire timeout's message. */
    private final Supplier<String> load;
    /** The number of workers the pool runs now, for a full queue's message. */
    private final IntSupplier targetSize;
    /** Whether no worker is ready or starting: a BROKEN pool's call then fails at once (see {@link #queue}). */
    private final BooleanSupplier noneAlive;
    private final long acquireTimeoutNanos;
    /** Told, outside the lock, whenever a call found no idle worker (it queued or was refused). */
    private volatile NoFreeWorker noFreeWorker = refused -> { };
    /** Run, outside the lock, when a synchronous call is about to wait in the queue (see {@link AsyncCalls#passOnOwn}). */
    private volatile Runnable beforeWait = () -> { };
    /** Run, under the lock, each time a call takes a worker from the idle list (the housekeeper's wake-up). */
    private volatile Runnable takenFromIdle = () -> { };

    private final ReentrantLock lock = new ReentrantLock();
    /** Idle workers, the most recently used first. */
    private final ArrayDeque<PooledWorker> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    /**
     * The worker each platform thread last acquired, tried first (HikariCP's ConcurrentBag does the
     * same): a caller that keeps its worker keeps that worker's socket, buffers and process warm in
     * its core's caches instead of trading them with the other callers on every call (2 callers on
     * 2 workers: 0.51x -> 0.78x the C master's rate, BENCHMARKS.md). Weak, so a retired worker is not held by
     * threads that stopped calling. Not for virtual threads: each lives for one task, and would
     * only allocate.
     */
    private final ThreadLocal<WeakReference<PooledWorker>> lastUsed = new ThreadLocal<>();

    Dispatcher(PoolConfig config, PoolClock clock, PoolHealth health, PoolStatistics stats, Supplier<String> load,
               IntSupplier targetSize, BooleanSupplier noneAlive) {
        this.config = config;
        this.clock = clock;
        this.health = health;
        this.stats = stats;
        this.load = load;
        this.targetSize = targetSize;
        this.noneAlive = noneAlive;
        this.acquireTimeoutNanos = config.acquireTimeout().toNanos();
    }

    /** What to run when a call finds no idle worker (an elastic pool's growth); set once at construction. */
    void onNoFreeWorker(NoFreeWorker action) {
        this.noFreeWorker = action;
    }

    /**
     * What to run each time a worker is taken from the idle list, after it is marked busy (the
     * housekeeper's wake-up); set once at construction.
     */
    void onTakenFromIdle(Runnable action) {
        this.takenFromIdle = action;
    }

    /** What to run when a synchronous call is about to wait for a worker; set once at construction. */
    void onBeforeWait(Runnable action) {
        this.beforeWait = action;
    }

    /** What runs when a call finds no idle worker. */
    interface NoFreeWorker {
        /** @param refused the queue was full: the call was refused rather than queued */
        void noFreeWorker(boolean refused);
    }

    /**
     * Takes an idle worker, or waits for one in the FIFO queue until acquire-timeout after
     * {@code start}.
     *
     * @throws CallException PoolClosedException, QueueFullException or NoWorkerAvailableException
     */
    PooledWorker acquire(String method, long start) {
        SyncWaiter waiter;
        boolean noFree = false;
        boolean queued = false;
        lock.lock();
        try {
            PooledWorker w = pollIdle(method);
            if (w != null) {
                return w;
            }
            noFree = true;
            waiter = new SyncWaiter(Thread.currentThread());
            queue(waiter, method, start);
            queued = true;
        } finally {
            lock.unlock();
            if (noFree) {
                noFreeWorker.noFreeWorker(!queued);
            }
        }
        beforeWait.run();
        long deadline = start + acquireTimeoutNanos;
        while (true) {
            PooledWorker w = waiter.worker;
            if (w != null) {
                return w;
            }
            String closedWhy = waiter.closedWhy;
            if (closedWhy != null) {
                throw health.closedFailure(method, 0, closedWhy);
            }
            long left = deadline - clock.nanoTime();
            boolean interrupted = Thread.interrupted();
            if (left <= 0 || interrupted) {
                lock.lock();
                try {
                    if (waiter.worker != null) {
                        if (interrupted) {
                            Thread.currentThread().interrupt();
                        }
                        return waiter.worker;
                    }
                    waiters.remove(waiter);
                } finally {
                    lock.unlock();
                }
                long waited = clock.nanoTime() - start;
                if (interrupted) {
                    stats.record(method, CallOutcome.CANCELLED, waited, 0);
                    Thread.currentThread().interrupt();
                    throw new CallCancelledException(config.name(), method, "its thread was interrupted", waited);
                }
                stats.record(method, CallOutcome.ACQUIRE_TIMEOUT, waited, 0);
                throw new NoWorkerAvailableException(config.name(), method, config.acquireTimeout(), load.get());
            }
            LockSupport.parkNanos(this, left);
        }
    }

    /**
     * Takes an idle worker, or queues {@code waiter} (returning null) to be handed the next one.
     *
     * @throws CallException PoolClosedException or QueueFullException
     */
    @Nullable PooledWorker acquireOrQueue(Waiter waiter, String method, long start) {
        boolean noFree = false;
        boolean queued = false;
        lock.lock();
        try {
            PooledWorker w = pollIdle(method);
            if (w == null) {
                noFree = true;
                queue(waiter, method, start);
                queued = true;
            }
            return w;
        } finally {
            lock.unlock();
            if (noFree) {
                noFreeWorker.noFreeWorker(!queued);
            }
        }
    }

    /**
     * Under the lock: an idle worker, now BUSY, or null.
     *
     * @throws CallException PoolClosedException
     */
    private @Nullable PooledWorker pollIdle(String method) {
        if (health.closing()) {
            throw health.closedFailure(method, 0, null);
        }
        Thread caller = Thread.currentThread();
        boolean affine = !VirtualThreads.isVirtual(caller);
        WeakReference<PooledWorker> last = affine ? lastUsed.get() : null;
        PooledWorker w = last == null ? null : last.get();
        if (w == null || !idle.remove(w)) {
            w = idle.pollFirst();
            if (w == null) {
                return null;
            }
            if (affine) {
                lastUsed.set(new WeakReference<>(w)); // only when the caller changes workers
            }
        }
        w.state = WorkerState.BUSY;
        takenFromIdle.run();
        return w;
    }

    /**
     * Under the lock: queues a call that found no idle worker, if there is room.
     *
     * @throws CallException QueueFullException
     */
    private void queue(Waiter waiter, String method, long start) {
        if (health.state() == PoolState.BROKEN && noneAlive.getAsBoolean()) {
            // No worker of this pool could start, and none is starting now: waiting out acquire-timeout
            // would only hold the caller (a server thread, an HTTP client) for nothing, where a
            // reverse proxy in front of a PHP-FPM that is down answers at once.
            stats.record(method, CallOutcome.NO_WORKER, clock.nanoTime() - start, 0);
            throw NoWorkerAvailableException.noneCanStart(config.name(), method, load.get());
        }
        if (waiters.size() >= config.maxQueue()) {
            stats.noFreeWorker(waiters.size());
            stats.record(method, CallOutcome.QUEUE_FULL, clock.nanoTime() - start, 0);
            throw new QueueFullException(config, method, targetSize.getAsInt());
        }
        waiter.queuedNanos = clock.nanoTime();
        waiters.addLast(waiter);
        stats.noFreeWorker(waiters.size());
    }

    /** Takes an idle worker if there is one now, else null; never waits or queues. */
    @Nullable PooledWorker acquireIfIdle(String method) {
        lock.lock();
        try {
            return pollIdle(method);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Gives a ready worker to the oldest waiter, or puts it first on the idle list. False, touching
     * nothing, if it must not serve again (it exited, or its replacement is ready) or, once the pool
     * is closing, if no call is queued for it: the caller retires it. A closing pool still serves the
     * calls queued before its close began (its drain), but keeps no worker idle.
     */
    boolean offer(PooledWorker w) {
        Waiter waiter;
        lock.lock();
        try {
            if (w.exited || w.replaced) {
                return false;
            }
            waiter = waiters.pollFirst();
            if (waiter == null) {
                if (health.closing()) {
                    return false;
                }
                w.state = WorkerState.IDLE;
                idle.addFirst(w); // LIFO: a warm worker serves next; others can age out by max-idle
                return true;
            }
            w.state = WorkerState.BUSY;
            waiter.worker = w;
        } finally {
            lock.unlock();
        }
        waiter.wake();
        return true;
    }

    /** Takes a waiter that gave up out of the queue; false if a worker was handed to it meanwhile. */
    boolean withdraw(Waiter waiter) {
        lock.lock();
        try {
            return waiter.worker == null && waiters.remove(waiter);
        } finally {
            lock.unlock();
        }
    }

    /** Takes a worker off the idle list to retire it; false if a caller has it or it is gone. */
    boolean takeIdle(PooledWorker w) {
        lock.lock();
        try {
            if (idle.remove(w)) {
                w.state = WorkerState.STOPPING;
                return true;
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * At close (the pool is already closing, so nothing is queued or put on the idle list after
     * this): gives idle workers to queued calls, should there be both (a hand-over is never left
     * pending otherwise), adding those calls to {@code handedOut} to be woken, and returns the rest
     * of the idle workers, marked STOPPING. The queue itself stays: the pool's workers drain it.
     */
    List<PooledWorker> closeAndTakeIdle(List<Waiter> handedOut) {
        lock.lock();
        try {
            while (!idle.isEmpty() && !waiters.isEmpty()) {
                PooledWorker w = idle.pollFirst();
                Waiter waiter = waiters.pollFirst();
                w.state = WorkerState.BUSY;
                waiter.worker = w;
                handedOut.add(waiter);
            }
            List<PooledWorker> idleNow = new ArrayList<>(idle);
            idle.clear();
            for (PooledWorker w : idleNow) {
                w.state = WorkerState.STOPPING;
            }
            return idleNow;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Empties the queue into {@code out} (a closing pool's drain ended, or no worker is left to serve
     * it): the caller fails them. A call handed a worker before this is not among them.
     */
    void takeWaiters(List<Waiter> out) {
        lock.lock();
        try {
            out.addAll(waiters);
            waiters.clear();
        } finally {
            lock.unlock();
        }
    }

    /** Calls queued for at least {@code nanos} (the queue is FIFO: the oldest come first). */
    int waitedAtLeast(long nanos) {
        lock.lock();
        try {
            long now = clock.nanoTime();
            int n = 0;
            for (Waiter w : waiters) {
                if (now - w.queuedNanos < nanos) {
                    break;
                }
                n++;
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    int queueLength() {
        lock.lock();
        try {
            return waiters.size();
        } finally {
            lock.unlock();
        }
    }

    /** A call waiting for a worker. Handed one under the dispatcher's lock; woken outside it. */
    abstract static class Waiter {
        volatile @Nullable PooledWorker worker;
        /** Set when the closing pool gives up on it: why, for its PoolClosedException. */
        volatile @Nullable String closedWhy;
        /** When it joined the queue (set under the dispatcher's lock). */
        long queuedNanos;

        /** {@link #worker} was set: the call may go on. */
        abstract void wake();

        /**
         * The closing pool will not serve it: its drain ended, or no worker is left. {@code why}
         * completes "the pool is closed ...".
         */
        abstract void close(String why);
    }

    private static final class SyncWaiter extends Waiter {
        private final Thread thread;

        SyncWaiter(Thread thread) {
            this.thread = thread;
        }

        @Override
        void wake() {
            LockSupport.unpark(thread);
        }

        @Override
        void close(String why) {
            closedWhy = why;
            LockSupport.unpark(thread);
        }
    }
}
