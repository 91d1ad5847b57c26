package dev.folk.core.pool;

import java.time.Duration;

/** No worker became free within the acquire timeout. */
public class NoWorkerAvailableException extends CallException {

    /**
     * @param situation the pool's state in parentheses, then what to do, as the pool describes it
     *                  when the wait ends
     */
    NoWorkerAvailableException(String pool, String method, Duration waited, String situation) {
        super(pool, method, 0, call(pool, method) + " failed: no worker became free within acquire-timeout "
                + waited + " " + situation, null);
    }

    @Override
    public boolean retryable() {
        return true;
    }
}
