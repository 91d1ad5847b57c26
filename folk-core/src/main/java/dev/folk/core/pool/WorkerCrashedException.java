package dev.folk.core.pool;

import org.jspecify.annotations.Nullable;

import dev.folk.core.os.Os;
import dev.folk.core.supervision.ExitStatus;

/** The worker died, or closed its task channel, during the call; it is replaced. */
public class WorkerCrashedException extends CallException {

    private final String exit;

    /**
     * @param exit   how it ended, as far as known: "exit 255", "killed by SIGKILL", "died before reading the request"
     * @param status its exit status, if it was reaped: what the advice follows
     */
    WorkerCrashedException(String pool, String method, int pid, String exit, @Nullable ExitStatus status,
                           Throwable cause) {
        super(pool, method, pid, call(pool, method) + " failed: worker " + pid
                + (exit.equals("exit 0") ? " exited during the call without answering (" : " crashed during the call (")
                + exit + "); a new worker is starting. " + advice(status), cause);
        this.exit = exit;
    }

    /** Where to look, by how the worker ended: a signal says who ended it better than its log does. */
    static String advice(@Nullable ExitStatus status) {
        if (status == null || !status.killedBySignal()) {
            return "Check the worker's log (stderr) for a fatal error.";
        }
        if (status.signal() == Os.SIGKILL) {
            return "PHP never ends itself with SIGKILL: the kernel's OOM killer does (see dmesg, or the container's "
                    + "memory events; the pool's memory-limit ends a worker with a clear error first), or another "
                    + "process or an operator did.";
        }
        if (status.crashed()) {
            return "PHP itself crashed (a bug in PHP or one of its extensions): dmesg names the faulting library; "
                    + "the worker's log (stderr) may say what it ran.";
        }
        return status.signal() == Os.SIGTERM
                ? "A signal from outside the worker ended it: another process or an operator sent it. At an "
                        + "application's stop, its service manager may have sent it to every process at once (systemd's "
                        + "default KillMode=control-group): send it to the JVM alone (KillMode=mixed), which stops its "
                        + "workers once their calls are done."
                : "A signal from outside the worker ended it: another process or an operator sent it.";
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
