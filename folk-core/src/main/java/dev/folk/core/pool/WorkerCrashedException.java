package dev.folk.core.pool;

/** The worker died, or closed its task channel, during the call; it is replaced. */
public class WorkerCrashedException extends CallException {

    private final String exit;

    WorkerCrashedException(String pool, String method, int pid, String exit, Throwable cause) {
        super(pool, method, pid, call(pool, method) + " failed: worker " + pid
                + (exit.equals("exit 0") ? " exited during the call without answering (" : " crashed during the call (")
                + exit + "); a new worker is starting. Check the worker's log (stderr) for a fatal error.", cause);
        this.exit = exit;
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
