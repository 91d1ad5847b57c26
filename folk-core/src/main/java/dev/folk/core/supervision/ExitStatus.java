package dev.folk.core.supervision;

import java.time.Duration;

/**
 * How a worker's leader process ended, and what it used, as reported by wait4 when it was reaped.
 *
 * @param exitCode   the exit code, or -1 when a signal ended it
 * @param signal     the terminating signal number, or 0 when it exited
 * @param maxRssKib  peak resident set size in KiB
 * @param userCpu    user CPU time
 * @param systemCpu  system CPU time
 */
public record ExitStatus(int exitCode, int signal, long maxRssKib, Duration userCpu, Duration systemCpu) {

    /** Reaped by someone else (e.g. SIGCHLD set to SIG_IGN): nothing is known. */
    static final ExitStatus UNKNOWN = new ExitStatus(-1, 0, 0, Duration.ZERO, Duration.ZERO);

    public boolean killedBySignal() {
        return signal != 0;
    }

    /**
     * Ended by a signal a process raises on itself when it crashes: a fault (SEGV, BUS, ILL, FPE),
     * abort() (ABRT), a trap or a forbidden system call (TRAP, SYS).
     */
    public boolean crashed() {
        return switch (signal) {
            case 4, 5, 6, 7, 8, 11, 31 -> true;
            default -> false;
        };
    }

    /** Ended by a signal that came from outside: KILL from an operator or the OOM killer, TERM, INT... */
    public boolean killedFromOutside() {
        return signal != 0 && !crashed();
    }

    @Override
    public String toString() {
        if (signal != 0) {
            return "killed by " + signalName(signal);
        }
        return exitCode < 0 ? "unknown exit" : "exit " + exitCode;
    }

    /** SIGKILL, SIGTERM, ... for the signals workers meet; "signal N" otherwise. */
    public static String signalName(int signal) {
        return switch (signal) {
            case 1 -> "SIGHUP";
            case 2 -> "SIGINT";
            case 3 -> "SIGQUIT";
            case 4 -> "SIGILL";
            case 5 -> "SIGTRAP";
            case 6 -> "SIGABRT";
            case 7 -> "SIGBUS";
            case 8 -> "SIGFPE";
            case 9 -> "SIGKILL";
            case 11 -> "SIGSEGV";
            case 13 -> "SIGPIPE";
            case 14 -> "SIGALRM";
            case 15 -> "SIGTERM";
            case 31 -> "SIGSYS";
            default -> "signal " + signal;
        };
    }
}
