package dev.folk.core.pool;

/** Rejected immediately: all workers are busy and the bounded wait queue is full. */
public class QueueFullException extends CallException {

    QueueFullException(String pool, String method, int maxQueue, int size) {
        super(pool, method, 0, call(pool, method) + " rejected: all " + size + " workers are busy and "
                + maxQueue + " calls are already waiting (max-queue). Add workers (size), raise max-queue, or shed load.",
                null);
    }

    @Override
    public boolean retryable() {
        return true;
    }
}
