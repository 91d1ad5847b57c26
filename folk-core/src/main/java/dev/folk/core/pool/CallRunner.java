package dev.folk.core.pool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.folk.core.protocol.FrameTooLargeException;
import dev.folk.core.protocol.Message;
import dev.folk.core.protocol.ProtocolException;
import dev.folk.core.protocol.RemoteError;
import dev.folk.core.supervision.ChannelResetException;

import org.jspecify.annotations.Nullable;

/**
 * Runs calls: acquires a worker, sends the request, reads the response, gives the worker back —
 * and when anything fails, decides what it was (exec timeout, memory limit, close, crash,
 * protocol error, or a request that never reached the worker and may go to another) and which
 * {@link CallException} the caller gets. The caller's own thread does the socket I/O; async calls
 * run theirs on the pool's async executor.
 */
final class CallRunner {

    /** A write that fails delivered nothing: the call may safely try another worker, this often. */
    private static final int MAX_UNDELIVERED_RETRIES = 3;

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

    CallRunner(PoolConfig config, PoolClock clock, WorkerHost host, PoolHealth health, PoolStatistics stats,
               PoolExecutors executors, Dispatcher dispatcher, WorkerLifecycle lifecycle, Supplier<String> load) {
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
    }

    @Nullable Object call(String method, @Nullable Object params) {
        long start = clock.nanoTime();
        for (int attempt = 0; ; attempt++) {
            PooledWorker w = dispatcher.acquire(method, start);
            try {
                return execute(w, method, params, null, start);
            } catch (Undelivered e) {
                if (attempt >= MAX_UNDELIVERED_RETRIES) {
                    throw e.failure;
                }
            }
        }
    }

    @Nullable Object tryCall(String method, @Nullable Object params, @Nullable String label) {
        long start = clock.nanoTime();
        PooledWorker w = dispatcher.acquireIfIdle(method);
        if (w == null) {
            return WorkerPool.NOT_CALLED;
        }
        try {
            return execute(w, method, params, label, start);
        } catch (Undelivered e) {
            return WorkerPool.NOT_CALLED;
        }
    }

    @SuppressWarnings("NullAway") // no worker now means the call was queued, so waiter is set
    CompletableFuture<@Nullable Object> callAsync(String method, @Nullable Object params, @Nullable String label) {
        long start = clock.nanoTime();
        CompletableFuture<Object> future = new CompletableFuture<>();
        AsyncWaiter waiter = null;
        PooledWorker w;
        try {
            w = dispatcher.acquireIfIdle(method);
            if (w == null) {
                waiter = new AsyncWaiter(method, params, label, future, start); // only a call that may wait needs one
                w = dispatcher.acquireOrQueue(waiter, method, start);
            }
        } catch (CallException e) {
            future.completeExceptionally(e);
            return future;
        }
        if (w != null) {
            PooledWorker worker = w;
            executors.asyncRunner.execute(() -> runAsync(worker, method, params, label, future, start, 0));
        } else {
            AsyncWaiter queued = waiter;
            queued.expiry = executors.housekeeper.schedule(() -> expire(queued), acquireTimeoutNanos,
                    TimeUnit.NANOSECONDS);
        }
        return future;
    }

    private void runAsync(PooledWorker w, String method, @Nullable Object params, @Nullable String label,
            CompletableFuture<@Nullable Object> future,
                          long start, int attempt) {
        try {
            future.complete(execute(w, method, params, label, start));
        } catch (Undelivered e) {
            if (attempt >= MAX_UNDELIVERED_RETRIES) {
                future.completeExceptionally(e.failure);
            } else {
                try {
                    PooledWorker next = dispatcher.acquire(method, start);
                    runAsync(next, method, params, label, future, start, attempt + 1);
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
            long start) {
        long acquired = clock.nanoTime();
        ByteBuffer frame;
        try {
            frame = w.encode(method, params);
        } catch (FrameTooLargeException e) {
            lifecycle.giveBack(w);
            stats.record(method, CallOutcome.REQUEST_TOO_LARGE, acquired - start, 0);
            throw new RequestTooLargeException(name, method, w.pid, e);
        } catch (RuntimeException e) {
            lifecycle.giveBack(w); // unsupported parameter type: the caller's bug, the worker is fine
            throw e;
        }
        w.beginCall(method, label, acquired, acquired + execTimeoutNanos);
        try {
            w.send(frame);
        } catch (IOException e) {
            // Nothing was delivered (a partial frame is never processed): another worker may take it.
            int cs = w.call.get();
            if (cs == PooledWorker.IN_CALL) {
                w.endCall(clock.nanoTime());
                exits.retire(w, ExitReason.CRASH, true);
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
                        "died before reading the request", e));
            }
            return failed(w, method, cs, e, start, acquired);
        } catch (IOException e) {
            return failed(w, method, w.call.get(), e, start, acquired);
        }
        long end = clock.nanoTime();
        if (w.endCall(end)) {
            lifecycle.giveBack(w);
        } else {
            // The housekeeper fired just as the answer arrived: the worker is being killed; keep the answer.
            int cs = w.call.get();
            exits.retire(w, cs == PooledWorker.ABORTED ? ExitReason.SHUTDOWN
                    : cs == PooledWorker.MEMORY_EXCEEDED ? ExitReason.MEMORY_LIMIT : ExitReason.EXEC_TIMEOUT, true);
        }
        RemoteError error = response.error();
        if (error != null) {
            stats.record(method, CallOutcome.APPLICATION_ERROR, acquired - start, end - acquired);
            throw new WorkerErrorException(name, method, w.pid, error.code(), error.message());
        }
        stats.record(method, CallOutcome.SUCCESS, acquired - start, end - acquired);
        return response.result();
    }

    /** The call's I/O failed: decide whether that was a timeout, a close or a crash. */
    private @Nullable Object failed(PooledWorker w, String method, int callState, Exception cause, long start, long acquired) {
        long end = clock.nanoTime();
        w.endCall(end);
        if (callState == PooledWorker.TIMED_OUT) {
            exits.retire(w, ExitReason.EXEC_TIMEOUT, true);
            stats.record(method, CallOutcome.EXEC_TIMEOUT, acquired - start, end - acquired);
            throw new ExecTimeoutException(name, method, w.pid, config.execTimeout());
        }
        if (callState == PooledWorker.ABORTED) {
            exits.retire(w, ExitReason.SHUTDOWN, true);
            stats.record(method, CallOutcome.POOL_CLOSED, acquired - start, end - acquired);
            throw health.closedFailure(method, w.pid, "while the call ran past drain-timeout " + config.drainTimeout());
        }
        if (callState == PooledWorker.MEMORY_EXCEEDED) {
            exits.retire(w, ExitReason.MEMORY_LIMIT, true);
            stats.record(method, CallOutcome.MEMORY_LIMIT, acquired - start, end - acquired);
            throw new WorkerMemoryLimitException(name, method, w.pid, config.memoryLimitBytes(), w.rssAtKill);
        }
        if (host.isClosed()) {
            exits.retire(w, ExitReason.SHUTDOWN, true);
            stats.record(method, CallOutcome.POOL_CLOSED, acquired - start, end - acquired);
            throw health.closedFailure(method, w.pid, "the application is shutting down and its workers were stopped");
        }
        // Usually the process is already dead: reap it here so the message can say how it ended.
        String exit = w.link.awaitExit(Duration.ofMillis(200)) ? exits.retireCrashed(w) : null;
        if (exit == null) {
            exit = "closed its task channel: " + cause.getMessage();
            exits.retire(w, ExitReason.CRASH, true);
        }
        health.lastFailure("worker " + w.pid + " crashed during '" + method + "' (" + exit + ")");
        stats.record(method, CallOutcome.WORKER_CRASHED, acquired - start, end - acquired);
        throw new WorkerCrashedException(name, method, w.pid, exit, cause);
    }

    /** An async call waiting for a worker: run on the async executor once handed one. */
    private final class AsyncWaiter extends Dispatcher.Waiter {
        final String method;
        final @Nullable Object params;
        final @Nullable String label;
        final CompletableFuture<@Nullable Object> future;
        final long start;
        volatile @Nullable ScheduledFuture<?> expiry;

        AsyncWaiter(String method, @Nullable Object params, @Nullable String label, CompletableFuture<@Nullable Object> future,
                long start) {
            this.method = method;
            this.params = params;
            this.label = label;
            this.future = future;
            this.start = start;
        }

        @Override
        @SuppressWarnings("NullAway") // woken only once the dispatcher has set worker
        void wake() {
            ScheduledFuture<?> e = expiry;
            if (e != null) {
                e.cancel(false);
            }
            PooledWorker w = worker;
            executors.asyncRunner.execute(() -> runAsync(w, method, params, label, future, start, 0));
        }

        @Override
        void close() {
            ScheduledFuture<?> e = expiry;
            if (e != null) {
                e.cancel(false);
            }
            future.completeExceptionally(health.closedFailure(method, 0, "while the call waited for a worker"));
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
