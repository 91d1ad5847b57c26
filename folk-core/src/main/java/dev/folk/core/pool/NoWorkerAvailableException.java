package dev.folk.core.pool;

import java.time.Duration;

import dev.folk.core.util.Durations;

/**
 * No worker became free within the acquire timeout, or none could be waited for (a BROKEN pool with
 * no worker running), or no thread could be started in that time for an async call's worker.
 */
public class NoWorkerAvailableException extends CallException {

    /**
     * @param situation the pool's state in parentheses, then what to do, as the pool describes it
     *                  when the wait ends
     */
    NoWorkerAvailableException(String pool, String method, Duration waited, String situation) {
        this(pool, method, "no worker became free within acquire-timeout " + Durations.text(waited) + " " + situation,
                false);
    }

    private final boolean noneRunning;

    private NoWorkerAvailableException(String pool, String method, String why, boolean noneRunning) {
        super(pool, method, 0, call(pool, method) + " failed: " + why, null);
        this.noneRunning = noneRunning;
    }

    /**
     * A call to a BROKEN pool with no worker ready or starting: refused at once, not after
     * acquire-timeout. {@code situation} as for the constructor.
     */
    static NoWorkerAvailableException noneCanStart(String pool, String method, String situation) {
        return new NoWorkerAvailableException(pool, method, "no worker is running or starting, so it was not queued "
                + situation, true);
    }

    /**
     * An asynchronous call that had a worker, but no thread could be started to run it on within
     * {@code timeout} of its start: the JVM's limit on tasks is reached. Its worker saw nothing.
     */
    static NoWorkerAvailableException noThread(String pool, String method, Duration timeout) {
        return new NoWorkerAvailableException(pool, method, "the JVM could not start a thread to run it within "
                + "acquire-timeout " + Durations.text(timeout) + ": the limit on the processes and threads of the JVM's "
                + "user (ulimit -u) or container (pids.max) is reached; raise it, or lower the pools' sizes", false);
    }

    /** Whether the call was refused because the pool had no worker at all (BROKEN), not because all were busy. */
    public boolean noneRunning() {
        return noneRunning;
    }

    @Override
    public boolean retryable() {
        return true;
    }
}
