package dev.folk.core.pool;

import java.lang.reflect.Type;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.protocol.Values;
import dev.folk.core.protocol.WireMap;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.util.Durations;
import dev.folk.core.util.Preload;

import org.jspecify.annotations.Nullable;

/**
 * A pool of worker processes (a fixed number, or elastic between min-size and max-size) speaking the Folk protocol, called from many threads.
 *
 * <p>Dispatch: a call takes any idle worker; only when none is idle does it wait, in a bounded
 * FIFO queue, for the next worker given back — which is handed to the oldest waiter directly, so
 * no call waits while a worker is idle. The caller's own thread does the socket I/O (no hand-off
 * to an I/O thread on the hot path); async calls run theirs on a small executor.
 *
 * <p>Every call ends, with a result or a {@link CallException}, within acquire-timeout +
 * exec-timeout + a tick (+ at most 300 ms while the PHP stack of a worker that declared the
 * {@code backtrace} feature is taken for the log): a housekeeper thread kills the group of a worker
 * past its exec deadline, which wakes the blocked caller. Workers are recycled softly (max-jobs with jitter, max-lifetime,
 * max-idle, max-memory: a busy worker finishes its call first) and replaced at once when they
 * exit; failed boots back off exponentially with jitter up to a cap, and repeated ones mark the
 * pool {@link PoolState#BROKEN} while it keeps retrying.
 *
 * <p>This class is the facade; the package javadoc says which class does what behind it. It is
 * somewhat longer than our usual file because it is the whole public API: one short method per
 * operation, each with its contract.
 */
public final class WorkerPool implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    /** Housekeeping period: bounds how late an exec or boot timeout is enforced. */
    static final long TICK_MILLIS = 50;

    /** Boots that failed the same way in a row, without any success, after which start-up gives up. */
    public static final int FAIL_FAST_AFTER = 3;

    /**
     * How long a wait that stalled with no boot failure recorded yet waits on for one: workers spawned
     * as the wait began reach their own boot timeout at the same moment, and recording it (a tick,
     * the kill, the exit and its output) takes a moment more.
     */
    static final long STALL_FAILURE_GRACE_MILLIS = 1000;

    /** What {@link #tryCall} returns when it did not call: no worker was idle. */
    public static final Object NOT_CALLED = new Object() {
        @Override
        public String toString() {
            return "NOT_CALLED";
        }
    };

    private static final AtomicBoolean CLOSE_PATH_LOADED = new AtomicBoolean();

    private final PoolConfig config;
    private final String name;
    private final PoolClock clock;
    private final boolean ticking;
    private final PoolStatistics stats;
    private final PoolHealth health;
    private final PoolExecutors executors;
    private final Dispatcher dispatcher;
    private final WorkerLifecycle lifecycle;
    private final WorkerExits exits;
    private final Housekeeper housekeeper;
    private final CallRunner calls;
    private final ValueMapper valueMapper;
    private final RollingReset reset;
    private final WorkerHost host;

    private final AtomicBoolean closeStarted = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);

    /** Creates the pool; {@link #start()} spawns its workers. */
    public WorkerPool(PoolConfig config, Supervisor supervisor) {
        this(config, new SupervisedHost(supervisor, config), PoolClock.SYSTEM, true);
    }

    /**
     * A pool driving the workers of {@code host}, on {@code clock}'s time; without {@code ticking}
     * nothing calls {@link #tick()} but the caller (tests that move time themselves).
     */
    WorkerPool(PoolConfig config, WorkerHost host, PoolClock clock, boolean ticking) {
        loadClosePath();
        this.config = config;
        this.name = config.name();
        this.clock = clock;
        this.ticking = ticking;
        this.stats = new PoolStatistics(this, clock);
        this.health = new PoolHealth(this, config, clock, stats);
        this.executors = new PoolExecutors(config);
        this.dispatcher = new Dispatcher(config, clock, health, stats, this::describeLoad, this::targetSize, this::noneAlive);
        this.lifecycle = new WorkerLifecycle(this, config, clock, host, health, stats, executors, dispatcher);
        this.exits = lifecycle.exits();
        this.housekeeper = new Housekeeper(config, clock, executors, dispatcher, lifecycle,
                new SlowCalls(config, stats, executors),
                new ElasticSize(config, health, executors, dispatcher, lifecycle));
        dispatcher.onTakenFromIdle(housekeeper::wake);
        lifecycle.onWorkerAdded(housekeeper::wake);
        this.valueMapper = config.valueMapper();
        this.calls = new CallRunner(this, config, clock, host, health, stats, executors, dispatcher, lifecycle,
                this::describeLoad);
        this.reset = new RollingReset(config, clock, health, lifecycle);
        this.host = host;
    }

    /**
     * Loads, once per JVM, the classes of {@link #close()} that a running pool may not have used
     * yet (the end of its workers, of calls cut short): a pool closed at shutdown after a deploy
     * overwrote the application's jar would fail on the first one ({@link Preload} says why).
     */
    private static void loadClosePath() {
        if (CLOSE_PATH_LOADED.compareAndSet(false, true)) {
            Preload.classes(WorkerPool.class, WorkerExits.class, WorkerLifecycle.class, PooledWorker.class,
                    SupervisedHost.class, Dispatcher.class, CallRunner.class, PoolHealth.class, PoolExecutors.class,
                    Housekeeper.class, ExitRecord.class, ExitReason.class, PoolClosedException.class,
                    WorkerCrashedException.class, Durations.class);
        }
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
        return health.state();
    }

    public void addListener(PoolListener listener) {
        stats.addListener(listener);
    }

    /**
     * Observes every call from now on (tracing: see {@link CallObserver}); null stops observing. One
     * observer per pool: a second replaces the first.
     */
    public void observeCalls(CallObserver observer) {
        calls.observeCalls(observer);
    }

    /** Spawns the workers (at most max-concurrent-spawns at once) and starts housekeeping. */
    public void start() {
        if (!health.starting()) {
            throw new IllegalStateException("pool '" + name + "' was already started");
        }
        Runnable everyTick = () -> {
            executors.retryDeferred();
            calls.passOnHeldUp();
        };
        if (ticking) {
            housekeeper.start(everyTick);
        } else { // tests that check the workers by hand (tick()) still need held-up async calls passed on
            executors.housekeeper.scheduleWithFixedDelay(everyTick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        }
        lifecycle.replenish();
    }

    /** One housekeeping round now (tests that drive the clock). */
    void tick() {
        housekeeper.tick();
    }

    /** Housekeeping rounds done so far (tests). */
    long housekeepingTicks() {
        return housekeeper.ticks();
    }

    /**
     * Waits until at least {@code minimum} workers are ready. Gives up (false; see
     * {@link #lastBootFailure()}) when no new worker became ready for {@code stallTimeout} (and, if
     * no boot has failed yet, up to {@value #STALL_FAILURE_GRACE_MILLIS} ms more for the first
     * failure, which says why) — so a big pool that keeps booting is waited for as long as it makes
     * progress — or at once when
     * every boot so far failed the same way {@value #FAIL_FAST_AFTER} times in a row, or once the
     * pool is {@link #stopped()}, or once the calling thread is interrupted (its interrupt status is
     * kept: the caller decides what the interrupt means).
     */
    public boolean awaitReady(int minimum, Duration stallTimeout) {
        long stall = stallTimeout.toNanos();
        long lastProgress = clock.nanoTime();
        long boots = stats.successfulBoots();
        long failuresBefore = stats.bootFailures();
        while (readyCount() < minimum) {
            long now = clock.nanoTime();
            long b = stats.successfulBoots();
            if (b != boots) {
                boots = b;
                lastProgress = now;
            }
            // Stalled with no failure to show yet: the workers' own boot timeout falls due now, so wait
            // for it to be recorded (bounded), that the caller can say why (and what they printed).
            boolean stalled = now - lastProgress >= stall && (stats.bootFailures() != failuresBefore
                    || now - lastProgress >= stall + TimeUnit.MILLISECONDS.toNanos(STALL_FAILURE_GRACE_MILLIS));
            // An interrupted thread's park returns at once: without this check the wait would spin.
            if (stopped() || stalled || health.failingEveryBoot(failuresBefore)
                    || Thread.currentThread().isInterrupted()) {
                return readyCount() >= minimum;
            }
            LockSupport.parkNanos(2_000_000);
        }
        return true;
    }

    /**
     * Whether this pool will start no worker any more: it is closing or closed, or its supervisor
     * was shut down (killed and reaped every worker, as a JVM shutdown hook does, perhaps while the
     * pool was still starting). Waiting for workers is then pointless.
     */
    public boolean stopped() {
        return health.closing() || host.isClosed();
    }

    /** The last boot or crash failure, or null. */
    public @Nullable String lastFailure() {
        return health.lastFailure();
    }

    /** The last failed boot with the worker's exit status and last output, or null. */
    public @Nullable BootFailure lastBootFailure() {
        return health.lastBootFailure();
    }

    // ------------------------------------------------------------------------------------------
    // Calls
    // ------------------------------------------------------------------------------------------

    /**
     * Calls {@code method} with {@code params} on a free worker and returns its result as mapped
     * values (see {@link Values}). {@code params} go through the pool's {@link ValueMapper} first
     * (records and POJOs need one that knows them, as the Spring Boot starter's does), except a
     * {@link WireMap}, which is sent as it is.
     *
     * @throws CallException (a subclass naming what went wrong)
     */
    public @Nullable Object call(String method, @Nullable Object params) {
        return calls.call(method, toWire(method, params));
    }

    /**
     * {@link #call(String, Object)}, with the result as {@code type}. Without a value mapper:
     * String, byte[], Long, Integer, Double, Boolean (or their primitives), Map, List or Object,
     * PHP's quirks accepted (a str where bytes are wanted, an empty array where a map is wanted);
     * with the starter's, records and POJOs too.
     *
     * @throws IllegalArgumentException if the result cannot be read as {@code type} (null as a
     *         primitive type included)
     */
    @SuppressWarnings("unchecked") // a primitive type's T is its box: Class.cast would refuse it
    public <T> @Nullable T call(String method, @Nullable Object params, Class<T> type) {
        return (T) read(method, call(method, params), type);
    }

    /**
     * {@link #call(String, Object, Class)} for a generic result type:
     * {@code call("orders.list", params, new ResultType<List<Order>>() {})}.
     */
    @SuppressWarnings("unchecked")
    public <T> @Nullable T call(String method, @Nullable Object params, ResultType<T> type) {
        return (T) read(method, call(method, params), type.type());
    }

    /**
     * Calls {@code method} asynchronously. The future completes with the result or a
     * {@link CallException}; waiting for a worker occupies no thread. A caller that completes the
     * future itself while the call still waits for a worker ({@code cancel}, {@code orTimeout},
     * {@code completeOnTimeout}) withdraws the call: PHP never runs it (counted as
     * {@link CallOutcome#CANCELLED}). A call that reached its worker runs to its end whatever the
     * caller does with the future, as a synchronous call does when its thread is interrupted.
     * {@code params} are read when the call is sent, which may be after this returns: do not change
     * them until the future completes.
     *
     * @throws NullPointerException if {@code method} is null: at once, not through the future (a
     *         programming error, as {@link #call(String, Object)} throws it)
     */
    public CompletableFuture<@Nullable Object> callAsync(String method, @Nullable Object params) {
        return callAsync(method, params, (String) null);
    }

    /**
     * {@link #callAsync(String, Object)}, with a label that says what the call is about (for an
     * HTTP request, e.g. {@code GET /php/hello}); it shows in {@link WorkerInfo#currentLabel()}
     * while the call runs.
     */
    public CompletableFuture<@Nullable Object> callAsync(String method, @Nullable Object params,
            @Nullable String label) {
        return callAsyncOf(method, params, label, null);
    }

    /**
     * {@link #callAsync(String, Object)} with the result as {@code type} (see
     * {@link #call(String, Object, Class)}); a result that cannot be read as {@code type} fails the
     * future with an IllegalArgumentException.
     */
    @SuppressWarnings("unchecked")
    public <T> CompletableFuture<@Nullable T> callAsync(String method, @Nullable Object params, Class<T> type) {
        return typed(callAsync(method, params), result -> (T) read(method, result, type));
    }

    /** {@link #callAsync(String, Object, Class)} for a generic result type. */
    @SuppressWarnings("unchecked")
    public <T> CompletableFuture<@Nullable T> callAsync(String method, @Nullable Object params,
            ResultType<T> type) {
        return typed(callAsync(method, params), result -> (T) read(method, result, type.type()));
    }

    /** The typed future of a call: one its caller completes first (a cancel) withdraws the call, as the call's own would. */
    private static <T> CompletableFuture<@Nullable T> typed(CompletableFuture<@Nullable Object> call,
            Function<@Nullable Object, @Nullable T> read) {
        CompletableFuture<@Nullable T> typed = call.thenApply(read);
        typed.whenComplete((result, error) -> {
            if (!call.isDone()) {
                call.cancel(false);
            }
        });
        return typed;
    }

    /** {@code params} through the value mapper, unless their maker built them of wire values already. */
    private @Nullable Object toWire(String method, @Nullable Object params) {
        if (method == null) { // refused before a worker is taken, with more to go on than "method"
            throw new NullPointerException("Pool '" + name + "': the method to call is null; pass the name the "
                    + "worker registered the function under");
        }
        if (params instanceof WireMap) {
            return params;
        }
        try {
            return valueMapper.toWire(params);
        } catch (IllegalArgumentException e) {
            throw new InvalidParamsException(name, method, e);
        }
    }

    /** A result as {@code type}, or an IllegalArgumentException naming the pool and the method. */
    private @Nullable Object read(String method, @Nullable Object result, Type type) {
        Object value;
        try {
            value = valueMapper.fromWire(result, type);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Result of '" + method + "' on pool '" + name + "' cannot be read as "
                    + type.getTypeName() + ": " + e.getMessage(), e);
        }
        if (value == null && type instanceof Class<?> c && c.isPrimitive()) {
            // Returned, it would fail as an NPE where the caller unboxes it, far from the call.
            throw new IllegalArgumentException("Result of '" + method + "' on pool '" + name + "' cannot be read as "
                    + c.getName() + ": the worker returned null, which a primitive type cannot hold (ask for its box, "
                    + "e.g. Integer, to accept null)");
        }
        return value;
    }

    /**
     * Calls {@code method} on this thread if a worker is idle right now, else returns
     * {@link #NOT_CALLED} at once, without waiting or queueing (also when the request could not be
     * delivered to the worker taken). For a caller that must not block waiting for a worker but
     * may block while one works, e.g. an HTTP server thread falling back to {@link #callAsync}.
     *
     * @throws CallException as {@link #call(String, Object)}, once the call was made
     */
    public @Nullable Object tryCall(String method, @Nullable Object params, @Nullable String label) {
        return calls.tryCall(method, toWire(method, params), label, null);
    }

    /**
     * {@link #tryCall(String, Object, String)} for an answer that may come in parts: the Notify
     * messages the worker sends before its answer go to {@code parts}, on this thread (see
     * {@link CallParts}). The Folk SDK's HTTP handlers stream a large or flushed response this way
     * when asked to (docs/PROTOCOL.md, "Streamed answers").
     */
    public @Nullable Object tryCall(String method, @Nullable Object params, @Nullable String label, CallParts parts) {
        return calls.tryCall(method, toWire(method, params), label, parts);
    }

    /**
     * {@link #callAsync(String, Object, String)} for an answer that may come in parts, passed to
     * {@code parts} on the thread that runs the call (see {@link #tryCall(String, Object, String, CallParts)}).
     */
    public CompletableFuture<@Nullable Object> callAsync(String method, @Nullable Object params,
            @Nullable String label, CallParts parts) {
        return callAsyncOf(method, params, label, parts);
    }

    private CompletableFuture<@Nullable Object> callAsyncOf(String method, @Nullable Object params,
            @Nullable String label, @Nullable CallParts parts) {
        Object wire;
        try {
            wire = toWire(method, params);
        } catch (InvalidParamsException e) {
            return CompletableFuture.failedFuture(e); // as every other failure: in the future, not thrown
        }
        return calls.callAsync(method, wire, label, parts);
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
        return reset.start();
    }

    /**
     * Starts now every spawn that waits for its back-off after a failed boot, as if it had not
     * failed, and forgets the failures so far: for when their cause is gone (a broken script fixed
     * while a reset runs; reload on change calls it). A boot that fails again backs off as usual.
     */
    public void retryFailedBoots() {
        health.forgetBootFailures();
        lifecycle.retryAllNow();
    }

    /**
     * Recycles the worker with this pid if it belongs to this pool, make before break: it becomes
     * due, a replacement starts, and the worker is retired once that is ready (after its current
     * call if busy). Returns false, touching nothing, for any other pid (or a worker still starting).
     */
    public boolean recycle(int pid) {
        PooledWorker w = lifecycle.worker(pid);
        if (w == null || w.state == WorkerState.STOPPING || w.state == WorkerState.STARTING || health.closing()) {
            return false;
        }
        lifecycle.markDue(w, ExitReason.RECYCLE);
        // Routine recycles (max-jobs, lifetime) log at debug; one asked for is an operator's act.
        log.info("Pool '{}': worker {} recycled on request; it leaves once its replacement is ready{}", name, pid,
                w.state == WorkerState.BUSY ? " and its current call has ended" : "");
        return true;
    }

    /** A picture of the pool and its workers. */
    public PoolSnapshot snapshot() {
        long nowNanos = clock.nanoTime();
        Instant now = Instant.now();
        List<WorkerInfo> infos = new ArrayList<>();
        for (PooledWorker w : lifecycle.workers()) {
            infos.add(w.info(nowNanos, now));
        }
        infos.sort((a, b) -> Integer.compare(a.pid(), b.pid()));
        PoolSnapshot.Sizing sizing = new PoolSnapshot.Sizing(config.minSize(), config.maxSize(), lifecycle.targetSize(),
                config.elastic());
        PoolSnapshot.Saturation saturation = new PoolSnapshot.Saturation(stats.busy(), stats.maxBusy(),
                stats.recentMaxBusy(), stats.maxQueued(), stats.recentMaxQueued(), stats.noFreeWorker());
        PoolHealth.LastFailure lastFailure = health.lastFailureWithTime();
        return new PoolSnapshot(name, health.state(), config.size(), List.copyOf(infos), queueLength(), stats.calls(),
                stats.exits(), stats.spawns(), stats.bootFailures(), lastFailure == null ? null : lastFailure.message(),
                lastFailure == null ? null : lastFailure.at(), stats.recentExits(), now,
                stats.slowCalls(), sizing, saturation);
    }

    public int queueLength() {
        return dispatcher.queueLength();
    }

    /** Workers ready or serving, without taking a snapshot. */
    public int readyCount() {
        int n = 0;
        for (PooledWorker w : lifecycle.workers()) {
            if (w.state == WorkerState.IDLE || w.state == WorkerState.BUSY) {
                n++;
            }
        }
        return n;
    }

    private int targetSize() {
        return lifecycle.targetSize();
    }

    /** Whether no worker is ready or starting (every one left is stopping). Asked only of a BROKEN pool. */
    private boolean noneAlive() {
        return lifecycle.workers().stream().allMatch(w -> w.state == WorkerState.STOPPING);
    }

    /** The pool's state when a wait for a worker ends, and what to do about it. */
    private String describeLoad() {
        int busy = 0;
        int starting = 0;
        int serving = 0;
        for (PooledWorker w : lifecycle.workers()) {
            if (w.state == WorkerState.BUSY) {
                busy++;
            } else if (w.state == WorkerState.STARTING) {
                starting++;
            }
            if (w.state == WorkerState.BUSY || w.state == WorkerState.IDLE) {
                serving++;
            }
        }
        PoolHealth.LastFailure last = health.lastFailureWithTime();
        // With its age: a failure of minutes ago is seldom why calls wait now.
        String state = "(pool " + health.state() + ", " + busy + " busy, " + starting + " starting, " + queueLength()
                + " waiting" + (last == null ? "" : ", last failure "
                + Math.max(0, Duration.between(last.at(), Instant.now()).toSeconds())
                + " s ago: " + last.message()) + ").";
        if (serving == 0 && health.state() == PoolState.BROKEN) {
            // More workers or a longer wait would not help: none can start.
            return state + " No worker of this pool could start: fix what the last failure says; the pool keeps"
                    + " trying with back-off, and serves again once a worker starts.";
        }
        return state + " " + addWorkers(config) + ", raise acquire-timeout, or look for slow calls.";
    }

    /** The advice to add workers: {@code size} does nothing for an elastic pool, whose bound is {@code max-size}. */
    static String addWorkers(PoolConfig config) {
        return config.elastic() ? "Raise max-size (now " + config.maxSize() + ")" : "Add workers (size)";
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
     * Closes the pool as {@link java.util.concurrent.ExecutorService#shutdown()} does: refuses every
     * call made from now on ({@link PoolClosedException}, at once), and lets the calls it accepted
     * before finish within {@code drainTimeout} — those in flight, and those queued for a worker,
     * which the pool's workers still serve in their order. No worker is started for them: a worker
     * given back with nothing queued is stopped (closing fd 3), as the idle ones are at once. Once
     * {@code drainTimeout} has passed, the calls still queued fail with a PoolClosedException that
     * says the drain timeout ended before a worker was free, and those still running are killed with
     * their workers (they fail with a PoolClosedException too); queued calls fail at once, not at
     * the drain's end, if no worker is left to serve them (the last ones crashed or were killed). A
     * queued call still ends by its acquire-timeout, if that comes first. Then it waits until every
     * worker is reaped: within {@code drainTimeout} + close-wait + stop-grace + a few seconds.
     * Idempotent (a second call waits for the first); safe from a shutdown hook.
     */
    public void close(Duration drainTimeout) {
        if (!closeStarted.compareAndSet(false, true)) {
            awaitClosed(drainTimeout.plus(config.stopGrace()).plusSeconds(5));
            return;
        }
        health.draining(drainTimeout);
        housekeeper.wake(); // the drain's calls and stops are watched at the usual period
        List<Dispatcher.Waiter> handed = new ArrayList<>();
        List<PooledWorker> idleNow = dispatcher.closeAndTakeIdle(handed);
        for (Dispatcher.Waiter w : handed) {
            w.wake();
        }
        exits.retireAllAtClose(idleNow);
        long deadline = clock.nanoTime() + drainTimeout.toNanos();
        while (clock.nanoTime() - deadline < 0) {
            boolean queued = dispatcher.queueLength() > 0;
            if (queued && !anyLeftToServe()) {
                failQueued("and no worker is left to serve the call: the pool's workers exited while it "
                        + "drained, and a closing pool starts none");
                continue;
            }
            if (!queued && !anyBusy()) {
                break;
            }
            LockSupport.parkNanos(2_000_000);
        }
        failQueued("and drain-timeout " + Durations.text(drainTimeout) + " ended before a worker was free for the call");
        for (PooledWorker w : lifecycle.workers()) {
            if (w.state == WorkerState.BUSY) {
                abortAtClose(w, drainTimeout);
            } else if (w.state == WorkerState.STARTING) {
                w.link.abortControl();
                w.link.kill();
            }
        }
        long stopDeadline = clock.nanoTime() + config.closeWait().plus(config.stopGrace()).toNanos()
                + TimeUnit.SECONDS.toNanos(3);
        while (!lifecycle.workers().isEmpty() && clock.nanoTime() - stopDeadline < 0) {
            LockSupport.parkNanos(2_000_000);
        }
        if (!lifecycle.workers().isEmpty()) {
            log.warn("Pool '{}': {} workers still stopping at close; the supervisor's shutdown reaps them", name,
                    lifecycle.workers().size());
        }
        housekeeper.stop();
        executors.shutdown();
        health.closed();
        closed.countDown();
    }

    /** Fails the calls still queued, saying {@code why} (it completes "the pool is closed ..."). */
    private void failQueued(String why) {
        List<Dispatcher.Waiter> left = new ArrayList<>();
        dispatcher.takeWaiters(left);
        if (!left.isEmpty()) {
            log.warn("Pool '{}': {} queued calls fail at close: the pool is closed {}", name, left.size(), why);
        }
        for (Dispatcher.Waiter w : left) {
            w.close(why);
        }
    }

    /**
     * A busy worker past the drain timeout: a call running on it is killed with its worker; a call
     * that holds it but has not sent anything yet (an async call whose thread has not run it, say)
     * will fail instead of sending ({@link PooledWorker#beginCall}), and the worker is stopped now,
     * since once the pool is closed nothing would time that call out.
     */
    private void abortAtClose(PooledWorker w, Duration drainTimeout) {
        while (true) {
            int cs = w.call.get();
            if (cs == PooledWorker.IN_CALL && w.call.compareAndSet(cs, PooledWorker.ABORTED)) {
                log.warn("Pool '{}': call '{}' on worker {} still running after drain-timeout {}: killing it", name,
                        w.currentMethod, w.pid, Durations.text(drainTimeout));
                w.link.abortTask();
                w.link.kill();
                return;
            }
            if (cs == PooledWorker.NO_CALL && w.call.compareAndSet(cs, PooledWorker.ABORTED)) {
                exits.retire(w, ExitReason.SHUTDOWN, false); // once: the caller's own retire then does nothing
                return;
            }
            if (cs != PooledWorker.IN_CALL && cs != PooledWorker.NO_CALL) {
                return; // timed out or over its memory limit: being killed already
            }
        }
    }

    /**
     * Whether a worker may still take a queued call during the drain: one serving (busy; idle only
     * in passing), or one that was starting when the close began and may yet become ready (a closing
     * pool starts no spawn, and a boot ends by boot-timeout).
     */
    private boolean anyLeftToServe() {
        for (PooledWorker w : lifecycle.workers()) {
            WorkerState s = w.state;
            if ((s == WorkerState.BUSY || s == WorkerState.IDLE || s == WorkerState.STARTING) && !w.retired.get()) {
                return true;
            }
        }
        return false;
    }

    private boolean anyBusy() {
        for (PooledWorker w : lifecycle.workers()) {
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

    @Override
    public String toString() {
        return "WorkerPool[" + name + ", " + health.state() + ", size " + lifecycle.targetSize() + ']';
    }
}
