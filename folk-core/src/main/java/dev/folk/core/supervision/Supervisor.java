package dev.folk.core.supervision;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.os.NativeOs;
import dev.folk.core.os.Os;
import dev.folk.core.os.OsException;
import dev.folk.core.os.SpawnRequest;
import dev.folk.core.os.WaitResult;
import dev.folk.core.supervision.WorkerProcess.State;

/**
 * Starts worker processes and guarantees their end: every pid it creates is signalled only as a
 * group and only while unreaped, stopped through a bounded TERM → grace → KILL ladder, reaped
 * exactly once, and released (descriptors closed, sandbox removed, unregistered).
 *
 * <p>One supervisor is meant to serve a whole application (all pools), so that
 * {@link #killAndReapAll()} in a shutdown hook sees every worker. It makes the JVM a child
 * subreaper (once per JVM), so a worker's orphaned children are re-parented to us and can be
 * reaped instead of lingering as zombies. Side effect: orphans of processes started by other
 * means (ProcessBuilder) are re-parented to the JVM too; the JDK does not reap those.
 *
 * <p>Requires Linux 5.3+ (pidfd) and glibc 2.34+ (posix_spawn closefrom; older glibc falls back to
 * closing the descriptors open at spawn time).
 */
public final class Supervisor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    /** Default bound for {@link #killAndReapAll()}. */
    public static final Duration DEFAULT_TEARDOWN_TIMEOUT = Duration.ofSeconds(2);

    /** How long a KILLed group may take to vanish before we move on. */
    private static final long KILL_WAIT_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long SWEEP_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private static final AtomicBoolean SUBREAPER_SET = new AtomicBoolean();

    private final Os os;
    private final String runId;
    private final Registry<WorkerProcess> registry = new Registry<>(WorkerProcess[]::new);
    private final IoLoop io;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong serials = new AtomicLong();
    private final Set<Path> leftoverSandboxes = ConcurrentHashMap.newKeySet();

    /** A supervisor on the native OS that makes the JVM a child subreaper. */
    public Supervisor() {
        this(NativeOs.get(), true);
    }

    /**
     * @param os         the system calls to use (tests wrap the native one to count calls)
     * @param subreaper  make the JVM a child subreaper so orphaned worker children can be reaped
     */
    public Supervisor(Os os, boolean subreaper) {
        this.os = os;
        this.runId = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        if (subreaper && SUBREAPER_SET.compareAndSet(false, true) && !os.becomeSubreaper()) {
            log.warn("Could not become a child subreaper; orphaned worker children are left to init");
        }
        this.io = new IoLoop(os, "folk-supervisor-io");
    }

    /** A random id for this supervisor's run, given to every worker as {@code FOLK_RUN_ID}. */
    public String runId() {
        return runId;
    }

    /** Every worker spawned and not yet released (an immutable snapshot). */
    public List<WorkerProcess> workers() {
        return registry.snapshot();
    }

    public boolean isClosed() {
        return closed.get();
    }

    /**
     * Starts a worker: fds 0..4 exactly (stdin /dev/null, stdout/stderr drained pipes, tasks,
     * control), its own process group, empty signal mask, default dispositions.
     *
     * @throws SpawnException            the executable is missing, not executable, or the spawn failed
     * @throws SupervisorClosedException after {@link #killAndReapAll()}
     */
    public WorkerProcess spawn(WorkerSpec spec) {
        if (closed.get()) {
            throw new SupervisorClosedException("start worker '" + spec.name() + "'");
        }
        String executable = spec.resolveExecutable();
        WorkerProcess p = new WorkerProcess(serials.incrementAndGet(), spec);
        // Reserve before the spawn: a shutdown starting now sees this entry and waits for it.
        registry.add(p);
        if (closed.get()) {
            registry.remove(p);
            throw new SupervisorClosedException("start worker '" + spec.name() + "'");
        }
        List<Integer> parentEnds = new ArrayList<>(4);
        List<Integer> childEnds = new ArrayList<>(4);
        Path sandbox = null;
        int pid;
        try {
            if (spec.sandboxRoot() != null) {
                sandbox = Sandbox.create(spec.sandboxRoot(), spec.name(), p.serial());
            }
            int[] task = os.socketPair();
            parentEnds.add(task[0]);
            childEnds.add(task[1]);
            int[] control = os.socketPair();
            parentEnds.add(control[0]);
            childEnds.add(control[1]);
            int[] out = os.pipe();
            parentEnds.add(out[0]);
            childEnds.add(out[1]);
            int[] err = os.pipe();
            parentEnds.add(err[0]);
            childEnds.add(err[1]);
            // The file actions dup2 these onto 1..4; a source below 5 could be overwritten first.
            for (int i = 0; i < childEnds.size(); i++) {
                childEnds.set(i, os.moveAtLeast(childEnds.get(i), 5));
            }
            Path cwd = sandbox != null ? sandbox : spec.workingDirectory();
            List<String> argv = new ArrayList<>(spec.args().size() + 1);
            argv.add(spec.executable());
            argv.addAll(spec.args());
            pid = os.spawn(new SpawnRequest(executable, argv, spec.environmentBlock(runId, sandbox),
                    cwd == null ? null : cwd.toString(), childEnds.get(2), childEnds.get(3), childEnds.get(0),
                    childEnds.get(1)));
        } catch (IOException | RuntimeException e) {
            childEnds.forEach(os::close);
            parentEnds.forEach(os::close);
            if (sandbox != null) {
                removeSandbox(sandbox);
            }
            registry.remove(p);
            if (e instanceof OsException oe) {
                throw SpawnException.of(spec.name(), executable, oe);
            }
            if (e instanceof IOException io) {
                throw new SpawnException(executable, "EIO", "Cannot start worker '" + spec.name()
                        + "': cannot create its sandbox under " + spec.sandboxRoot() + ": " + io, io);
            }
            throw (RuntimeException) e;
        }
        // The child has its copies; ours must go now, or the worker never sees EOF from us.
        childEnds.forEach(os::close);

        int pidfd;
        try {
            pidfd = os.pidfdOpen(pid);
        } catch (OsException e) {
            // Cannot watch it: end it at once (it is still our unreaped child, so the group is safe).
            os.kill(-pid, Os.SIGKILL);
            try {
                os.wait4(pid, false);
            } catch (OsException ignored) {
                // already reaped by someone ignoring SIGCHLD
            }
            parentEnds.forEach(os::close);
            if (sandbox != null) {
                removeSandbox(sandbox);
            }
            registry.remove(p);
            throw new SpawnException(executable, e.errnoName(), "Cannot watch worker '" + spec.name()
                    + "' (pid " + pid + "): " + e.getMessage() + ". Linux 5.3 or later is required.", e);
        }
        os.setNonBlocking(parentEnds.get(2));
        os.setNonBlocking(parentEnds.get(3));
        p.publish(pid, new WorkerChannel(os, parentEnds.get(0)), new WorkerChannel(os, parentEnds.get(1)), pidfd,
                parentEnds.get(2), parentEnds.get(3), sandbox);
        io.watch(p);

        if (closed.get()) {
            // A shutdown began during the spawn: it may not have seen this worker published.
            signal(p, Os.SIGKILL);
            reap(p, System.nanoTime() + KILL_WAIT_NANOS);
            sweep(p, System.nanoTime() + SWEEP_WAIT_NANOS);
            release(p);
            throw new SupervisorClosedException("start worker '" + spec.name() + "'");
        }
        return p;
    }

    /**
     * Sends {@code signal} to the worker's whole process group, if its leader is not yet reaped.
     * Returns false, without any system call, once it is.
     */
    public boolean signal(WorkerProcess p, int signal) {
        synchronized (p) {
            if (!p.signalable()) {
                return false;
            }
            return os.kill(-p.pgid(), signal) == 0;
        }
    }

    /** SIGKILL to the worker's group (no reap): for a worker that must stop now, e.g. an exec timeout. */
    public boolean kill(WorkerProcess p) {
        return signal(p, Os.SIGKILL);
    }

    /**
     * Waits up to {@code timeout} for the worker's leader to exit (it is not reaped by this).
     * Returns true once it has exited.
     */
    public boolean awaitExit(WorkerProcess p, Duration timeout) {
        return awaitExit(p, System.nanoTime() + timeout.toNanos());
    }

    /**
     * Stops the worker and its whole group: TERM and CONT to the group, wait for the group to
     * empty (returning as soon as it has), KILL the group if any member is left when the grace
     * ends, reap the leader, reap orphaned members, release. A no-op without system calls on a
     * worker already reaped.
     *
     * @return how the leader ended, or null if it could not be reaped in time (it stays registered
     *         and {@link #killAndReapAll()} tries again)
     */
    public ExitStatus terminate(WorkerProcess p, Duration grace) {
        State s = p.state();
        if (s == State.STARTING) {
            throw new IllegalStateException("worker is still starting: " + p);
        }
        if (s == State.REAPING || s == State.REAPED || s == State.RELEASED) {
            return awaitReaped(p, System.nanoTime() + KILL_WAIT_NANOS);
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
        ExitStatus status = reap(p, System.nanoTime() + KILL_WAIT_NANOS);
        if (status != null) {
            sweep(p, System.nanoTime() + SWEEP_WAIT_NANOS);
            release(p);
        }
        return status;
    }

    /**
     * Ends everything at once, in bounded time: refuses new spawns from now on, takes one
     * snapshot, KILLs every group, reaps every leader, reaps orphaned members, releases all.
     * Safe from a shutdown hook while other threads use the supervisor; idempotent.
     */
    public void killAndReapAll() {
        killAndReapAll(DEFAULT_TEARDOWN_TIMEOUT);
    }

    public void killAndReapAll(Duration bound) {
        closed.set(true);
        long deadline = System.nanoTime() + bound.toNanos();
        List<WorkerProcess> all = registry.snapshot();
        // Spawns in flight publish within a few ms (and clean up after themselves on seeing `closed`).
        long spawnWait = System.nanoTime() + bound.toNanos() / 4;
        for (WorkerProcess p : all) {
            while (p.state() == State.STARTING && System.nanoTime() < spawnWait) {
                LockSupport.parkNanos(100_000);
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
            if (reap(p, deadline) != null) {
                reaped.add(p);
            } else {
                log.warn("Worker {} of '{}' could not be reaped within {}", p.pid(), p.name(), bound);
            }
        }
        for (WorkerProcess p : reaped) {
            sweep(p, Math.min(deadline, System.nanoTime() + SWEEP_WAIT_NANOS));
        }
        for (WorkerProcess p : reaped) {
            release(p);
        }
        retryLeftoverSandboxes();
    }

    /** Kill-and-reap-all, then stop the I/O thread. */
    @Override
    public void close() {
        killAndReapAll();
        io.stop(1000);
    }

    /** Registers a JVM shutdown hook that calls {@link #killAndReapAll()}; returns it. */
    public Thread registerShutdownHook() {
        Thread hook = new Thread(this::killAndReapAll, "folk-supervisor-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    /** Sandboxes whose removal failed; retried by {@link #retryLeftoverSandboxes()} and at shutdown. */
    public Set<Path> leftoverSandboxes() {
        return Set.copyOf(leftoverSandboxes);
    }

    public void retryLeftoverSandboxes() {
        for (Path dir : new ArrayList<>(leftoverSandboxes)) {
            try {
                Sandbox.remove(dir);
                leftoverSandboxes.remove(dir);
            } catch (IOException e) {
                log.warn("Sandbox {} still cannot be removed: {}", dir, e.toString());
            }
        }
    }

    // --- the ladder's steps ---

    private boolean awaitExit(WorkerProcess p, long deadline) {
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

    /** Leader exited and no other member of its group is alive (zombies don't count). */
    private boolean awaitGroupEmpty(WorkerProcess p, long deadline) {
        if (!awaitExit(p, deadline)) {
            return false;
        }
        long pause = 500_000;
        while (ProcGroups.hasLiveMembers(p.pgid())) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            LockSupport.parkNanos(Math.min(pause, left));
            pause = Math.min(pause * 2, MAX_PAUSE_NANOS);
        }
        return true;
    }

    /** Reaps the leader once it has exited; exactly one thread gets to call wait4. */
    private ExitStatus reap(WorkerProcess p, long deadline) {
        awaitExit(p, deadline);
        long pause = 200_000;
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
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            LockSupport.parkNanos(Math.min(pause, left));
            pause = Math.min(pause * 2, MAX_PAUSE_NANOS);
        }
    }

    private ExitStatus tryReap(WorkerProcess p) {
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

    private static ExitStatus awaitReaped(WorkerProcess p, long deadline) {
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
    private void sweep(WorkerProcess p, long deadline) {
        long pause = 200_000;
        while (true) {
            int rc = os.reapGroupMember(p.pgid());
            if (rc > 0) {
                continue;
            }
            if (rc < 0) {
                return; // no child of ours left in that group
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            LockSupport.parkNanos(Math.min(pause, left));
            pause = Math.min(pause * 2, MAX_PAUSE_NANOS);
        }
    }

    private void release(WorkerProcess p) {
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
        registry.remove(p);
    }

    private void removeSandbox(Path dir) {
        try {
            Sandbox.remove(dir);
        } catch (IOException e) {
            leftoverSandboxes.add(dir);
            log.warn("Cannot remove sandbox {} ({}); will retry at shutdown", dir, e.toString());
        }
    }
}
