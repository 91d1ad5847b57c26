package dev.folk.core.supervision;

import java.util.ArrayList;
import java.util.List;

/**
 * The last lines a worker printed, stdout and stderr interleaved as they were read. Kept so that a
 * worker which fails to boot or crashes can be explained with its own words ("Could not open
 * input file", a parse error) instead of only an exit status.
 *
 * <p>Written by the supervisor's I/O thread, read by whoever explains the failure: the few
 * operations are synchronized (they are rare; a worker that prints a lot pays one short lock per
 * line, next to the logging it already does).
 */
public final class OutputTail {

    /** Lines kept per worker. */
    static final int LINES = 20;
    /** Characters kept per line. */
    static final int LINE_CHARS = 400;

    private final String[] lines = new String[LINES];
    private int next;
    private int count;
    /** {@link System#nanoTime()} when the newest line was read. */
    private long newestNanos;

    synchronized void add(boolean stderr, String line) {
        String text = line.length() > LINE_CHARS ? line.substring(0, LINE_CHARS) + "..." : line;
        newestNanos = System.nanoTime();
        lines[next] = (stderr ? "stderr: " : "stdout: ") + text;
        next = (next + 1) % LINES;
        count = Math.min(count + 1, LINES);
    }

    /** The kept lines, oldest first, each prefixed with its stream ({@code stdout: } or {@code stderr: }). */
    public synchronized List<String> lines() {
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(lines[(next - count + i + LINES) % LINES]);
        }
        return out;
    }

    /**
     * {@link System#nanoTime()} when the newest kept line was read, or {@link Long#MIN_VALUE} if
     * there is none: a long-lived worker's last words may be hours older than its end.
     */
    public synchronized long newestNanos() {
        return count == 0 ? Long.MIN_VALUE : newestNanos;
    }
}
