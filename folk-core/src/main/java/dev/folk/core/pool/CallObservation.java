package dev.folk.core.pool;

import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * One observed call (see {@link CallObserver}). The pool calls {@link #params} and
 * {@link #context()} on the thread that sends the request, {@link #worker} each time the call is
 * handed to a worker (again if the request could not be delivered and another worker takes it), and
 * {@link #ended} exactly once: on the caller's thread for a synchronous call, where the call
 * completed for an asynchronous one (before the future completes).
 */
public interface CallObservation {

    /**
     * The params to send instead of {@code params}, e.g. a copy whose HTTP headers carry the trace
     * context. The default sends them unchanged.
     */
    default @Nullable Object params(@Nullable Object params) {
        return params;
    }

    /**
     * What to send as the request's context (e.g. {@code traceparent}, {@code tracestate}) to a
     * worker that declared the {@value #FEATURE} feature in its handshake; null or empty for none.
     * Workers that did not declare it get the base protocol's request, without context.
     */
    Map<String, String> context();

    /** The call was handed to the worker with this pid. */
    default void worker(int pid) {
    }

    /**
     * The call ended.
     *
     * @param outcome how (null when it failed before the pool could classify it: params that cannot
     *                be encoded)
     * @param error   the failure the caller gets, or null on success
     */
    void ended(@Nullable CallOutcome outcome, @Nullable Throwable error);

    /** The handshake feature of workers that accept a request's context as a 5th element. */
    String FEATURE = "context";
}
