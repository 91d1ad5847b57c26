package dev.folk.core.util;

import java.util.concurrent.locks.LockSupport;

/**
 * A point on {@link System#nanoTime()} and the pauses of one loop that polls for something until
 * then. The pauses start short, so a condition that becomes true at once costs little, and double
 * up to a cap, so a long wait does not spin; the last one ends at the deadline, not after it.
 *
 * <pre>{@code
 * Deadline d = Deadline.at(deadline, 500_000, MAX_PAUSE_NANOS);
 * while (groupHasLiveMembers(pgid)) {
 *     if (!d.pause()) {
 *         return false; // the deadline passed with the group still alive
 *     }
 * }
 * }</pre>
 *
 * Not thread-safe: one loop, one instance. An interrupt ends a pause early and stays set, so an
 * interrupted thread keeps polling, without pausing, until the deadline; a caller that must stop
 * on interrupt checks for it in its condition.
 */
public final class Deadline {

    private final long at;
    private final long maxPause;
    private long pause;

    private Deadline(long at, long firstPause, long maxPause) {
        if (firstPause <= 0 || maxPause < firstPause) {
            throw new IllegalArgumentException("pauses must be positive and the cap at least the first pause: "
                    + firstPause + " ns, cap " + maxPause + " ns");
        }
        this.at = at;
        this.pause = firstPause;
        this.maxPause = maxPause;
    }

    /**
     * Polls until {@code nanoTime} (a {@link System#nanoTime()} value), pausing {@code firstPauseNanos}
     * first, then twice as long each time, never longer than {@code maxPauseNanos}.
     */
    public static Deadline at(long nanoTime, long firstPauseNanos, long maxPauseNanos) {
        return new Deadline(nanoTime, firstPauseNanos, maxPauseNanos);
    }

    /** Polls until {@code nanoTime} with pauses of one length. */
    public static Deadline at(long nanoTime, long pauseNanos) {
        return new Deadline(nanoTime, pauseNanos, pauseNanos);
    }

    /** Whether the deadline has been reached. */
    public boolean passed() {
        return at - System.nanoTime() <= 0;
    }

    /** Nanoseconds until the deadline; zero or less once it has passed. */
    public long nanosLeft() {
        return at - System.nanoTime();
    }

    /** The next pause {@link #pause()} would take, were the deadline far enough. */
    public long nextPauseNanos() {
        return pause;
    }

    /**
     * Pauses before the next look: returns false at once, without pausing, when the deadline has
     * passed; else parks for the next pause (cut short at the deadline), lengthens the one after,
     * and returns true.
     */
    public boolean pause() {
        long left = at - System.nanoTime();
        if (left <= 0) {
            return false;
        }
        LockSupport.parkNanos(Math.min(pause, left));
        pause = Math.min(pause * 2, maxPause);
        return true;
    }
}
