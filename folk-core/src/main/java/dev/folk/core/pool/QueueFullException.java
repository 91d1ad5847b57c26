package dev.folk.core.pool;

/** Rejected immediately: all workers are busy and the bounded wait queue is full. */
public class QueueFullException extends CallException {

    QueueFullException(PoolConfig config, String method, int size) {
        super(config.name(), method, 0, call(config.name(), method) + " rejected: all " + size + " workers are busy and "
                + config.maxQueue() + " calls are already waiting (max-queue). " + advice(config, size), null);
    }

    /** An elastic pool below its max-size is already adding workers: raising max-size would change nothing yet. */
    private static String advice(PoolConfig config, int size) {
        if (config.elastic() && size < config.maxSize()) {
            return "The pool is adding workers (up to max-size " + config.maxSize() + "): raise max-queue to hold"
                    + " more calls while they start, raise min-size to keep more ready, or shed load.";
        }
        return WorkerPool.addWorkers(config) + ", raise max-queue, or shed load.";
    }

    @Override
    public boolean retryable() {
        return true;
    }
}
