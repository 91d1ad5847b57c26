package dev.folk.core.pool;

import java.time.Instant;
import java.util.List;

import dev.folk.core.supervision.ExitStatus;

import org.jspecify.annotations.Nullable;

/**
 * Why a worker failed to boot (or ended before serving its first call), with what it said.
 *
 * @param pid     the worker's pid, or 0 if it could not even be spawned
 * @param message what happened, naming the pool and the worker
 * @param status  how the process ended, or null if it did not get that far or could not be reaped
 * @param output  the last lines it printed, oldest first, each prefixed with {@code stdout: } or
 *                {@code stderr: }
 * @param at      when the failure was seen
 */
public record BootFailure(int pid, String message, @Nullable ExitStatus status, List<String> output, Instant at) {

    public BootFailure {
        output = List.copyOf(output);
    }

    /** What identifies "the same failure" across attempts: the message without pids, the status and the output. */
    String signature() {
        String withoutPid = pid == 0 ? message : message.replace(Integer.toString(pid), "#");
        return withoutPid + '|' + status + '|' + String.join("\n", output).replace(Integer.toString(pid), "#");
    }

    @Override
    public String toString() {
        return output.isEmpty() ? message : message + "; its last output:\n    " + String.join("\n    ", output);
    }
}
