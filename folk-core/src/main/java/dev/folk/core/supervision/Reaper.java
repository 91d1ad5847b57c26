package dev.folk.core.supervision;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.os.Os;
import dev.folk.core.os.OsException;
import dev.folk.core.os.WaitResult;
import dev.folk.core.supervision.WorkerProcess.State;
import dev.folk.core.util.Deadline;

import org.jspecify.annotations.Nullable;

/**
 * The end of a worker once it has exited: its leader reaped exactly once (a CAS on the handle's
 * state decides who calls wait4), its orphaned group members swept, then released (descriptors
 * closed, sandbox removed, unregistered). A sandbox that cannot be removed stays tracked and is
 * retried at shutdown.
 */
final class Reaper {

    /** Logs as the supervisor it serves: one logger name to configure for all of supervision's lifecycle. */
    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    private static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final Os os;
    private final Registry<WorkerProcess> registry;
    private final IoLoop io;
    private final @Nullable WorkerStateFile stateFile;
    private final OrphanReaper orphans;
    private final Set<Path> leftoverSandboxes = ConcurrentHashMap.newKeySet();

    Reaper(Os os, Registry<WorkerProcess> registry, IoLoop io, @Nullable WorkerStateFile stateFile, OrphanReaper orphans) {
        this.os = os;
        this.registry = registry;
        this.io = io;
        this.stateFile = stateFile;
        this.orphans = orphans;
    }

    /** Waits until the deadline for the leader to exit (not reaping it); true once it has. */
    static boolean awaitExit(WorkerProcess p, long deadline) {
        if (p.state() != State.RUNNING) {
            return true;
        }
        try {
            p.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    /**
     * Reaps the leader once it has exited; exactly one thread gets to call wait4, the others
     * wait for its result. Null if it was not reaped by the deadline.
     */
    @Nullable ExitStatus reap(WorkerProcess p, long deadline) {
        awaitExit(p, deadline);
        Deadline d = Deadline.at(deadline, 200_000, MAX_PAUSE_NANOS);
        while (true) {
            State s = p.state();
            if (s == State.REAPING || s == State.REAPED || s == State.RELEASED) {
                return awaitReaped(p, deadline);
            }
            if (s == State.STARTING) {
                return null;
            }
            ExitStatus status = tryReap(p);
            if (status != null) {
                return status;
            }
            if (!d.pause()) {
                return null;
            }
        }
    }

    private @Nullable ExitStatus tryReap(WorkerProcess p) {
        synchronized (p) {
            State s = p.state();
            if ((s != State.RUNNING && s != State.EXITED) || !p.transition(s, State.REAPING)) {
                return null;
            }
            WaitResult w;
            try {
                w = os.wait4(p.pid(), true);
            } catch (OsException e) {
                if (e.errno() != Os.ECHILD) {
                    p.transition(State.REAPING, s);
                    throw e;
                }
                // Someone reaped it for us (SIGCHLD ignored, or a waitpid(-1) elsewhere in the JVM).
                log.warn("Worker {} of '{}' was reaped outside the supervisor; its exit status is lost", p.pid(),
                        p.name());
                p.reapedWith(ExitStatus.UNKNOWN);
                return ExitStatus.UNKNOWN;
            }
            if (w == null) {
                p.transition(State.REAPING, s);
                return null;
            }
            ExitStatus status = new ExitStatus(w.exitCode(), w.signal(), w.maxRssKib(),
                    Duration.ofNanos(w.userMicros() * 1000), Duration.ofNanos(w.sysMicros() * 1000));
            p.reapedWith(status);
            return status;
        }
    }

    /** How the leader ended, once whoever reaps it has; null if not by the deadline. */
    static @Nullable ExitStatus awaitReaped(WorkerProcess p, long deadline) {
        try {
            return p.onReaped().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * Reaps members of the worker's group that were re-parented to us (we are a subreaper) after
     * their parent died. waitpid(-pgid) only ever matches our own children in that group.
     */
    void sweep(WorkerProcess p, long deadline) {
        Deadline d = Deadline.at(deadline, 200_000, MAX_PAUSE_NANOS);
        while (true) {
            int rc = os.reapGroupMember(p.pgid());
            if (rc > 0) {
                continue;
            }
            if (rc < 0 || !d.pause()) {
                return; // no child of ours left in that group, or no time left
            }
        }
    }

    /** Once reaped: closes the parent's ends, removes the sandbox, forgets the worker. Once only. */
    void release(WorkerProcess p) {
        if (!p.transition(State.REAPED, State.RELEASED)) {
            return;
        }
        // Wake a thread still blocked reading (it would otherwise hold a closed number).
        p.taskChannel().abort();
        p.taskChannel().close();
        p.controlChannel().abort();
        p.controlChannel().close();
        try {
            io.release(p);
        } catch (IllegalStateException loopStopped) {
            // the loop closed everything it watched when it stopped
        }
        p.sandbox().ifPresent(this::removeSandbox);
        if (stateFile != null) {
            stateFile.remove(p.pgid());
        }
        orphans.rememberReleasedGroups(Set.of(p.pgid()));
        registry.remove(p);
    }

    void removeSandbox(Path dir) {
        try {
            Sandbox.remove(dir);
        } catch (IOException e) {
            leftoverSandboxes.add(dir);
            log.warn("Cannot remove sandbox {} ({}); will retry at shutdown", dir, e.toString());
        }
    }

    Set<Path> leftoverSandboxes() {
        return Set.copyOf(leftoverSandboxes);
    }

    void retryLeftoverSandboxes() {
        for (Path dir : new ArrayList<>(leftoverSandboxes)) {
            try {
                Sandbox.remove(dir);
                leftoverSandboxes.remove(dir);
            } catch (IOException e) {
                log.warn("Sandbox {} still cannot be removed: {}", dir, e.toString());
            }
        }
    }
}
