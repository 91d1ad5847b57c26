package dev.folk.core.pool;

import org.jspecify.annotations.Nullable;

/**
 * Takes what a worker sends during a call, before its answer: the Notify messages of a streamed
 * answer (for {@code http.handle}: {@code http.head} once, then {@code http.body} parts; see
 * docs/PROTOCOL.md). Without one, a Notify during a call is a protocol error, as the protocol says.
 *
 * <p>Called on the thread that runs the call, one part at a time, in the order sent. A part may
 * block to hold the worker back (the worker waits on its socket meanwhile); the call's
 * exec-timeout still counts. If it throws, the pool logs it once, drops the call's later parts
 * and still reads the answer, so the worker stays in step and serves on.
 */
@FunctionalInterface
public interface CallParts {

    void part(String method, @Nullable Object params);
}
