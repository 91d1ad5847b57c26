package dev.folk.core.pool;

import java.time.Duration;

/** No worker became free within the acquire timeout. */
public class NoWorkerAvailableException extends CallException {

    NoWorkerAvailableException(String pool, String method, Duration waited, String poolState) {
        super(pool, method, 0, call(pool, method) + " failed: no worker became free within acquire-timeout "
                + waited + " (" + poolState + "). Add workers (size), raise acquire-timeout, or look for slow calls.",
                null);
    }

    @Override
    public boolean retryable() {
        return true;
    }
}
