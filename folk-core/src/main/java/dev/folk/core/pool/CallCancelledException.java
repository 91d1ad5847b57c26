package dev.folk.core.pool;

import java.util.concurrent.TimeUnit;

/**
 * The caller gave up on a call before it reached a worker: its thread was interrupted while the
 * call waited for a free worker, or it completed or cancelled the future of an asynchronous call
 * that was still queued. Nothing was sent to PHP. A synchronous call keeps the thread's interrupt.
 */
public class CallCancelledException extends CallException {

    /** @param how how the caller gave up, e.g. "its thread was interrupted" */
    CallCancelledException(String pool, String method, String how, long waitedNanos) {
        super(pool, method, 0, call(pool, method) + " was cancelled before it reached a worker: " + how + " after "
                + TimeUnit.NANOSECONDS.toMillis(waitedNanos)
                + " ms waiting for a free worker; nothing was sent to PHP.", null);
    }

    @Override
    public boolean retryable() {
        return false;
    }
}
