package dev.folk.core.pool;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;

import org.jspecify.annotations.Nullable;

/**
 * Runs asynchronous calls on the pool's async threads. A call handed a worker by an async thread
 * that is finishing another call (the worker it gives back goes to the oldest waiter) is run next
 * by that same thread instead of waking another one: under load every queued call is handed over
 * that way, and each hand-off between threads costs a wake-up and a park (futex calls and context
 * switches), which cost the JVM more per HTTP request than the gateway's own work.
 *
 * <p>The thread first finishes its own call, including the callbacks of that call's future. A
 * callback may block. When it waits for a worker of this pool (a synchronous call), the call handed
 * to its thread goes to another async thread at once ({@link #passOnOwn()}): that call holds a
 * worker, maybe the one the callback waits for. A callback blocked otherwise (on a future, say)
 * holds up the call handed to it until the next {@link #passOnHeldUp()} but one (the housekeeper
 * runs it every tick), which passes it on. The pool's async threads grow when all are taken, so a
 * call passed on always finds one.
 */
final class AsyncCalls {

    /** One async thread's run of calls: the one it runs now, and the one handed to it to run next. */
    private static final class Chain {
        final AtomicReference<@Nullable Runnable> next = new AtomicReference<>();
        /** The call {@link #passOnHeldUp()} saw waiting at its previous run (housekeeper thread only). */
        @Nullable Runnable seen;
    }

    private final Executor threads;
    /** The chain of the current thread while it runs calls; null on every other thread. */
    private final ThreadLocal<@Nullable Chain> current = new ThreadLocal<>();
    /** The chains being run now, for {@link #passOnHeldUp()}. */
    private final Set<Chain> running = ConcurrentHashMap.newKeySet();

    AsyncCalls(Executor threads) {
        this.threads = threads;
    }

    /**
     * Runs a call that has just taken an idle worker, on a free async thread: its caller may be an
     * async thread's callback that waits for it.
     *
     * @throws RejectedExecutionException if the pool's threads are shut down
     */
    void runNew(Runnable call) {
        threads.execute(call instanceof Abandonable a ? new AbandonableChain(a) : () -> runChain(call));
    }

    /** A chain whose first call can be abandoned while no thread could be started for it ({@link PoolExecutors}). */
    private final class AbandonableChain implements Abandonable {
        private final Abandonable first;

        AbandonableChain(Abandonable first) {
            this.first = first;
        }

        @Override
        public void run() {
            runChain(first);
        }

        @Override
        public boolean expired() {
            return first.expired();
        }

        @Override
        public void abandon() {
            first.abandon();
        }
    }

    /**
     * Runs a queued call that a finished call's worker was handed to: next on this thread if it is
     * an async thread (and has no other call handed to it), else on a free one.
     *
     * @throws RejectedExecutionException if the pool's threads are shut down
     */
    void runHandedOver(Runnable call) {
        Chain chain = current.get();
        if (chain == null || !chain.next.compareAndSet(null, call)) {
            runNew(call);
        }
    }

    private void runChain(Runnable first) {
        Chain chain = new Chain();
        current.set(chain);
        running.add(chain);
        try {
            Runnable call = first;
            while (call != null) {
                call.run();
                call = chain.next.getAndSet(null);
            }
        } finally {
            current.remove();
            running.remove(chain);
            Runnable left = chain.next.getAndSet(null); // only if a call threw: Runnables here catch everything
            if (left != null) {
                passOn(left);
            }
        }
    }

    /**
     * On an async thread about to wait for a worker (a callback's synchronous call to this pool):
     * passes the call handed to this thread, if any, to another one, since it may hold the very
     * worker the thread is about to wait for. Elsewhere, nothing.
     */
    void passOnOwn() {
        Chain chain = current.get();
        if (chain != null) {
            Runnable waiting = chain.next.getAndSet(null);
            if (waiting != null) {
                passOn(waiting);
            }
        }
    }

    /** Passes calls handed to a thread that has not started them since the previous run of this method. */
    void passOnHeldUp() {
        for (Chain chain : running) {
            Runnable waiting = chain.next.get();
            if (waiting == null || waiting != chain.seen) {
                chain.seen = waiting;
            } else if (chain.next.compareAndSet(waiting, null)) {
                chain.seen = null;
                passOn(waiting);
            }
        }
    }

    private void passOn(Runnable call) {
        try {
            runNew(call);
        } catch (RejectedExecutionException closing) {
            call.run(); // the pool is closing: the call ends at once, with its failure
        }
    }
}
