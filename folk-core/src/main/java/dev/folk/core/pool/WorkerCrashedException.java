package dev.folk.core.pool;

/** The worker died, or closed its task channel, during the call; it is replaced. */
public class WorkerCrashedException extends CallException {

    private final String exit;

    WorkerCrashedException(String pool, String method, int pid, String exit, Throwable cause) {
        super(pool, method, pid, call(pool, method) + " failed: worker " + pid
                + (exit.equals("exit 0") ? " exited during the call without answering (" : " crashed during the call (")
                + exit + "); a new worker is starting. " + advice(exit), cause);
        this.exit = exit;
    }

    /** Where to look, by how the worker ended: a signal says who ended it better than its log does. */
    static String advice(String exit) {
        if (!exit.startsWith("killed by ")) {
            return "Check the worker's log (stderr) for a fatal error.";
        }
        return switch (exit.substring("killed by ".length())) {
            case "SIGKILL" -> "PHP never ends itself with SIGKILL: the kernel's OOM killer does (see dmesg, or the "
                    + "container's memory events; the pool's memory-limit ends a worker with a clear error first), or "
                    + "another process or an operator did.";
            case "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT" -> "PHP itself crashed (a bug in PHP or one of its "
                    + "extensions): dmesg names the faulting library; the worker's log (stderr) may say what it ran.";
            default -> "A signal from outside the worker ended it: another process or an operator sent it.";
        };
    }

    /** How the worker ended, as far as known: e.g. "exit 255", "killed by SIGKILL". */
    public String exit() {
        return exit;
    }

    @Override
    public boolean retryable() {
        return false;
    }
}
