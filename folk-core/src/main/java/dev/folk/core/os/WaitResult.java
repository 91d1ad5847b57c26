package dev.folk.core.os;

/**
 * A reaped child: its raw wait status decoded, and the resource usage the kernel reported.
 *
 * @param pid        the reaped pid
 * @param status     the raw wait status
 * @param maxRssKib  peak resident set size in KiB
 * @param userMicros user CPU time in microseconds
 * @param sysMicros  system CPU time in microseconds
 */
public record WaitResult(int pid, int status, long maxRssKib, long userMicros, long sysMicros) {

    /** True when the child called exit; false when a signal ended it. */
    public boolean exited() {
        return (status & 0x7f) == 0;
    }

    /** The exit code, or -1 when a signal ended the child. */
    public int exitCode() {
        return exited() ? (status >> 8) & 0xff : -1;
    }

    /** The terminating signal, or 0 when the child exited. */
    public int signal() {
        return exited() ? 0 : status & 0x7f;
    }
}
