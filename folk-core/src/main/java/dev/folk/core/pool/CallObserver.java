package dev.folk.core.pool;

import org.jspecify.annotations.Nullable;

/**
 * Observes a pool's calls, for tracing: set one with {@link WorkerPool#observeCalls}. The pool asks
 * it when a call starts, on the caller's thread, so it can open an observation whose parent is
 * whatever the caller's thread is observing now (the HTTP request being served, say), and tells the
 * returned {@link CallObservation} where the call ran and how it ended.
 *
 * <p>Without one the call path is exactly what it is without tracing: no object is allocated for
 * it. Implementations must be fast and must not block; one that throws is logged and the call goes
 * on unobserved.
 */
@FunctionalInterface
public interface CallObserver {

    /**
     * A call starts: before it waits for a worker ({@link WorkerPool#call}, {@link WorkerPool#callAsync}),
     * or once it has one ({@link WorkerPool#tryCall}, which never waits).
     *
     * @param pool   the pool
     * @param method the method called
     * @param params the params, as they go on the wire (after the pool's value mapper)
     * @param label  what the call is about (e.g. {@code GET /php/hello}), or null
     * @return the call's observation, or null not to observe this call
     */
    @Nullable CallObservation callStarted(WorkerPool pool, String method, @Nullable Object params,
                                          @Nullable String label);
}
