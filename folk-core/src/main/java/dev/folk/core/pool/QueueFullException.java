package dev.folk.core.pool;

/** Rejected immediately: all workers are busy and the bounded wait queue is full. */
public class QueueFullException extends CallException {

    QueueFullException(PoolConfig config, String method, int size) {
        super(config.name(), method, 0, call(config.name(), method) + " rejected: all " + size + " workers are busy and "
                + config.maxQueue() + " calls are already waiting (max-queue). " + WorkerPool.addWorkers(config)
                + ", raise max-queue, or shed load.", null);
    }

    @Override
    public boolean retryable() {
        return true;
    }
}
