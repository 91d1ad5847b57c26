package dev.folk.core.supervision;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.os.Os;
import dev.folk.core.supervision.WorkerProcess.State;
import dev.folk.core.util.Deadline;

import org.jspecify.annotations.Nullable;

/**
 * How workers are stopped: signals go to the whole process group and only while its leader is
 * unreaped; TERM (and CONT) first, a wait that ends as soon as the group is empty, KILL when any
 * member outlives the grace; then the {@link Reaper} reaps, sweeps and releases. One worker at a
 * time ({@link #terminate}), many with one deadline ({@link #terminateAll}), or everything at once
 * at shutdown ({@link #killAll}).
 */
final class StopLadder {

    /** Logs as the supervisor it serves: one logger name to configure for all of supervision's lifecycle. */
    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    /** How long a KILLed group may take to vanish before we move on. */
    static final long KILL_WAIT_NANOS = TimeUnit.SECONDS.toNanos(2);
    static final long SWEEP_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final Os os;
    private final Reaper reaper;

    StopLadder(Os os, Reaper reaper) {
        this.os = os;
        this.reaper = reaper;
    }

    /** {@code signal} to the worker's group, if its leader is not yet reaped; no system call once it is. */
    boolean signal(WorkerProcess p, int signal) {
        synchronized (p) {
            if (!p.signalable()) {
                return false;
            }
            return os.kill(-p.pgid(), signal) == 0;
        }
    }

    /**
     * {@code signal} to the leader alone (its pidfd; kill(pid) where the kernel has none), if it is
     * not yet reaped: an unreaped leader still owns its pid, so neither call can reach another process.
     */
    boolean signalLeader(WorkerProcess p, int signal) {
        synchronized (p) {
            if (!p.signalable()) {
                return false;
            }
            return (p.pidfd() >= 0 ? os.pidfdSendSignal(p.pidfd(), signal) : os.kill(p.pid(), signal)) == 0;
        }
    }

    /** Whether the leader has exited, asked of the kernel now (its pidfd). */
    boolean hasExited(WorkerProcess p) {
        if (p.state() != State.RUNNING) {
            return p.state() != State.STARTING;
        }
        synchronized (p) {
            return p.state() != State.RUNNING || os.poll(p.pidfd(), Os.POLLIN, 0) != 0;
        }
    }

    /**
     * TERM, grace, KILL, reap. An interrupt (an executor's shutdownNow) does not cut the ladder short:
     * its waits are bounded anyway, and a cut one would leave the worker unreaped and claim its group
     * outlived SIGKILL. The interrupt is kept for the caller.
     */
    @Nullable ExitStatus terminate(WorkerProcess p, Duration grace) {
        return withoutInterrupt(() -> terminateOne(p, grace));
    }

    /** Runs {@code ladder} with the thread's interrupt set aside, and sets it again after. */
    private static <T> T withoutInterrupt(java.util.function.Supplier<T> ladder) {
        boolean interrupted = Thread.interrupted();
        try {
            return ladder.get();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private @Nullable ExitStatus terminateOne(WorkerProcess p, Duration grace) {
        State s = p.state();
        if (s == State.STARTING) {
            throw new IllegalStateException("worker is still starting: " + p);
        }
        if (s == State.REAPING || s == State.REAPED || s == State.RELEASED) {
            return Reaper.awaitReaped(p, System.nanoTime() + KILL_WAIT_NANOS);
        }
        long deadline = System.nanoTime() + Math.max(0, grace.toNanos());
        signal(p, Os.SIGTERM);
        signal(p, Os.SIGCONT); // a stopped member would never act on TERM
        if (!awaitGroupEmpty(p, deadline)) {
            signal(p, Os.SIGKILL);
            if (!awaitGroupEmpty(p, System.nanoTime() + KILL_WAIT_NANOS)) {
                log.warn("Worker {} of '{}': its process group did not end {} s after SIGKILL", p.pid(), p.name(),
                        TimeUnit.NANOSECONDS.toSeconds(KILL_WAIT_NANOS));
            }
        }
        ExitStatus status = reaper.reap(p, System.nanoTime() + KILL_WAIT_NANOS);
        if (status != null) {
            reaper.sweep(p, System.nanoTime() + SWEEP_WAIT_NANOS);
            reaper.release(p);
        }
        return status;
    }

    /** {@link #terminate} for many workers at once; an interrupt does not cut it short either. */
    List<@Nullable ExitStatus> terminateAll(List<WorkerProcess> processes, long killBy) {
        return withoutInterrupt(() -> terminateEach(processes, killBy));
    }

    private List<@Nullable ExitStatus> terminateEach(List<WorkerProcess> processes, long killBy) {
        List<WorkerProcess> running = new ArrayList<>(processes.size());
        boolean[] signalled = new boolean[processes.size()];
        for (int i = 0; i < processes.size(); i++) {
            WorkerProcess p = processes.get(i);
            State s = p.state();
            if (s == State.STARTING) {
                throw new IllegalStateException("worker is still starting: " + p);
            }
            if (s == State.RUNNING || s == State.EXITED) {
                running.add(p);
                signalled[i] = true;
                signal(p, Os.SIGTERM);
                signal(p, Os.SIGCONT); // a stopped member would never act on TERM
            }
        }
        List<WorkerProcess> stubborn = awaitGroupsEmpty(running, killBy);
        for (WorkerProcess p : stubborn) {
            signal(p, Os.SIGKILL);
        }
        for (WorkerProcess p : awaitGroupsEmpty(stubborn, System.nanoTime() + KILL_WAIT_NANOS)) {
            log.warn("Worker {} of '{}': its process group did not end {} s after SIGKILL", p.pid(), p.name(),
                    TimeUnit.NANOSECONDS.toSeconds(KILL_WAIT_NANOS));
        }
        List<ExitStatus> statuses = new ArrayList<>(processes.size());
        long reapBy = System.nanoTime() + KILL_WAIT_NANOS;
        for (WorkerProcess p : processes) {
            statuses.add(reaper.reap(p, reapBy));
        }
        long sweepBy = System.nanoTime() + SWEEP_WAIT_NANOS;
        for (int i = 0; i < processes.size(); i++) {
            if (statuses.get(i) != null && signalled[i]) {
                reaper.sweep(processes.get(i), sweepBy);
            }
        }
        for (int i = 0; i < processes.size(); i++) {
            if (statuses.get(i) != null) {
                reaper.release(processes.get(i));
            }
        }
        return statuses;
    }

    /**
     * The shutdown path for one snapshot of workers: lets spawns in flight publish (a quarter of
     * the bound at most), KILLs every group, reaps every leader by the deadline, sweeps, releases.
     */
    void killAll(List<WorkerProcess> all, Duration bound, long deadline) {
        // Spawns in flight publish within a few ms (and clean up after themselves on seeing `closed`).
        long spawnWait = System.nanoTime() + bound.toNanos() / 4;
        for (WorkerProcess p : all) {
            Deadline d = Deadline.at(spawnWait, 100_000);
            while (p.state() == State.STARTING && d.pause()) {
                // poll: publication is a state change nobody signals
            }
        }
        for (WorkerProcess p : all) {
            signal(p, Os.SIGKILL);
        }
        List<WorkerProcess> reaped = new ArrayList<>(all.size());
        for (WorkerProcess p : all) {
            if (p.state() == State.STARTING) {
                continue;
            }
            if (reaper.reap(p, deadline) != null) {
                reaped.add(p);
            } else {
                log.warn("Worker {} of '{}' could not be reaped within {}", p.pid(), p.name(), bound);
            }
        }
        for (WorkerProcess p : reaped) {
            reaper.sweep(p, Math.min(deadline, System.nanoTime() + SWEEP_WAIT_NANOS));
        }
        for (WorkerProcess p : reaped) {
            reaper.release(p);
        }
    }

    /** Leader exited and no other member of its group is alive (zombies don't count). */
    private boolean awaitGroupEmpty(WorkerProcess p, long deadline) {
        if (!Reaper.awaitExit(p, deadline)) {
            return false;
        }
        Deadline d = Deadline.at(deadline, 500_000, MAX_PAUSE_NANOS);
        while (groupHasLiveMembers(p.pgid())) {
            if (!d.pause()) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@link #awaitGroupEmpty} for many workers, one look at the kernel per round for all of them
     * (a pidfd poll per leader, one pass over our orphans): returns the workers whose group still
     * had a live member when the deadline passed, or an empty list as soon as every group is empty.
     */
    private List<WorkerProcess> awaitGroupsEmpty(List<WorkerProcess> processes, long deadline) {
        List<WorkerProcess> pending = new ArrayList<>(processes);
        Deadline d = Deadline.at(deadline, 500_000, MAX_PAUSE_NANOS);
        while (!pending.isEmpty()) {
            Set<Integer> leaderGone = new HashSet<>();
            for (WorkerProcess p : pending) {
                if (hasExited(p)) {
                    leaderGone.add(p.pgid());
                }
            }
            if (!leaderGone.isEmpty()) {
                Set<Integer> live = OrphanReaper.orphansComeToUs() ? ProcFs.groupsWithLiveOrphans(leaderGone) : null;
                Set<Integer> stillLive = live != null ? live : ProcFs.withLiveMembers(leaderGone);
                pending.removeIf(p -> leaderGone.contains(p.pgid()) && !stillLive.contains(p.pgid()));
            }
            if (pending.isEmpty() || !d.pause()) {
                break;
            }
        }
        return pending;
    }

    /**
     * After the leader has exited: our own orphans tell (a few entries) when they can, else a scan
     * of all of /proc (about 15 us per process on the system).
     */
    private static boolean groupHasLiveMembers(int pgid) {
        if (OrphanReaper.orphansComeToUs()) {
            Boolean orphan = ProcFs.hasLiveOrphanIn(pgid);
            if (orphan != null) {
                return orphan;
            }
        }
        return ProcFs.hasLiveMembers(pgid);
    }
}
