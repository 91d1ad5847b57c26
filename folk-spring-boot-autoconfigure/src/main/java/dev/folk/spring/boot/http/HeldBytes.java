package dev.folk.spring.boot.http;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Heap bytes that clients' requests or answers hold together, and the most they may: request
 * bodies ({@code folk.http.body-memory}, past which a body is refused), or the parts of streamed
 * answers waiting for slow clients (past which parts wait in their files instead).
 */
final class HeldBytes {

    private final long limit;
    private final AtomicLong held = new AtomicLong();

    HeldBytes(long limit) {
        this.limit = limit;
    }

    /** Counts {@code bytes} more if that stays within the limit; false (nothing counted) if it would not. */
    boolean reserve(long bytes) {
        if (held.addAndGet(bytes) <= limit) {
            return true;
        }
        held.addAndGet(-bytes);
        return false;
    }

    /** Gives back what {@link #reserve} counted. */
    void release(long bytes) {
        held.addAndGet(-bytes);
    }

    long held() {
        return held.get();
    }

    long limit() {
        return limit;
    }
}
