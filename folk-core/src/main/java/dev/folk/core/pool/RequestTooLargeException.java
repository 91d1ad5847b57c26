package dev.folk.core.pool;

import dev.folk.core.protocol.FrameTooLargeException;

/** The encoded request exceeds the frame limit. Nothing was sent; no worker was harmed. */
public class RequestTooLargeException extends CallException {

    private final long size;
    private final long limit;

    RequestTooLargeException(String pool, String method, int pid, FrameTooLargeException cause) {
        super(pool, method, pid, call(pool, method) + " rejected: the request is " + cause.length()
                + " bytes encoded, over the frame limit of " + cause.limit()
                + " bytes (max-frame-length). Send less, or raise the limit on both sides.", cause);
        this.size = cause.length();
        this.limit = cause.limit();
    }

    public long size() {
        return size;
    }

    public long limit() {
        return limit;
    }

    @Override
    public boolean retryable() {
        return false;
    }
}
