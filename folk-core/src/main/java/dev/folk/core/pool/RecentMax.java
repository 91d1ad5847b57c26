package dev.folk.core.pool;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The highest value seen within the last one to two windows: two buckets, the current one and
 * the one before, turned over when a window has passed. Lock-free and allocation-free, for the
 * call path. A gauge scraped every 15-60 s sees every spike (a window covers a scrape interval)
 * and it falls back once the load has, which a maximum since start never does.
 */
final class RecentMax {

    private final PoolClock clock;
    private final long windowNanos;
    private final AtomicLong windowStart;
    private final AtomicInteger current = new AtomicInteger();
    private final AtomicInteger previous = new AtomicInteger();

    RecentMax(PoolClock clock, long windowNanos) {
        this.clock = clock;
        this.windowNanos = windowNanos;
        this.windowStart = new AtomicLong(clock.nanoTime());
    }

    void record(int value) {
        turnOver();
        raise(current, value);
    }

    int get() {
        turnOver();
        return Math.max(current.get(), previous.get());
    }

    /** Starts a new window when the current one has passed; the thread that wins the CAS moves the buckets. */
    private void turnOver() {
        long start = windowStart.get();
        long now = clock.nanoTime();
        if (now - start < windowNanos || !windowStart.compareAndSet(start, now)) {
            return;
        }
        // More than two windows without a record: nothing recent is left.
        previous.set(now - start >= 2 * windowNanos ? 0 : current.get());
        current.set(0);
    }

    /** Raises {@code max} to {@code value} if above: a CAS only when it is a new high. */
    static void raise(AtomicInteger max, int value) {
        int m;
        while (value > (m = max.get()) && !max.compareAndSet(m, value)) {
            // another thread raised it meanwhile: compare again
        }
    }
}
