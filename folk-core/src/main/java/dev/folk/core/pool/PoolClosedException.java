package dev.folk.core.pool;

/** The pool is closed (or closed while the call waited or ran past the drain timeout). */
public class PoolClosedException extends CallException {

    PoolClosedException(String pool, String method, int pid, String detail) {
        super(pool, method, pid, call(pool, method) + " failed: the pool is closed" + (detail == null ? "" : " " + detail)
                + ".", null);
    }

    @Override
    public boolean retryable() {
        return false;
    }
}
