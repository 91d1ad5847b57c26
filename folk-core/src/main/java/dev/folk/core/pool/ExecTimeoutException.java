package dev.folk.core.pool;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

import dev.folk.core.util.Durations;

/** The worker did not answer within the exec timeout; its process group was killed and it is replaced. */
public class ExecTimeoutException extends CallException {

    /** @param stuckAt the innermost frame of the worker's PHP backtrace taken before the kill, or null */
    ExecTimeoutException(String pool, String method, int pid, Duration timeout, @Nullable String stuckAt) {
        super(pool, method, pid, call(pool, method) + " failed: worker " + pid + " did not answer within exec-timeout "
                + Durations.text(timeout) + (stuckAt == null ? "" : " (the worker was at " + stuckAt.replaceFirst("^#0 ", "") + ")")
                + "; its process group was killed and a new worker is starting. Raise exec-timeout or make "
                + "the handler faster.", null);
    }

    @Override
    public boolean retryable() {
        return false;
    }
}
