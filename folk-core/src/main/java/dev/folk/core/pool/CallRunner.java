package dev.folk.core.pool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.protocol.FrameTooLargeException;
import dev.folk.core.protocol.Message;
import dev.folk.core.protocol.ProtocolException;
import dev.folk.core.protocol.RemoteError;
import dev.folk.core.supervision.ChannelResetException;
import dev.folk.core.util.Durations;

import org.jspecify.annotations.Nullable;

/**
 * Runs calls: acquires a worker, sends the request, reads the response, gives the worker back —
 * and when anything fails, decides what it was (exec timeout, memory limit, close, crash,
 * protocol error, or a request that never reached the worker and may go to another) and which
 * {@link CallException} the caller gets. The caller's own thread does the socket I/O; async calls
 * run theirs on the pool's async threads ({@link AsyncCalls}: a queued call handed a worker by one
 * of them runs next on that same thread).
 *
 * <p>A {@link CallObserver} (tracing) wraps each of the three entry points; the observed and the
 * plain path sit side by side so that the plain one stays allocation-free, which makes this file a
 * little over our usual 400 lines.
 */
final class CallRunner {

    /** A write that fails delivered nothing: the call may safely try another worker, this often. */
    private static final int MAX_UNDELIVERED_RETRIES = 3;

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    private final WorkerPool pool;
    private final PoolConfig config;
    private final String name;
    private final PoolClock clock;
    private final WorkerHost host;
    private final PoolHealth health;
    private final PoolStatistics stats;
    private final PoolExecutors executors;
    private final Dispatcher dispatcher;
    private final WorkerLifecycle lifecycle;
    private final WorkerExits exits;
    private final Supplier<String> load;
    private final long acquireTimeoutNanos;
    private final long execTimeoutNanos;
    private final AsyncCalls asyncCalls;

    CallRunner(WorkerPool pool, PoolConfig config, PoolClock clock, WorkerHost host, PoolHealth health,
               PoolStatistics stats, PoolExecutors executors, Dispatcher dispatcher, WorkerLifecycle lifecycle, Supplier<String> load) {
        this.pool = pool;
        this.config = config;
        this.name = config.name();
        this.clock = clock;
        this.host = host;
        this.health = health;
        this.stats = stats;
        this.executors = executors;
        this.dispatcher = dispatcher;
        this.lifecycle = lifecycle;
        this.exits = lifecycle.exits();
        this.load = load;
        this.acquireTimeoutNanos = config.acquireTimeout().toNanos();
        this.execTimeoutNanos = config.execTimeout().toNanos();
        this.asyncCalls = new AsyncCalls(executors.asyncCallers());
        dispatcher.onBeforeWait(asyncCalls::passOnOwn);
    }

    /** Every housekeeping tick: async calls held up behind a blocked callback go to another thread. */
    void passOnHeldUp() {
        asyncCalls.passOnHeldUp();
    }

    /**
     * Set by {@link WorkerPool#observeCalls}; read once per call. Without one, no call path below
     * allocates anything for observation (the benchmarked hot path stays as it was).
     */
    private volatile @Nullable CallObserver observer;

    void observeCalls(CallObserver observer) {
        this.observer = observer;
    }

    @Nullable Object call(String method, @Nullable Object params) {
        CallObserver o = observer;
        @Nullable CallObservation observation = o == null ? null : started(o, method, params, null);
        if (observation == null) {
            return call(method, params, null);
        }
        @Nullable Object result;
        try {
            result = call(method, paramsFor(observation, params), observation);
        } catch (RuntimeException | Error e) {
            ended(observation, e);
            throw e;
        }
        ended(observation, null);
        return result;
    }

    private @Nullable Object call(String method, @Nullable Object params, @Nullable CallObservation observation) {
        long start = clock.nanoTime();
        for (int attempt = 0; ; attempt++) {
            PooledWorker w = dispatcher.acquire(method, start);
            try {
                return execute(w, method, params, null, null, start, observation);
            } catch (Undelivered e) {
                if (attempt >= MAX_UNDELIVERED_RETRIES) {
                    throw e.failure;
                }
            }
        }
    }

    @Nullable Object tryCall(String method, @Nullable Object params, @Nullable String label,
                             @Nullable CallParts parts) {
        long start = clock.nanoTime();
        PooledWorker w = dispatcher.acquireIfIdle(method);
        if (w == null) {
            return WorkerPool.NOT_CALLED;
        }
        CallObserver o = observer;
        CallObservation observation = o == null ? null : started(o, method, params, label);
        if (observation == null) {
            try {
                return execute(w, method, params, label, parts, start, null);
            } catch (Undelivered e) {
                return WorkerPool.NOT_CALLED;
            }
        }
        @Nullable Object result;
        try {
            result = execute(w, method, paramsFor(observation, params), label, parts, start, observation);
        } catch (Undelivered e) {
            ended(observation, e.failure); // the caller calls again: that is another observation
            return WorkerPool.NOT_CALLED;
        } catch (RuntimeException | Error e) {
            ended(observation, e);
            throw e;
        }
        ended(observation, null);
        return result;
    }

    CompletableFuture<@Nullable Object> callAsync(String method, @Nullable Object params, @Nullable String label,
                                                  @Nullable CallParts parts) {
        CallObserver o = observer;
        CallObservation observation = o == null ? null : started(o, method, params, label);
        if (observation == null) {
            return callAsync(method, params, label, parts, null, null);
        }
        // Ended before the caller's future completes, so the caller's own callbacks are not timed as the call.
        CompletableFuture<@Nullable Object> caller = new CompletableFuture<>();
        callAsync(method, paramsFor(observation, params), label, parts, observation, caller).whenComplete((result, error) -> {
            ended(observation, error);
            if (error == null) {
                caller.complete(result);
            } else {
                caller.completeExceptionally(error);
            }
        });
        return caller;
    }

    /**
     * @param callerFuture the future the caller holds, if not the one returned: a caller that
     *                     completes or cancels it before the call reached a worker withdraws the call
     */
    @SuppressWarnings("NullAway") // no worker now means the call was queued, so waiter is set
    private CompletableFuture<@Nullable Object> callAsync(String method, @Nullable Object params,
                                                          @Nullable String label, @Nullable CallParts parts,
                                                          @Nullable CallObservation observation,
                                                          @Nullable CompletableFuture<?> callerFuture) {
        long start = clock.nanoTime();
        CompletableFuture<@Nullable Object> future = new CompletableFuture<>();
        CompletableFuture<?> visible = callerFuture != null ? callerFuture : future;
        AsyncWaiter waiter = null;
        PooledWorker w;
        try {
            w = dispatcher.acquireIfIdle(method);
            if (w == null) {
                // made before the call may queue, which needs it; else once it has its worker
                waiter = new AsyncWaiter(method, params, label, parts, future, visible, start, observation);
                w = dispatcher.acquireOrQueue(waiter, method, start);
            }
        } catch (CallException e) {
            future.completeExceptionally(e);
            return future;
        }
        if (w != null) {
            AsyncWaiter call = waiter != null ? waiter
                    : new AsyncWaiter(method, params, label, parts, future, visible, start, observation);
            call.worker = w;
            asyncCalls.runNew(call);
        } else {
            AsyncWaiter queued = waiter;
            queued.expiry = executors.housekeeper.schedule(() -> expire(queued), acquireTimeoutNanos,
                    TimeUnit.NANOSECONDS);
            // A caller that gives up (cancel(), orTimeout(), complete()) takes the call out of the queue:
            // PHP does not run what nobody waits for, and the call's place goes to the next.
            visible.whenComplete((result, error) -> withdrawIfQueued(queued));
        }
        return future;
    }

    /** A queued call whose caller's future was completed by the caller: withdrawn, if no worker was handed to it yet. */
    private void withdrawIfQueued(AsyncWaiter waiter) {
        if (waiter.worker != null || !dispatcher.withdraw(waiter)) {
            return; // it has a worker (its run sees the caller's future done) or it left the queue otherwise
        }
        ScheduledFuture<?> e = waiter.expiry;
        if (e != null) {
            e.cancel(false);
        }
        cancelled(waiter.method, waiter.start, waiter.future);
    }

    /** Ends a call whose caller gave up before it reached a worker. */
    private void cancelled(String method, long start, CompletableFuture<@Nullable Object> future) {
        long waited = clock.nanoTime() - start;
        stats.record(method, CallOutcome.CANCELLED, waited, 0);
        future.completeExceptionally(new CallCancelledException(name, method, "its future was completed by the caller",
                waited));
    }

    private void runAsync(PooledWorker w, String method, @Nullable Object params, @Nullable String label,
                          @Nullable CallParts parts, CompletableFuture<@Nullable Object> future,
                          CompletableFuture<?> visible, long start, @Nullable CallObservation observation, int attempt) {
        if (attempt == 0 && visible.isDone()) {
            // The caller gave up while the worker was being handed to this call.
            lifecycle.giveBack(w);
            cancelled(method, start, future);
            return;
        }
        try {
            future.complete(execute(w, method, params, label, parts, start, observation));
        } catch (Undelivered e) {
            if (attempt >= MAX_UNDELIVERED_RETRIES) {
                future.completeExceptionally(e.failure);
            } else {
                try {
                    PooledWorker next = dispatcher.acquire(method, start);
                    runAsync(next, method, params, label, parts, future, visible, start, observation, attempt + 1);
                } catch (RuntimeException failure) {
                    future.completeExceptionally(failure);
                }
            }
        } catch (RuntimeException | Error e) {
            future.completeExceptionally(e);
        }
    }

    private void expire(AsyncWaiter waiter) {
        if (!dispatcher.withdraw(waiter)) {
            return;
        }
        stats.record(waiter.method, CallOutcome.ACQUIRE_TIMEOUT, clock.nanoTime() - waiter.start, 0);
        waiter.future.completeExceptionally(
                new NoWorkerAvailableException(name, waiter.method, config.acquireTimeout(), load.get()));
    }

    /** Runs one call on a worker the caller acquired; gives it back or retires it whatever happens. */
    private @Nullable Object execute(PooledWorker w, String method, @Nullable Object params, @Nullable String label,
                                     @Nullable CallParts parts, long start, @Nullable CallObservation observation) {
        long acquired = clock.nanoTime();
        ByteBuffer frame;
        try {
            frame = observation == null ? w.encode(method, params) : encodeObserved(w, method, params, observation);
        } catch (FrameTooLargeException e) {
            lifecycle.giveBack(w);
            stats.record(method, CallOutcome.REQUEST_TOO_LARGE, acquired - start, 0);
            throw new RequestTooLargeException(name, method, w.pid, e);
        } catch (IllegalArgumentException e) {
            lifecycle.giveBack(w); // the codec refused a value: the worker has seen nothing
            throw new InvalidParamsException(name, method, e);
        } catch (RuntimeException | Error e) {
            // No heap left for the frame, say: the worker has seen nothing and is fine. Kept, it would
            // stay acquired for good: no deadline runs yet.
            lifecycle.giveBack(w);
            throw e;
        }
        if (!w.beginCall(method, label, acquired, acquired + execTimeoutNanos)) {
            // The pool's close passed its drain timeout while this call held the worker unsent.
            exits.retire(w, ExitReason.SHUTDOWN, false);
            stats.record(method, CallOutcome.POOL_CLOSED, acquired - start, 0);
            throw health.closedFailure(method, w.pid, "before the call reached its worker, which it held past "
                    + "drain-timeout " + Durations.text(health.drainTimeout()));
        }
        if (parts != null) {
            try {
                parts.worker(w.pid);
            } catch (RuntimeException e) {
                // only a name for the caller's log lines: the call goes on without it
            }
        }
        try {
            w.send(frame);
        } catch (IOException e) {
            // Nothing was delivered (a partial frame is never processed): another worker may take it.
            int cs = w.call.get();
            if (cs == PooledWorker.IN_CALL) {
                w.endCall(clock.nanoTime());
                exits.retire(w, ExitReason.CRASH, true);
                throw new Undelivered(new WorkerCrashedException(name, method, w.pid,
                        "its task channel failed: " + e.getMessage(), null, e));
            }
            return failed(w, method, cs, e, start, acquired);
        }
        Message.Response response;
        try {
            response = w.receive(parts);
        } catch (ProtocolException e) {
            int cs = w.call.get();
            if (cs != PooledWorker.IN_CALL) {
                return failed(w, method, cs, e, start, acquired);
            }
            w.endCall(clock.nanoTime());
            exits.retire(w, ExitReason.PROTOCOL_ERROR, true);
            stats.record(method, CallOutcome.PROTOCOL_ERROR, acquired - start, clock.nanoTime() - acquired);
            throw new WorkerProtocolException(name, method, w.pid, e);
        } catch (ChannelResetException e) {
            int cs = w.call.get();
            if (cs == PooledWorker.IN_CALL) {
                // It died with our request unread in its socket: not delivered, so another worker may run it.
                w.endCall(clock.nanoTime());
                exits.retire(w, ExitReason.CRASH, true);
                throw new Undelivered(new WorkerCrashedException(name, method, w.pid,
                        "died before reading the request", null, e));
            }
            return failed(w, method, cs, e, start, acquired);
        } catch (IOException e) {
            return failed(w, method, w.call.get(), e, start, acquired);
        } catch (RuntimeException | Error e) {
            // No heap for the answer, or a part's consumer failed: the rest of the answer is still in the
            // channel, unread, so the worker cannot serve another call. It goes, and the caller learns why.
            if (w.call.get() == PooledWorker.IN_CALL) {
                long end = clock.nanoTime();
                w.endCall(end);
                exits.retire(w, ExitReason.PROTOCOL_ERROR, true);
                stats.record(method, CallOutcome.PROTOCOL_ERROR, acquired - start, end - acquired);
            }
            throw e;
        }
        long end = clock.nanoTime();
        if (w.endCall(end)) {
            if (response.exiting()) {
                // PHP's exit() in the handler: the answer is good, but the process is on its way out.
                w.exitingCall = label != null ? label : method; // for the exit's log line
                exits.retire(w, ExitReason.EXITED, false);
            } else if (w.answeredTwice) {
                exits.retire(w, ExitReason.PROTOCOL_ERROR, true); // its answer is good; the worker is out of sync
            } else {
                // Output the call left without a newline is its own line, before the next call can add to it.
                w.link.endOutputLine();
                lifecycle.giveBack(w);
            }
        } else {
            // The housekeeper fired just as the answer arrived: the worker is being killed; keep the answer.
            int cs = w.call.get();
            exits.retire(w, cs == PooledWorker.ABORTED ? ExitReason.SHUTDOWN
                    : cs == PooledWorker.MEMORY_EXCEEDED ? ExitReason.MEMORY_LIMIT : ExitReason.EXEC_TIMEOUT, true);
            if (cs == PooledWorker.TIMED_OUT) {
                // Except past the exec deadline: while the pool waits for the worker's PHP stack before
                // the kill, the signal that asked for it may cut a sleep() short and so make the answer.
                stats.record(method, CallOutcome.EXEC_TIMEOUT, acquired - start, end - acquired);
                throw new ExecTimeoutException(name, method, w.pid, config.execTimeout(), SlowCalls.stuckAt(w));
            }
        }
        RemoteError error = response.error();
        if (error != null) {
            stats.record(method, CallOutcome.APPLICATION_ERROR, acquired - start, end - acquired);
            throw new WorkerErrorException(name, method, w.pid, error);
        }
        stats.record(method, CallOutcome.SUCCESS, acquired - start, end - acquired);
        return response.result();
    }

    /** Tells the observation its worker; sends its context only to a worker that declared the feature. */
    private ByteBuffer encodeObserved(PooledWorker w, String method, @Nullable Object params,
                                      CallObservation observation) {
        Map<String, String> context = null;
        try {
            observation.worker(w.pid);
            if (w.features.has(CallObservation.FEATURE)) {
                context = observation.context();
            }
        } catch (RuntimeException e) {
            log.warn("Pool '{}': call observation {} failed", name, observation, e);
        }
        return context == null || context.isEmpty() ? w.encode(method, params) : w.encode(method, params, context);
    }

    private @Nullable CallObservation started(CallObserver observer, String method, @Nullable Object params,
                                              @Nullable String label) {
        try {
            return observer.callStarted(pool, method, params, label);
        } catch (RuntimeException e) {
            log.warn("Pool '{}': call observer {} failed; the call goes on unobserved", name, observer, e);
            return null;
        }
    }

    private @Nullable Object paramsFor(CallObservation observation, @Nullable Object params) {
        try {
            return observation.params(params);
        } catch (RuntimeException e) {
            log.warn("Pool '{}': call observation {} failed; the params go unchanged", name, observation, e);
            return params;
        }
    }

    private void ended(CallObservation observation, @Nullable Throwable error) {
        try {
            observation.ended(error == null ? CallOutcome.SUCCESS : CallOutcome.of(error), error);
        } catch (RuntimeException e) {
            log.warn("Pool '{}': call observation {} failed", name, observation, e);
        }
    }

    /** The call's I/O failed: decide whether that was a timeout, a close or a crash. */
    private @Nullable Object failed(PooledWorker w, String method, int callState, Exception cause, long start, long acquired) {
        long end = clock.nanoTime();
        w.endCall(end);
        if (callState == PooledWorker.TIMED_OUT) {
            exits.retire(w, ExitReason.EXEC_TIMEOUT, true);
            stats.record(method, CallOutcome.EXEC_TIMEOUT, acquired - start, end - acquired);
            throw new ExecTimeoutException(name, method, w.pid, config.execTimeout(), SlowCalls.stuckAt(w));
        }
        if (callState == PooledWorker.ABORTED) {
            exits.retire(w, ExitReason.SHUTDOWN, true);
            stats.record(method, CallOutcome.POOL_CLOSED, acquired - start, end - acquired);
            throw health.closedFailure(method, w.pid, "while the call ran past drain-timeout " + Durations.text(health.drainTimeout()));
        }
        if (callState == PooledWorker.MEMORY_EXCEEDED) {
            exits.retire(w, ExitReason.MEMORY_LIMIT, true);
            stats.record(method, CallOutcome.MEMORY_LIMIT, acquired - start, end - acquired);
            throw new WorkerMemoryLimitException(name, method, w.pid, config.memoryLimitBytes(), w.rssAtKill);
        }
        if (host.isClosed()) {
            exits.retire(w, ExitReason.SHUTDOWN, true);
            stats.record(method, CallOutcome.POOL_CLOSED, acquired - start, end - acquired);
            throw health.closedFailure(method, w.pid, "(the application is shutting down and its workers were stopped)");
        }
        // Usually the process is already dead: reap it here so the message can say how it ended.
        WorkerExits.Crashed crashed = w.link.awaitExit(Duration.ofMillis(200)) ? exits.retireCrashed(w) : null;
        String exit = crashed != null ? crashed.toString() : "closed its task channel: " + cause.getMessage();
        if (crashed == null) {
            exits.retire(w, ExitReason.CRASH, true);
        }
        health.lastFailure("worker " + w.pid + " crashed during '" + method + "' (" + exit + ")");
        stats.record(method, CallOutcome.WORKER_CRASHED, acquired - start, end - acquired);
        throw new WorkerCrashedException(name, method, w.pid, exit, crashed == null ? null : crashed.status(), cause);
    }

    /**
     * An async call: queued while it waits for a worker, run on an async thread once it has one.
     * When the JVM cannot start that thread (a limit on its tasks), the pool keeps the call and
     * tries again every second; once it has waited acquire-timeout in all, it is abandoned: failed
     * without running, its worker given back, where a synchronous caller can use it on its own thread.
     */
    private final class AsyncWaiter extends Dispatcher.Waiter implements Abandonable {
        final String method;
        final @Nullable Object params;
        final @Nullable String label;
        final @Nullable CallParts parts;
        final CompletableFuture<@Nullable Object> future;
        /** The future the caller holds: {@link #future}, or the observed call's. */
        final CompletableFuture<?> visible;
        final long start;
        final @Nullable CallObservation observation;
        volatile @Nullable ScheduledFuture<?> expiry;

        AsyncWaiter(String method, @Nullable Object params, @Nullable String label, @Nullable CallParts parts,
                    CompletableFuture<@Nullable Object> future, CompletableFuture<?> visible, long start,
                    @Nullable CallObservation observation) {
            this.method = method;
            this.params = params;
            this.label = label;
            this.parts = parts;
            this.future = future;
            this.visible = visible;
            this.start = start;
            this.observation = observation;
        }

        @Override
        @SuppressWarnings("NullAway") // woken only once the dispatcher has set worker
        void wake() {
            ScheduledFuture<?> e = expiry;
            if (e != null) {
                e.cancel(false);
            }
            asyncCalls.runHandedOver(this);
        }

        @Override
        @SuppressWarnings("NullAway") // run only once the call has its worker
        public void run() {
            runAsync(worker, method, params, label, parts, future, visible, start, observation, 0);
        }

        @Override
        public boolean expired() {
            return clock.nanoTime() - start - acquireTimeoutNanos >= 0;
        }

        @Override
        @SuppressWarnings("NullAway") // abandoned only once the call has its worker
        public void abandon() {
            lifecycle.giveBack(worker); // it has seen nothing of this call
            stats.record(method, CallOutcome.ACQUIRE_TIMEOUT, clock.nanoTime() - start, 0);
            future.completeExceptionally(NoWorkerAvailableException.noThread(name, method, config.acquireTimeout()));
        }

        @Override
        void close(String why) {
            closedWhy = why;
            ScheduledFuture<?> e = expiry;
            if (e != null) {
                e.cancel(false);
            }
            future.completeExceptionally(health.closedFailure(method, 0, why));
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
}
