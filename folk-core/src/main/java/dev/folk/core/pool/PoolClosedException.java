package dev.folk.core.pool;

import org.jspecify.annotations.Nullable;

/**
 * The pool is closed: the call was made once its close had begun, or it was still queued or
 * running when the drain timeout ended, or no worker was left to serve it during the drain.
 */
public class PoolClosedException extends CallException {

    PoolClosedException(String pool, String method, int pid, @Nullable String detail) {
        super(pool, method, pid, call(pool, method) + " failed: the pool is closed" + (detail == null ? "" : " " + detail)
                + ".", null);
    }

    @Override
    public boolean retryable() {
        return false;
    }
}
