package dev.folk.core.pool;

/**
 * The worker's resident memory passed the pool's hard memory limit during the call: its process
 * group was killed and the call failed. The worker is replaced.
 */
public class WorkerMemoryLimitException extends CallException {

    private final long limitBytes;
    private final long rssBytes;

    WorkerMemoryLimitException(String pool, String method, int pid, long limitBytes, long rssBytes) {
        super(pool, method, pid, "Call '" + method + "' on worker " + pid + " of pool '" + pool + "' was stopped: the"
                + " worker's resident memory reached " + mib(rssBytes) + " MiB, over the pool's memory limit of "
                + mib(limitBytes) + " MiB. Its process group was killed and it is being replaced. If the call"
                + " legitimately needs that much memory, raise memory-limit; otherwise find the leak or the"
                + " unbounded allocation in the handler of '" + method + "'.", null);
        this.limitBytes = limitBytes;
        this.rssBytes = rssBytes;
    }

    /** A request that blew the memory limit would likely do it again. */
    @Override
    public boolean retryable() {
        return false;
    }

    public long limitBytes() {
        return limitBytes;
    }

    public long rssBytes() {
        return rssBytes;
    }

    private static long mib(long bytes) {
        return bytes / (1024 * 1024);
    }
}
