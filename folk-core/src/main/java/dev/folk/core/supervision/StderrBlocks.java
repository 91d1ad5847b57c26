package dev.folk.core.supervision;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;

/**
 * Picks marked blocks out of a worker's stderr: the lines from one starting with {@code begin} to
 * one starting with {@code end} go, as one list, to a sink (e.g. the pool waiting for the PHP
 * backtrace it asked for) instead of to the worker's {@link OutputPolicy}. Everything else on
 * stderr keeps its usual way. A block the sink does not take (nobody asked for it, or it came too
 * late), one that grows past {@code maxLines} without its end, or one cut short by the end of
 * stream goes to the output policy after all, line by line: output is never lost.
 *
 * <p>Used only by the supervisor's I/O thread (the sink runs there: it must be short).
 */
public final class StderrBlocks {

    private final String begin;
    private final String end;
    private final int maxLines;
    private final Predicate<List<String>> sink;
    private @Nullable List<String> held;

    /**
     * @param sink takes a whole block, markers included; returns false to let it through as
     *             ordinary output
     */
    public StderrBlocks(String begin, String end, int maxLines, Predicate<List<String>> sink) {
        this.begin = begin;
        this.end = end;
        this.maxLines = maxLines;
        this.sink = sink;
    }

    /**
     * One stderr line: returns null when it is ordinary output, else the lines to emit as ordinary
     * output now (empty while a block is being collected, or once the sink took it).
     */
    @Nullable List<String> offer(String line) {
        if (held == null) {
            if (!line.startsWith(begin)) {
                int at = line.indexOf(begin);
                if (at < 0) {
                    return null;
                }
                // Output without a newline written just before the block (error_log($m, 3, 'php://stderr')
                // within the I/O loop's quiet time) is glued to its first line: it is a line of its own.
                List<String> now = new ArrayList<>();
                now.add(line.substring(0, at));
                List<String> after = offer(line.substring(at));
                if (after != null) {
                    now.addAll(after);
                }
                return now;
            }
            held = new ArrayList<>();
        }
        held.add(line);
        if (line.startsWith(end)) {
            List<String> block = List.copyOf(held);
            held = null;
            return sink.test(block) ? List.of() : block;
        }
        return held.size() >= maxLines ? flush() : List.of();
    }

    /** The end of stream: a block left unfinished is ordinary output. */
    List<String> flush() {
        List<String> rest = held == null ? List.of() : held;
        held = null;
        return rest;
    }
}
