package dev.folk.core.pool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.protocol.FrameTooLargeException;
import dev.folk.core.protocol.Message;
import dev.folk.core.protocol.MessageCodec;
import dev.folk.core.protocol.ProtocolException;
import dev.folk.core.protocol.RemoteError;
import dev.folk.core.protocol.Values;
import dev.folk.core.supervision.ChannelResetException;
import dev.folk.core.supervision.ExitStatus;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerProcess;
import dev.folk.core.supervision.SupervisorClosedException;
import dev.folk.core.supervision.WorkerChannel;

/**
 * A fixed-size pool of worker processes speaking the Folk protocol, called from many threads.
 *
 * <p>Dispatch: a call takes any idle worker; only when none is idle does it wait, in a bounded
 * FIFO queue, for the next worker released — which is handed to the oldest waiter directly, so
 * no call waits while a worker is idle. The caller's own thread does the socket I/O (no hand-off
 * to an I/O thread on the hot path); async calls run theirs on a small executor.
 *
 * <p>Every call ends, with a result or a {@link CallException}, within acquire-timeout +
 * exec-timeout + a tick: a housekeeper thread kills the group of a worker past its exec deadline,
 * which wakes the blocked caller. Workers are recycled softly (max-jobs with jitter, max-lifetime,
 * max-idle, max-memory: a busy worker finishes its call first) and replaced at once when they
 * leave; failed boots back off exponentially with jitter up to a cap, and repeated ones mark the
 * pool {@link PoolState#BROKEN} while it keeps retrying.
 */
public final class WorkerPool implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    /** Housekeeping period: bounds how late an exec or boot timeout is enforced. */
    private static final long TICK_MILLIS = 50;
    private static final int RECENT_EXITS = 32;
    /** A write that fails delivered nothing: the call may safely try another worker, this often. */
    private static final int MAX_UNDELIVERED_RETRIES = 3;

    private final PoolConfig config;
    private final String name;
    private final Supervisor supervisor;
    private final long acquireTimeoutNanos;
    private final long execTimeoutNanos;

    // Dispatch. The lock is held only to move a worker between idle list, waiter queue and caller.
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<PooledWorker> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

    // Membership: every worker from spawn until it is reaped, by pid (a pid is unique until reaped).
    private final ConcurrentHashMap<Integer, PooledWorker> workers = new ConcurrentHashMap<>();
    /** Workers counting toward the size: spawns scheduled or in flight, starting, idle, busy. */
    private final AtomicInteger slots = new AtomicInteger();
    private volatile int targetSize;

    private final AtomicReference<PoolState> state = new AtomicReference<>(PoolState.NEW);
    private volatile boolean closing;
    private final AtomicBoolean closeStarted = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicReference<CompletableFuture<Void>> resetInProgress = new AtomicReference<>();

    private final ScheduledThreadPoolExecutor housekeeper;
    private final ThreadPoolExecutor spawner;
    private final ThreadPoolExecutor stopper;
    private final ThreadPoolExecutor asyncRunner;
    private ScheduledFuture<?> ticker;

    // Make before break: workers due to leave, each serving until a replacement is ready.
    private final ConcurrentLinkedQueue<PooledWorker> due = new ConcurrentLinkedQueue<>();
    private final AtomicInteger dueCount = new AtomicInteger();

    // Boot failures and back-off (per failing spawn; see BootBackoff).
    private final Object failureLock = new Object();
    private final BootBackoff backoff;
    private String lastFailureSignature;
    private int sameFailuresInARow;
    private volatile String lastFailure;
    private volatile BootFailure lastBootFailure;
    private volatile long nextMemorySampleNanos;

    // Statistics.
    private final LongAdder[] callCounts = adders(CallOutcome.values().length);
    private final LongAdder[] exitCounts = adders(ExitReason.values().length);
    private final LongAdder spawns = new LongAdder();
    private final LongAdder bootFailures = new LongAdder();
    private final AtomicLong successfulBoots = new AtomicLong();
    private final ConcurrentLinkedDeque<ExitRecord> recentExits = new ConcurrentLinkedDeque<>();
    /** Copy-on-write: added to rarely, read on every call without an iterator or a lock. */
    private volatile PoolListener[] listeners = new PoolListener[0];

    /** Creates the pool; {@link #start()} spawns its workers. */
    public WorkerPool(PoolConfig config, Supervisor supervisor) {
        this.config = config;
        this.name = config.name();
        this.supervisor = supervisor;
        this.acquireTimeoutNanos = config.acquireTimeout().toNanos();
        this.execTimeoutNanos = config.execTimeout().toNanos();
        this.targetSize = config.size();
        this.backoff = new BootBackoff(config.backoffInitial(), config.backoffMax(), config.brokenThreshold(),
                config.brokenWindow());
        this.housekeeper = new ScheduledThreadPoolExecutor(1, threads("housekeeper"));
        housekeeper.setRemoveOnCancelPolicy(true);
        this.spawner = executor(config.maxConcurrentSpawns(), "spawn");
        this.stopper = executor(Math.max(2, config.size()), "stop");
        this.asyncRunner = executor(config.size() + config.maxConcurrentSpawns() + 1, "async");
    }

    /** Creates and starts a pool. */
    public static WorkerPool start(PoolConfig config, Supervisor supervisor) {
        WorkerPool pool = new WorkerPool(config, supervisor);
        pool.start();
        return pool;
    }

    public String name() {
        return name;
    }

    public PoolConfig config() {
        return config;
    }

    public PoolState state() {
        return state.get();
    }

    public synchronized void addListener(PoolListener listener) {
        PoolListener[] next = java.util.Arrays.copyOf(listeners, listeners.length + 1);
        next[listeners.length] = listener;
        listeners = next;
    }

    /** Spawns the workers (at most max-concurrent-spawns at once) and starts housekeeping. */
    public void start() {
        if (!state.compareAndSet(PoolState.NEW, PoolState.STARTING)) {
            throw new IllegalStateException("pool '" + name + "' was already started");
        }
        fireStateChanged(PoolState.NEW, PoolState.STARTING);
        ticker = housekeeper.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        replenish();
    }

    /**
     * Waits until at least {@code minimum} workers are ready. Gives up (false; see
     * {@link #lastBootFailure()}) when no new worker became ready for {@code stallTimeout} — so a
     * big pool that keeps booting is waited for as long as it makes progress — or at once when
     * every boot so far failed the same way {@value #FAIL_FAST_AFTER} times in a row.
     */
    public boolean awaitReady(int minimum, Duration stallTimeout) {
        long stall = stallTimeout.toNanos();
        long lastProgress = System.nanoTime();
        long boots = successfulBoots.get();
        long failuresBefore = bootFailures.sum();
        while (readyCount() < minimum) {
            long now = System.nanoTime();
            long b = successfulBoots.get();
            if (b != boots) {
                boots = b;
                lastProgress = now;
            }
            if (closing || now - lastProgress >= stall || failingEveryBoot(failuresBefore)) {
                return readyCount() >= minimum;
            }
            LockSupport.parkNanos(2_000_000);
        }
        return true;
    }

    /** Boots that failed the same way in a row, without any success, after which start-up gives up. */
    public static final int FAIL_FAST_AFTER = 3;

    /**
     * No worker ever booted and the last {@value #FAIL_FAST_AFTER} attempts, all made since
     * {@code failuresBefore} was read, failed alike.
     */
    private boolean failingEveryBoot(long failuresBefore) {
        if (successfulBoots.get() > 0) {
            return false;
        }
        long sinceWaitBegan = bootFailures.sum() - failuresBefore;
        synchronized (failureLock) {
            return Math.min(sameFailuresInARow, sinceWaitBegan) >= FAIL_FAST_AFTER;
        }
    }

    /** The last boot or crash failure, or null. */
    public String lastFailure() {
        return lastFailure;
    }

    /** The last failed boot with the worker's exit status and last output, or null. */
    public BootFailure lastBootFailure() {
        return lastBootFailure;
    }

    // ------------------------------------------------------------------------------------------
    // Calls
    // ------------------------------------------------------------------------------------------

    /**
     * Calls {@code method} with {@code params} on a free worker and returns its result as mapped
     * values (see {@link Values}).
     *
     * @throws CallException (a subclass naming what went wrong)
     */
    public Object call(String method, Object params) {
        long start = System.nanoTime();
        for (int attempt = 0; ; attempt++) {
            PooledWorker w = acquire(method, start);
            try {
                return execute(w, method, params, null, start);
            } catch (Undelivered e) {
                if (attempt >= MAX_UNDELIVERED_RETRIES) {
                    throw e.failure;
                }
            }
        }
    }

    /**
     * {@link #call(String, Object)}, with the result as {@code type}: String, byte[], Long, Integer,
     * Double, Boolean (or their primitives), Map, List or Object. PHP's quirks are accepted: a str
     * where bytes are wanted, an empty array where a map is wanted.
     *
     * @throws IllegalArgumentException if the result cannot be read as {@code type}
     */
    @SuppressWarnings("unchecked")
    public <T> T call(String method, Object params, Class<T> type) {
        Object result = call(method, params);
        if (result == null || type == Object.class) {
            return (T) result;
        }
        Object converted;
        if (type == String.class) {
            converted = Values.asString(result);
        } else if (type == byte[].class) {
            converted = Values.asBytes(result);
        } else if (type == Long.class || type == long.class) {
            converted = Values.asLong(result);
        } else if (type == Integer.class || type == int.class) {
            converted = Values.asInt(result);
        } else if (type == Double.class || type == double.class) {
            converted = Values.asDouble(result);
        } else if (type == Boolean.class || type == boolean.class) {
            converted = Values.asBoolean(result);
        } else if (Map.class.isAssignableFrom(type)) {
            converted = Values.asMap(result);
        } else if (List.class.isAssignableFrom(type)) {
            converted = Values.asList(result);
        } else if (type.isInstance(result)) {
            converted = result;
        } else {
            throw new IllegalArgumentException("Result of '" + method + "' on pool '" + name + "' is a "
                    + result.getClass().getSimpleName() + ", not convertible to " + type.getName());
        }
        return (T) converted;
    }

    /**
     * Calls {@code method} asynchronously. The future completes with the result or a
     * {@link CallException}; waiting for a worker occupies no thread.
     */
    public CompletableFuture<Object> callAsync(String method, Object params) {
        return callAsync(method, params, null);
    }

    /**
     * {@link #callAsync(String, Object)}, with a label that says what the call is about (for an
     * HTTP request, e.g. {@code GET /php/hello}); it shows in {@link WorkerInfo#currentLabel()}
     * while the call runs.
     */
    public CompletableFuture<Object> callAsync(String method, Object params, String label) {
        long start = System.nanoTime();
        CompletableFuture<Object> future = new CompletableFuture<>();
        PooledWorker w = null;
        AsyncWaiter waiter = null;
        lock.lock();
        try {
            if (closing) {
                future.completeExceptionally(closedFailure(method, 0, null));
                return future;
            }
            w = idle.pollFirst();
            if (w != null) {
                w.state = WorkerState.BUSY;
            } else if (waiters.size() >= config.maxQueue()) {
                record(method, CallOutcome.QUEUE_FULL, System.nanoTime() - start, 0);
                future.completeExceptionally(new QueueFullException(name, method, config.maxQueue(), targetSize));
                return future;
            } else {
                waiter = new AsyncWaiter(method, params, label, future, start);
                waiters.addLast(waiter);
            }
        } finally {
            lock.unlock();
        }
        if (w != null) {
            PooledWorker worker = w;
            asyncRunner.execute(() -> runAsync(worker, method, params, label, future, start, 0));
        } else {
            AsyncWaiter pending = waiter;
            pending.expiry = housekeeper.schedule(() -> expire(pending), acquireTimeoutNanos, TimeUnit.NANOSECONDS);
        }
        return future;
    }

    /** What {@link #tryCall} returns when it did not call: no worker was idle. */
    public static final Object NOT_CALLED = new Object() {
        @Override
        public String toString() {
            return "NOT_CALLED";
        }
    };

    /**
     * Calls {@code method} on this thread if a worker is idle right now, else returns
     * {@link #NOT_CALLED} at once, without waiting or queueing (also when the request could not be
     * delivered to the worker taken). For a caller that must not block waiting for a worker but
     * may block while one works, e.g. an HTTP server thread falling back to {@link #callAsync}.
     *
     * @throws CallException as {@link #call(String, Object)}, once the call was made
     */
    public Object tryCall(String method, Object params, String label) {
        long start = System.nanoTime();
        PooledWorker w;
        lock.lock();
        try {
            if (closing) {
                throw closedFailure(method, 0, null);
            }
            w = idle.pollFirst();
            if (w == null) {
                return NOT_CALLED;
            }
            w.state = WorkerState.BUSY;
        } finally {
            lock.unlock();
        }
        try {
            return execute(w, method, params, label, start);
        } catch (Undelivered e) {
            return NOT_CALLED;
        }
    }

    private void runAsync(PooledWorker w, String method, Object params, String label, CompletableFuture<Object> future,
                          long start, int attempt) {
        try {
            future.complete(execute(w, method, params, label, start));
        } catch (Undelivered e) {
            if (attempt >= MAX_UNDELIVERED_RETRIES) {
                future.completeExceptionally(e.failure);
            } else {
                try {
                    PooledWorker next = acquire(method, start);
                    runAsync(next, method, params, label, future, start, attempt + 1);
                } catch (RuntimeException failure) {
                    future.completeExceptionally(failure);
                }
            }
        } catch (RuntimeException | Error e) {
            future.completeExceptionally(e);
        }
    }

    /** Takes an idle worker, or waits for one in the FIFO queue. */
    private PooledWorker acquire(String method, long start) {
        SyncWaiter waiter;
        lock.lock();
        try {
            if (closing) {
                throw closedFailure(method, 0, null);
            }
            PooledWorker w = idle.pollFirst();
            if (w != null) {
                w.state = WorkerState.BUSY;
                return w;
            }
            if (waiters.size() >= config.maxQueue()) {
                record(method, CallOutcome.QUEUE_FULL, System.nanoTime() - start, 0);
                throw new QueueFullException(name, method, config.maxQueue(), targetSize);
            }
            waiter = new SyncWaiter(Thread.currentThread());
            waiters.addLast(waiter);
        } finally {
            lock.unlock();
        }
        long deadline = start + acquireTimeoutNanos;
        while (true) {
            PooledWorker w = waiter.worker;
            if (w != null) {
                return w;
            }
            if (waiter.closed) {
                throw closedFailure(method, 0, "while the call waited for a worker");
            }
            long left = deadline - System.nanoTime();
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
                record(method, CallOutcome.ACQUIRE_TIMEOUT, System.nanoTime() - start, 0);
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                throw new NoWorkerAvailableException(name, method, config.acquireTimeout(),
                        (interrupted ? "interrupted; " : "") + describeLoad());
            }
            LockSupport.parkNanos(this, left);
        }
    }

    /** Runs one call on a worker the caller owns; releases or retires the worker whatever happens. */
    private Object execute(PooledWorker w, String method, Object params, String label, long start) {
        long acquired = System.nanoTime();
        ByteBuffer frame;
        try {
            frame = w.encode(method, params);
        } catch (FrameTooLargeException e) {
            release(w);
            record(method, CallOutcome.REQUEST_TOO_LARGE, acquired - start, 0);
            throw new RequestTooLargeException(name, method, w.pid, e);
        } catch (RuntimeException e) {
            release(w); // unsupported parameter type: the caller's bug, the worker is fine
            throw e;
        }
        w.beginCall(method, label, acquired, acquired + execTimeoutNanos);
        try {
            w.send(frame);
        } catch (IOException e) {
            // Nothing was delivered (a partial frame is never processed): another worker may take it.
            int cs = w.call.get();
            if (cs == PooledWorker.IN_CALL) {
                w.endCall(System.nanoTime());
                retire(w, ExitReason.CRASH, true);
                throw new Undelivered(new WorkerCrashedException(name, method, w.pid,
                        "its task channel failed: " + e.getMessage(), e));
            }
            return failed(w, method, cs, e, start, acquired);
        }
        Message.Response response;
        try {
            response = w.receive();
        } catch (ProtocolException e) {
            int cs = w.call.get();
            if (cs != PooledWorker.IN_CALL) {
                return failed(w, method, cs, e, start, acquired);
            }
            w.endCall(System.nanoTime());
            retire(w, ExitReason.PROTOCOL_ERROR, true);
            record(method, CallOutcome.PROTOCOL_ERROR, acquired - start, System.nanoTime() - acquired);
            throw new WorkerProtocolException(name, method, w.pid, e);
        } catch (ChannelResetException e) {
            int cs = w.call.get();
            if (cs == PooledWorker.IN_CALL) {
                // It died with our request unread in its socket: not delivered, so another worker may run it.
                w.endCall(System.nanoTime());
                retire(w, ExitReason.CRASH, true);
                throw new Undelivered(new WorkerCrashedException(name, method, w.pid,
                        "died before reading the request", e));
            }
            return failed(w, method, cs, e, start, acquired);
        } catch (IOException e) {
            return failed(w, method, w.call.get(), e, start, acquired);
        }
        long end = System.nanoTime();
        if (w.endCall(end)) {
            release(w);
        } else {
            // The watchdog fired just as the answer arrived: the worker is being killed; keep the answer.
            int cs = w.call.get();
            retire(w, cs == PooledWorker.ABORTED ? ExitReason.SHUTDOWN
                    : cs == PooledWorker.MEMORY_EXCEEDED ? ExitReason.MEMORY_LIMIT : ExitReason.EXEC_TIMEOUT, true);
        }
        RemoteError error = response.error();
        if (error != null) {
            record(method, CallOutcome.APPLICATION_ERROR, acquired - start, end - acquired);
            throw new WorkerErrorException(name, method, w.pid, error.code(), error.message());
        }
        record(method, CallOutcome.SUCCESS, acquired - start, end - acquired);
        return response.result();
    }

    /** The call's I/O failed: decide whether that was a timeout, a close or a crash. */
    private Object failed(PooledWorker w, String method, int callState, Exception cause, long start, long acquired) {
        long end = System.nanoTime();
        w.endCall(end);
        if (callState == PooledWorker.TIMED_OUT) {
            retire(w, ExitReason.EXEC_TIMEOUT, true);
            record(method, CallOutcome.EXEC_TIMEOUT, acquired - start, end - acquired);
            throw new ExecTimeoutException(name, method, w.pid, config.execTimeout());
        }
        if (callState == PooledWorker.ABORTED) {
            retire(w, ExitReason.SHUTDOWN, true);
            record(method, CallOutcome.POOL_CLOSED, acquired - start, end - acquired);
            throw closedFailure(method, w.pid, "while the call ran past drain-timeout " + config.drainTimeout());
        }
        if (callState == PooledWorker.MEMORY_EXCEEDED) {
            retire(w, ExitReason.MEMORY_LIMIT, true);
            record(method, CallOutcome.MEMORY_LIMIT, acquired - start, end - acquired);
            throw new WorkerMemoryLimitException(name, method, w.pid, config.memoryLimitBytes(), w.rssAtKill);
        }
        if (supervisor.isClosed()) {
            retire(w, ExitReason.SHUTDOWN, true);
            record(method, CallOutcome.POOL_CLOSED, acquired - start, end - acquired);
            throw closedFailure(method, w.pid, "the application is shutting down and its workers were stopped");
        }
        // Usually the process is already dead: reap it here so the message can say how it ended.
        String exit;
        if (supervisor.awaitExit(w.process, Duration.ofMillis(200)) && claim(w, true)) {
            ExitStatus status = supervisor.terminate(w.process, Duration.ZERO);
            exit = status == null ? "exited" : status.toString();
            leave(w, ExitReason.CRASH, status);
            replenish();
        } else {
            exit = "closed its task channel: " + cause.getMessage();
            retire(w, ExitReason.CRASH, true);
        }
        lastFailure = "worker " + w.pid + " crashed during '" + method + "' (" + exit + ")";
        record(method, CallOutcome.WORKER_CRASHED, acquired - start, end - acquired);
        throw new WorkerCrashedException(name, method, w.pid, exit, cause);
    }

    /**
     * After a call: a worker whose replacement is ready leaves; one that has just reached a
     * recycling limit asks for its replacement and keeps serving until it is ready; any other is
     * handed to the oldest waiter or put back idle.
     */
    private void release(PooledWorker w) {
        if (closing) {
            retire(w, ExitReason.SHUTDOWN, false);
            return;
        }
        if (w.leaveReason == null) {
            ExitReason limit = w.recycleReason(System.nanoTime());
            if (limit != null) {
                markDue(w, limit);
            }
        }
        handOff(w);
    }

    private void handOff(PooledWorker w) {
        Waiter waiter;
        lock.lock();
        try {
            if (closing || w.exited || w.replaced) {
                waiter = null;
            } else {
                waiter = waiters.pollFirst();
                if (waiter == null) {
                    w.state = WorkerState.IDLE;
                    idle.addFirst(w); // LIFO: a warm worker serves next; others can age out by max-idle
                    return;
                }
                w.state = WorkerState.BUSY;
                waiter.assign(w);
            }
        } finally {
            lock.unlock();
        }
        if (waiter == null) {
            ExitReason why = closing ? ExitReason.SHUTDOWN : w.exited ? ExitReason.CRASH : w.leaveReason;
            retire(w, why, w.exited);
            return;
        }
        waiter.wake();
    }

    private void expire(AsyncWaiter waiter) {
        lock.lock();
        try {
            if (waiter.worker != null || !waiters.remove(waiter)) {
                return;
            }
        } finally {
            lock.unlock();
        }
        record(waiter.method, CallOutcome.ACQUIRE_TIMEOUT, System.nanoTime() - waiter.start, 0);
        waiter.future.completeExceptionally(
                new NoWorkerAvailableException(name, waiter.method, config.acquireTimeout(), describeLoad()));
    }

    /** Removes an idle worker from the idle list; false if a caller has it or it is gone. */
    private boolean takeIdle(PooledWorker w) {
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

    // ------------------------------------------------------------------------------------------
    // Worker lifecycle
    // ------------------------------------------------------------------------------------------

    /**
     * The number of workers to run now: the size, plus one per due worker awaiting its
     * replacement (at most max-concurrent-spawns of them at a time).
     */
    private int target() {
        return targetSize + Math.min(dueCount.get(), config.maxConcurrentSpawns());
    }

    /** Keeps the number of workers at the target: starts a spawn, at once, for every missing slot. */
    private void replenish() {
        while (!closing) {
            int n = slots.get();
            if (n >= target()) {
                return;
            }
            if (slots.compareAndSet(n, n + 1)) {
                scheduleSpawn(new SpawnAttempt(), 0);
            }
        }
    }

    /** Runs the spawn of a slot now or after {@code delayNanos}; gives the slot back if the pool is shutting down. */
    private void scheduleSpawn(SpawnAttempt attempt, long delayNanos) {
        try {
            if (delayNanos > 0) {
                housekeeper.schedule(() -> scheduleSpawn(attempt, 0), delayNanos, TimeUnit.NANOSECONDS);
            } else {
                spawner.execute(() -> spawnOne(attempt));
            }
        } catch (RejectedExecutionException shuttingDown) {
            slots.decrementAndGet();
        }
    }

    /** Gives back a slot the pool no longer needs (a due worker left before its replacement was ready). */
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

    private void spawnOne(SpawnAttempt attempt) {
        if (closing) {
            slots.decrementAndGet();
            return;
        }
        if (surplusSlot()) {
            return;
        }
        long t0 = System.nanoTime();
        WorkerProcess process;
        try {
            process = supervisor.spawn(config.worker());
        } catch (SupervisorClosedException e) {
            slots.decrementAndGet(); // the application is shutting down: nothing to retry
            return;
        } catch (RuntimeException e) {
            bootFailed(attempt, new BootFailure(0, "pool '" + name + "' cannot start a worker: " + e.getMessage(),
                    null, List.of(), Instant.now()));
            return;
        }
        spawns.increment();
        PooledWorker w = new PooledWorker(process,
                new MessageCodec(config.maxFrameLength(), "worker " + process.pid() + " of pool '" + name + "'"),
                config, t0);
        w.origin = attempt;
        w.bootDeadlineNanos = t0 + config.bootTimeout().toNanos();
        workers.put(w.pid, w);
        process.onExit().thenRun(() -> onProcessExit(w));
        try {
            handshake(w);
        } catch (IOException | RuntimeException e) {
            if (closing) {
                retire(w, ExitReason.SHUTDOWN, true);
                return;
            }
            String why = w.bootAborted || System.nanoTime() - w.bootDeadlineNanos >= 0
                    ? "sent no control.ready within boot-timeout " + config.bootTimeout()
                    : e instanceof java.io.EOFException ? "ended before control.ready (it sent nothing on fd 4)"
                    : "failed its handshake: " + e.getMessage();
            // Learning how it ended takes a moment: do it off the spawner, which other slots need.
            try {
                stopper.execute(() -> endUnserved(w, why));
            } catch (RejectedExecutionException closed) {
                endUnserved(w, why);
            }
            return;
        }
        long bootNanos = System.nanoTime() - t0;
        w.readyNanos = System.nanoTime();
        bootSucceeded();
        notifyListeners(l -> l.workerStarted(this, w.pid, bootNanos));
        replaceOneDue();
        handOff(w);
    }

    /** Waits for {@code control.ready} on fd 4. */
    private void handshake(PooledWorker w) throws IOException {
        WorkerChannel control = w.process.controlChannel();
        long left = w.bootDeadlineNanos - System.nanoTime();
        if (left <= 0 || !control.awaitReadable(TimeUnit.NANOSECONDS.toMillis(left) + 1)) {
            throw new IOException("no control.ready within boot-timeout " + config.bootTimeout());
        }
        // A worker that sends half a frame and stalls is killed by the housekeeper at the boot deadline.
        Message m = w.codec.readMessage(control);
        if (!(m instanceof Message.Notify n) || !"control.ready".equals(n.method())) {
            throw new ProtocolException("worker " + w.pid + " of pool '" + name + "'",
                    "expected the control.ready notification, got " + m);
        }
    }

    /** From the supervisor's I/O thread when a worker's process exits: keep it short. */
    private void onProcessExit(PooledWorker w) {
        w.exited = true;
        if (takeIdle(w)) {
            if (w.jobs == 0 && !closing) {
                // It ended before serving anything: a broken script must back off, not loop.
                try {
                    stopper.execute(() -> endUnserved(w, "exited right after its handshake, before serving a call"));
                } catch (RejectedExecutionException closed) {
                    retire(w, ExitReason.SHUTDOWN, true);
                }
            } else {
                lastFailure = "worker " + w.pid + " of pool '" + name + "' exited while idle";
                retire(w, ExitReason.CRASH, true);
            }
        }
    }

    /**
     * Marks a worker due to leave for {@code reason} and asks for its replacement. It keeps serving
     * until the replacement is ready ({@link #replaceOneDue()}): healthy retirements never leave
     * the pool short, and never wait for somebody else's failing boots.
     */
    private void markDue(PooledWorker w, ExitReason reason) {
        if (!w.markLeaving(reason) || w.retired.get()) {
            return;
        }
        if (w.awaitingReplacement.compareAndSet(false, true)) {
            dueCount.incrementAndGet();
            due.add(w);
        }
        log.debug("Worker {} of pool '{}' is due to leave ({}); it serves until its replacement is ready", w.pid,
                name, reason.tag());
        replenish();
    }

    /** A new worker is ready: the oldest due worker may now leave (at once if idle, else after its call). */
    private void replaceOneDue() {
        PooledWorker old;
        while ((old = due.poll()) != null) {
            if (stopAwaitingReplacement(old) && !old.retired.get()) {
                old.replaced = true;
                if (takeIdle(old)) {
                    retire(old, old.leaveReason, false);
                }
                return;
            }
        }
    }

    private boolean stopAwaitingReplacement(PooledWorker w) {
        if (w.awaitingReplacement.compareAndSet(true, false)) {
            dueCount.decrementAndGet();
            return true;
        }
        return false;
    }

    /**
     * Takes a worker out of the pool (once): frees its slot, starts a replacement at once, and stops
     * it in the background — gracefully (close fd 3, let it leave on its own, then the ladder) or,
     * if {@code hard}, by killing its group now.
     */
    private void retire(PooledWorker w, ExitReason reason, boolean hard) {
        if (!claim(w, true)) {
            return;
        }
        if (hard) {
            w.task().abort();
            supervisor.kill(w.process);
        }
        // Deadlines start now, not when a stopper thread gets to it: closing hundreds of workers at
        // once must still end within close-wait + stop-grace.
        long now = System.nanoTime();
        long exitBy = now + (reason == ExitReason.SHUTDOWN ? config.closeWait() : retireCloseWait()).toNanos();
        long killBy = exitBy + config.stopGrace().toNanos();
        try {
            stopper.execute(() -> stop(w, reason, hard, exitBy, killBy));
        } catch (RejectedExecutionException e) {
            stop(w, reason, hard, exitBy, killBy);
        }
        replenish();
    }

    /**
     * How long a retired (not shut down) worker may take to leave on its own after EOF on fd 3.
     * It no longer counts toward the pool, so waiting costs nothing; on a busy machine a PHP worker
     * can need more than the 500 ms close-wait that bounds shutdown.
     */
    private Duration retireCloseWait() {
        Duration floor = Duration.ofSeconds(5);
        return config.closeWait().compareTo(floor) > 0 ? config.closeWait() : floor;
    }

    private void stop(PooledWorker w, ExitReason reason, boolean hard, long exitBy, long killBy) {
        ExitStatus status;
        try {
            if (!hard) {
                // The clean way: a Folk worker leaves its loop and exits 0 when fd 3 reaches EOF.
                w.task().close();
                supervisor.awaitExit(w.process, Duration.ofNanos(Math.max(0, exitBy - System.nanoTime())));
            }
            status = supervisor.terminate(w.process,
                    hard ? Duration.ZERO : Duration.ofNanos(Math.max(0, killBy - System.nanoTime())));
        } catch (RuntimeException e) {
            log.warn("Stopping worker {} of pool '{}' failed", w.pid, name, e);
            status = null;
        }
        leave(w, reason, status);
    }

    /**
     * Stops the workers idle at close as one batch on one stopper thread: close every fd 3, wait
     * until close-wait for them to leave, then {@link Supervisor#terminateAll} the rest with one
     * grace. One thread per worker, each polling its own group, made closing hundreds of
     * TERM-ignoring workers take seconds past the grace.
     */
    private void stopIdleAtClose(List<PooledWorker> idleNow) {
        List<PooledWorker> claimed = new ArrayList<>(idleNow.size());
        for (PooledWorker w : idleNow) {
            if (claim(w, true)) {
                claimed.add(w);
            }
        }
        if (claimed.isEmpty()) {
            return;
        }
        long exitBy = System.nanoTime() + config.closeWait().toNanos();
        long killBy = exitBy + config.stopGrace().toNanos();
        Runnable stopAll = () -> {
            for (PooledWorker w : claimed) {
                w.task().close(); // a Folk worker leaves its loop and exits 0 on EOF
            }
            List<WorkerProcess> processes = new ArrayList<>(claimed.size());
            for (PooledWorker w : claimed) {
                long left = exitBy - System.nanoTime();
                if (left > 0) {
                    supervisor.awaitExit(w.process, Duration.ofNanos(left));
                }
                processes.add(w.process);
            }
            List<ExitStatus> statuses;
            try {
                statuses = supervisor.terminateAll(processes, killBy);
            } catch (RuntimeException e) {
                log.warn("Stopping {} workers of pool '{}' failed", processes.size(), name, e);
                statuses = Collections.nCopies(processes.size(), null);
            }
            for (int i = 0; i < claimed.size(); i++) {
                leave(claimed.get(i), ExitReason.SHUTDOWN, statuses.get(i));
            }
        };
        try {
            stopper.execute(stopAll);
        } catch (RejectedExecutionException e) {
            stopAll.run();
        }
    }

    /**
     * Ends a worker that never served a call: its handshake failed, or it exited right after.
     * Learns how it ended (exit status, last output), then either replaces it at once — it was
     * killed from outside, which says nothing about the script — or counts a boot failure and
     * retries its slot after the back-off. The slot is kept until that is decided, so nothing
     * else spawns into it meanwhile.
     */
    private void endUnserved(PooledWorker w, String why) {
        if (!claim(w, false)) {
            return;
        }
        boolean exitedByItself = supervisor.awaitExit(w.process, UNSERVED_EXIT_WAIT) || supervisor.hasExited(w.process);
        w.task().abort();
        ExitStatus status;
        try {
            status = supervisor.terminate(w.process, Duration.ZERO);
        } catch (RuntimeException e) {
            log.warn("Stopping worker {} of pool '{}' failed", w.pid, name, e);
            status = null;
        }
        if (closing || supervisor.isClosed()) {
            slots.decrementAndGet();
            leave(w, ExitReason.SHUTDOWN, status);
            return;
        }
        if (exitedByItself && !w.bootAborted && status != null && killedFromOutside(status)) {
            slots.decrementAndGet();
            lastFailure = "worker " + w.pid + " of pool '" + name + "' was " + status + " while starting";
            leave(w, ExitReason.CRASH, status);
            replenish();
            return;
        }
        List<String> output = recentOutput(w);
        String message = "worker " + w.pid + " of pool '" + name + "' " + why
                + (status == null ? "" : " (" + status + ")");
        leave(w, ExitReason.BOOT_FAILURE, status);
        bootFailed(w.origin, new BootFailure(w.pid, message, status, output, Instant.now()));
    }

    /** How long a worker that failed its handshake gets to finish exiting by itself before it is killed. */
    private static final Duration UNSERVED_EXIT_WAIT = Duration.ofMillis(250);

    /**
     * A signal the process did not raise itself (SEGV, ABRT, BUS, ILL, FPE, SYS, TRAP are its own
     * faults): KILL from an operator or the OOM killer, TERM, INT...
     */
    private static boolean killedFromOutside(ExitStatus status) {
        return switch (status.signal()) {
            case 0, 4, 5, 6, 7, 8, 11, 31 -> false;
            default -> true;
        };
    }

    /** The worker's last output lines, once its pipes have been drained (briefly waited for). */
    private static List<String> recentOutput(PooledWorker w) {
        try {
            w.process.onOutputClosed().get(250, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            // a grandchild still holds the pipes: what was read so far will do
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return w.process.recentOutput();
    }

    /**
     * Takes the worker out of the pool, once; false if someone already did. With {@code freeSlot}
     * its slot is given back (and a replacement may start); otherwise the caller keeps the slot.
     */
    private boolean claim(PooledWorker w, boolean freeSlot) {
        if (!w.retired.compareAndSet(false, true)) {
            return false;
        }
        w.state = WorkerState.STOPPING;
        stopAwaitingReplacement(w);
        if (freeSlot) {
            slots.decrementAndGet();
        }
        return true;
    }

    /**
     * Records a worker's exit once it is reaped (or given up on). An unexpected end is named from
     * how it ended: exit 0 is an unexpected exit, a signal or another code a crash, and anything
     * during shutdown is shutdown.
     */
    private void leave(PooledWorker w, ExitReason reason, ExitStatus status) {
        if (reason == ExitReason.CRASH) {
            if (closing || supervisor.isClosed()) {
                reason = ExitReason.SHUTDOWN;
            } else if (status != null && !status.killedBySignal() && status.exitCode() == 0) {
                reason = ExitReason.UNEXPECTED_EXIT;
            }
        }
        String statusText = status == null ? "not reaped" : status.toString();
        exitCounts[reason.ordinal()].increment();
        ExitRecord record = new ExitRecord(w.pid, reason, statusText, w.jobs, Instant.now());
        recentExits.addFirst(record);
        while (recentExits.size() > RECENT_EXITS) {
            recentExits.pollLast();
        }
        workers.remove(w.pid, w); // last: close() waits for an empty map, then counts must be final
        switch (reason) {
            case CRASH, UNEXPECTED_EXIT, EXEC_TIMEOUT, PROTOCOL_ERROR, MEMORY_LIMIT -> {
                List<String> output = w.process.recentOutput();
                log.warn("Worker {} of pool '{}' left: {} ({}, {} jobs){}", w.pid, name, reason.tag(), statusText,
                        w.jobs, output.isEmpty() ? "" : "; its last output:\n    " + String.join("\n    ",
                                output.subList(Math.max(0, output.size() - 5), output.size())));
            }
            default -> log.debug("Worker {} of pool '{}' left: {} ({}, {} jobs)", w.pid, name, reason.tag(),
                    statusText, w.jobs);
        }
        notifyListeners(l -> l.workerExited(this, record));
    }

    /**
     * A boot failed: counts it, marks the pool BROKEN if failures pile up, and retries the same
     * slot after its own back-off (the slot stays taken meanwhile).
     */
    private void bootFailed(SpawnAttempt attempt, BootFailure failure) {
        bootFailures.increment();
        lastFailure = failure.message();
        lastBootFailure = failure;
        long delay;
        boolean broken;
        synchronized (failureLock) {
            attempt.failures++;
            long now = System.nanoTime();
            delay = backoff.failed(now, attempt.failures, ThreadLocalRandom.current().nextDouble());
            broken = backoff.broken(now);
            String signature = failure.signature();
            sameFailuresInARow = signature.equals(lastFailureSignature) ? sameFailuresInARow + 1 : 1;
            lastFailureSignature = signature;
        }
        if (broken) {
            transition(PoolState.BROKEN);
        }
        log.warn("Pool '{}': {}; next attempt in {} ms{}", name, failure, TimeUnit.NANOSECONDS.toMillis(delay),
                broken ? " (pool BROKEN: " + config.brokenThreshold() + " failures within " + config.brokenWindow()
                        + ")" : "");
        notifyListeners(l -> l.bootFailed(this, failure));
        if (closing) {
            slots.decrementAndGet();
            return;
        }
        scheduleSpawn(attempt, delay);
    }

    private void bootSucceeded() {
        successfulBoots.incrementAndGet();
        synchronized (failureLock) {
            sameFailuresInARow = 0;
            lastFailureSignature = null;
        }
        PoolState s = state.get();
        if (s == PoolState.STARTING || s == PoolState.BROKEN) {
            transition(PoolState.RUNNING);
        }
    }

    private void transition(PoolState to) {
        while (true) {
            PoolState from = state.get();
            if (from == to || from == PoolState.DRAINING || from == PoolState.CLOSED || from == PoolState.NEW) {
                return;
            }
            if (state.compareAndSet(from, to)) {
                fireStateChanged(from, to);
                return;
            }
        }
    }

    private void fireStateChanged(PoolState from, PoolState to) {
        log.info("Pool '{}' {} -> {}", name, from, to);
        notifyListeners(l -> l.stateChanged(this, from, to));
    }

    // ------------------------------------------------------------------------------------------
    // Housekeeping: timeouts and soft recycling
    // ------------------------------------------------------------------------------------------

    private void tick() {
        try {
            long now = System.nanoTime();
            boolean sampleMemory = now - nextMemorySampleNanos >= 0;
            if (sampleMemory) {
                nextMemorySampleNanos = now + config.memoryCheckInterval().toNanos();
            }
            long maxIdle = config.maxIdle().toNanos();
            for (PooledWorker w : workers.values()) {
                switch (w.state) {
                    case BUSY -> {
                        if (now - w.callDeadlineNanos >= 0 && w.call.get() == PooledWorker.IN_CALL
                                && w.call.compareAndSet(PooledWorker.IN_CALL, PooledWorker.TIMED_OUT)) {
                            log.warn("Worker {} of pool '{}' exceeded exec-timeout {} in '{}': killing its group",
                                    w.pid, name, config.execTimeout(), w.currentMethod);
                            w.task().abort();
                            supervisor.kill(w.process);
                        }
                    }
                    case STARTING -> {
                        if (now - w.bootDeadlineNanos >= 0 && !w.bootAborted) {
                            w.bootAborted = true;
                            w.process.controlChannel().abort();
                            supervisor.kill(w.process);
                        }
                    }
                    case IDLE -> {
                        if (w.leaveReason == null) {
                            ExitReason due = w.recycleReason(now);
                            if (due == null && maxIdle > 0) {
                                long since = w.lastUsedNanos != 0 ? w.lastUsedNanos : w.readyNanos;
                                if (since != 0 && now - since > maxIdle) {
                                    due = ExitReason.IDLE;
                                }
                            }
                            if (due != null) {
                                markDue(w, due);
                            }
                        }
                    }
                    default -> { }
                }
                if (sampleMemory && (w.state == WorkerState.IDLE || w.state == WorkerState.BUSY)) {
                    sampleMemory(w);
                }
            }
            replenish();
        } catch (RuntimeException e) {
            log.error("Pool '{}' housekeeping failed", name, e);
        }
    }

    private void sampleMemory(PooledWorker w) {
        long rss = w.process.residentSetBytes();
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
                        w.pid, name, limit >> 20, rss >> 20, w.currentMethod);
                w.task().abort();
                supervisor.kill(w.process);
            } else if (takeIdle(w)) {
                log.warn("Worker {} of pool '{}' passed memory-limit {} MiB ({} MiB resident) while idle: killing it",
                        w.pid, name, limit >> 20, rss >> 20);
                retire(w, ExitReason.MEMORY_LIMIT, true);
            }
            return;
        }
        long max = config.maxMemoryBytes();
        if (max > 0 && rss > max && w.leaveReason == null) {
            markDue(w, ExitReason.MEMORY);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Administration
    // ------------------------------------------------------------------------------------------

    /**
     * Rolling replacement of every current worker without failing calls: one at a time, a new
     * worker is started and made ready before an old one is retired (an old busy worker finishes
     * its call first). Completes when every old worker has been replaced; fails, leaving the rest
     * in place, if replacements cannot start.
     */
    public CompletableFuture<Void> reset() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!resetInProgress.compareAndSet(null, done)) {
            return resetInProgress.get();
        }
        List<PooledWorker> old = new ArrayList<>();
        for (PooledWorker w : workers.values()) {
            if (w.state != WorkerState.STOPPING) {
                old.add(w);
            }
        }
        Thread t = new Thread(() -> {
            try {
                rollingReset(old);
                done.complete(null);
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            } finally {
                targetSize = config.size();
                resetInProgress.set(null);
            }
        }, "folk-" + name + "-reset");
        t.setDaemon(true);
        t.start();
        return done;
    }

    private void rollingReset(List<PooledWorker> old) {
        log.info("Pool '{}': rolling reset of {} workers", name, old.size());
        long boots = successfulBoots.get();
        targetSize = config.size() + 1; // one extra: make before break
        replenish();
        for (int i = 0; i < old.size(); i++) {
            long deadline = System.nanoTime() + 2 * config.bootTimeout().toNanos() + config.backoffMax().toNanos();
            while (successfulBoots.get() <= boots + i) {
                if (closing) {
                    return;
                }
                if (System.nanoTime() - deadline >= 0) {
                    throw new IllegalStateException("Reset of pool '" + name + "' stopped after " + i + " of "
                            + old.size() + " workers: no replacement became ready (" + lastFailure + ")");
                }
                LockSupport.parkNanos(2_000_000);
            }
            if (i == old.size() - 1) {
                targetSize = config.size();
            }
            retireSoftly(old.get(i), ExitReason.RESET);
        }
    }

    /**
     * Recycles the worker with this pid if it belongs to this pool, make before break: a
     * replacement starts first, and the worker leaves once it is ready (after its current call if
     * busy). Returns false, touching nothing, for any other pid (or a worker still starting).
     */
    public boolean recycle(int pid) {
        PooledWorker w = workers.get(pid);
        if (w == null || w.state == WorkerState.STOPPING || w.state == WorkerState.STARTING || closing) {
            return false;
        }
        markDue(w, ExitReason.RECYCLE);
        return true;
    }

    /** Lets a worker leave as soon as it is idle, without waiting for a replacement of its own. */
    private void retireSoftly(PooledWorker w, ExitReason reason) {
        w.markLeaving(reason);
        stopAwaitingReplacement(w);
        w.replaced = true;
        if (takeIdle(w)) {
            retire(w, w.leaveReason, false);
        }
    }

    /** A picture of the pool and its workers. */
    public PoolSnapshot snapshot() {
        long nowNanos = System.nanoTime();
        Instant now = Instant.now();
        List<WorkerInfo> infos = new ArrayList<>();
        for (PooledWorker w : workers.values()) {
            infos.add(w.info(nowNanos, now));
        }
        infos.sort((a, b) -> Integer.compare(a.pid(), b.pid()));
        Map<CallOutcome, Long> calls = new EnumMap<>(CallOutcome.class);
        for (CallOutcome o : CallOutcome.values()) {
            calls.put(o, callCounts[o.ordinal()].sum());
        }
        Map<ExitReason, Long> exits = new EnumMap<>(ExitReason.class);
        for (ExitReason r : ExitReason.values()) {
            exits.put(r, exitCounts[r.ordinal()].sum());
        }
        return new PoolSnapshot(name, state.get(), config.size(), List.copyOf(infos), queueLength(), calls, exits,
                spawns.sum(), bootFailures.sum(), lastFailure, List.copyOf(recentExits), now);
    }

    public int queueLength() {
        lock.lock();
        try {
            return waiters.size();
        } finally {
            lock.unlock();
        }
    }

    /** Workers ready or serving, without taking a snapshot. */
    public int readyCount() {
        int n = 0;
        for (PooledWorker w : workers.values()) {
            if (w.state == WorkerState.IDLE || w.state == WorkerState.BUSY) {
                n++;
            }
        }
        return n;
    }

    private String describeLoad() {
        int busy = 0;
        int starting = 0;
        for (PooledWorker w : workers.values()) {
            if (w.state == WorkerState.BUSY) {
                busy++;
            } else if (w.state == WorkerState.STARTING) {
                starting++;
            }
        }
        return "pool " + state.get() + ", " + busy + " busy, " + starting + " starting, " + queueLength() + " waiting"
                + (lastFailure == null ? "" : ", last failure: " + lastFailure);
    }

    // ------------------------------------------------------------------------------------------
    // Closing
    // ------------------------------------------------------------------------------------------

    /** {@link #close(Duration)} with the configured drain timeout. */
    @Override
    public void close() {
        close(config.drainTimeout());
    }

    /**
     * Stops accepting calls (waiting ones fail with {@link PoolClosedException}), lets in-flight
     * calls finish for up to {@code drainTimeout}, stops idle workers by closing fd 3, kills what
     * still runs after that, and waits until every worker is reaped. Idempotent; safe from a
     * shutdown hook.
     */
    public void close(Duration drainTimeout) {
        if (!closeStarted.compareAndSet(false, true)) {
            awaitClosed(drainTimeout.plus(config.stopGrace()).plusSeconds(5));
            return;
        }
        closing = true;
        PoolState before = state.getAndSet(PoolState.DRAINING);
        if (before != PoolState.DRAINING) {
            fireStateChanged(before, PoolState.DRAINING);
        }
        List<Waiter> pending;
        List<PooledWorker> idleNow;
        lock.lock();
        try {
            pending = new ArrayList<>(waiters);
            waiters.clear();
            idleNow = new ArrayList<>(idle);
            idle.clear();
            for (PooledWorker w : idleNow) {
                w.state = WorkerState.STOPPING;
            }
        } finally {
            lock.unlock();
        }
        for (Waiter w : pending) {
            w.close();
        }
        stopIdleAtClose(idleNow);
        long deadline = System.nanoTime() + drainTimeout.toNanos();
        while (anyBusy() && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(2_000_000);
        }
        for (PooledWorker w : workers.values()) {
            if (w.state == WorkerState.BUSY && w.call.compareAndSet(PooledWorker.IN_CALL, PooledWorker.ABORTED)) {
                log.warn("Pool '{}': call '{}' on worker {} still running after drain-timeout {}: killing it", name,
                        w.currentMethod, w.pid, drainTimeout);
                w.task().abort();
                supervisor.kill(w.process);
            } else if (w.state == WorkerState.STARTING) {
                w.process.controlChannel().abort();
                supervisor.kill(w.process);
            }
        }
        long stopDeadline = System.nanoTime() + config.closeWait().plus(config.stopGrace()).toNanos()
                + TimeUnit.SECONDS.toNanos(3);
        while (!workers.isEmpty() && System.nanoTime() - stopDeadline < 0) {
            LockSupport.parkNanos(2_000_000);
        }
        if (!workers.isEmpty()) {
            log.warn("Pool '{}': {} workers still stopping at close; the supervisor's shutdown reaps them", name,
                    workers.size());
        }
        if (ticker != null) {
            ticker.cancel(false);
        }
        housekeeper.shutdownNow();
        spawner.shutdownNow();
        stopper.shutdown();
        asyncRunner.shutdown();
        PoolState last = state.getAndSet(PoolState.CLOSED);
        fireStateChanged(last, PoolState.CLOSED);
        closed.countDown();
    }

    private boolean anyBusy() {
        for (PooledWorker w : workers.values()) {
            if (w.state == WorkerState.BUSY) {
                return true;
            }
        }
        return false;
    }

    private void awaitClosed(Duration bound) {
        try {
            closed.await(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private PoolClosedException closedFailure(String method, int pid, String detail) {
        if (pid == 0) {
            record(method, CallOutcome.POOL_CLOSED, 0, 0);
        }
        return new PoolClosedException(name, method, pid, detail);
    }

    private void record(String method, CallOutcome outcome, long waitNanos, long execNanos) {
        callCounts[outcome.ordinal()].increment();
        for (PoolListener l : listeners) { // on every call: no lambda, no iterator
            try {
                l.callCompleted(this, method, outcome, waitNanos, execNanos);
            } catch (RuntimeException e) {
                log.warn("Pool '{}': listener {} failed", name, l, e);
            }
        }
    }

    /** A listener that throws must not break the pool's bookkeeping: log it and go on. */
    private void notifyListeners(java.util.function.Consumer<PoolListener> event) {
        for (PoolListener l : listeners) {
            try {
                event.accept(l);
            } catch (RuntimeException e) {
                log.warn("Pool '{}': listener {} failed", name, l, e);
            }
        }
    }

    @Override
    public String toString() {
        return "WorkerPool[" + name + ", " + state.get() + ", size " + config.size() + ']';
    }

    // ------------------------------------------------------------------------------------------
    // Plumbing
    // ------------------------------------------------------------------------------------------

    /** A call waiting for a worker. Assigned under the pool's lock; woken outside it. */
    private abstract static class Waiter {
        volatile PooledWorker worker;
        volatile boolean closed;

        void assign(PooledWorker w) {
            worker = w;
        }

        abstract void wake();

        abstract void close();
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
        void close() {
            closed = true;
            LockSupport.unpark(thread);
        }
    }

    private final class AsyncWaiter extends Waiter {
        final String method;
        final Object params;
        final String label;
        final CompletableFuture<Object> future;
        final long start;
        volatile ScheduledFuture<?> expiry;

        AsyncWaiter(String method, Object params, String label, CompletableFuture<Object> future, long start) {
            this.method = method;
            this.params = params;
            this.label = label;
            this.future = future;
            this.start = start;
        }

        @Override
        void wake() {
            ScheduledFuture<?> e = expiry;
            if (e != null) {
                e.cancel(false);
            }
            PooledWorker w = worker;
            asyncRunner.execute(() -> runAsync(w, method, params, label, future, start, 0));
        }

        @Override
        void close() {
            ScheduledFuture<?> e = expiry;
            if (e != null) {
                e.cancel(false);
            }
            future.completeExceptionally(closedFailure(method, 0, "while the call waited for a worker"));
        }
    }

    /** A call whose request never reached the worker: safe to retry on another. */
    private static final class Undelivered extends RuntimeException {
        final CallException failure;

        Undelivered(CallException failure) {
            super(null, null, false, false);
            this.failure = failure;
        }
    }

    private ThreadFactory threads(String role) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "folk-" + name + "-" + role + "-" + n.incrementAndGet());
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

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }
}
