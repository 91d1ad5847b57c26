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

    /**
     * The feature a worker declares when it takes {@value #ABORT} during a call (docs/PROTOCOL.md,
     * "Streamed answers"): the pool sends it only to such a worker.
     */
    String ABORT_FEATURE = "abort";

    /** The Notify the pool sends a worker whose call's parts are {@linkplain #abandoned() abandoned}. */
    String ABORT = "call.abort";

    void part(String method, @Nullable Object params);

    /**
     * The worker the call went to, told before its request is sent, so that what the caller logs of
     * the answer (a malformed one, say) can name the worker as the pool's own failures do.
     */
    default void worker(int pid) {
    }

    /**
     * Whether nobody takes the answer any more (an HTTP client that went away, a stream that was
     * cut), asked after each part. Once it says so, the pool tells a worker that declared
     * {@value #ABORT_FEATURE} with one {@value #ABORT} Notify, so that PHP ends the request as
     * PHP-FPM ends one whose client left, instead of printing into nothing until it is done; the
     * call's answer is still read, and the parts before it still come here.
     */
    default boolean abandoned() {
        return false;
    }
}
