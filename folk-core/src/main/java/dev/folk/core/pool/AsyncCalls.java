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
 * callback may block (on another call to this pool, say): a call handed over and not started by
 * the next {@link #passOnHeldUp()} (the housekeeper runs it every tick) is passed to another async
 * thread, so nothing waits behind a blocked callback for longer than that.
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
        threads.execute(() -> runChain(call));
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
