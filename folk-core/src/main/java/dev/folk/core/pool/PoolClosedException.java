package dev.folk.core.pool;

import org.jspecify.annotations.Nullable;

/** The pool is closed (or closed while the call waited or ran past the drain timeout). */
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
