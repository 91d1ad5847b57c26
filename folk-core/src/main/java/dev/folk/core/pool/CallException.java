package dev.folk.core.pool;

import dev.folk.core.FolkException;

import org.jspecify.annotations.Nullable;

/**
 * A call through a pool failed. Every subclass names the pool, the method and, where one was
 * involved, the worker's pid; catch this type to handle them all.
 *
 * <ul>
 *   <li>{@link QueueFullException}: rejected at once, the wait queue is full;</li>
 *   <li>{@link NoWorkerAvailableException}: no worker became free within the acquire timeout;</li>
 *   <li>{@link ExecTimeoutException}: the worker did not answer in time and was killed;</li>
 *   <li>{@link WorkerCrashedException}: the worker died or closed its channel during the call;</li>
 *   <li>{@link WorkerMemoryLimitException}: the worker passed the hard memory limit and was killed;</li>
 *   <li>{@link WorkerProtocolException}: the worker broke the protocol and was replaced;</li>
 *   <li>{@link WorkerErrorException}: the worker answered with an error (the handler's fault);</li>
 *   <li>{@link RequestTooLargeException}: the request exceeds the frame limit; nothing was sent;</li>
 *   <li>{@link InvalidParamsException}: the params hold a value that cannot be encoded; nothing was sent;</li>
 *   <li>{@link PoolClosedException}: the pool is closed or closed during the call;</li>
 *   <li>{@link CallCancelledException}: the caller gave up before the call reached a worker.</li>
 * </ul>
 */
public abstract class CallException extends FolkException {

    private final String pool;
    private final String method;
    private final int pid;

    protected CallException(String pool, String method, int pid, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.pool = pool;
        this.method = method;
        this.pid = pid;
    }

    public String pool() {
        return pool;
    }

    public String method() {
        return method;
    }

    /** The worker involved, or 0 when the call never reached one. */
    public int pid() {
        return pid;
    }

    /** Whether retrying the same call could succeed (the failure was not the request's fault). */
    public abstract boolean retryable();

    static String call(String pool, String method) {
        return "Call '" + method + "' on pool '" + pool + "'";
    }
}
