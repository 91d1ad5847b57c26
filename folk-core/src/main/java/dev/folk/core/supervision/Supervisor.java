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
 * reaped instead of lingering as zombies. Orphans of processes started by other means
 * (ProcessBuilder) are re-parented to the JVM too; the JDK does not reap those, so the I/O thread
 * does once they have lingered for a tick (see {@code reapLingeringZombies}).
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
    /** This JVM is a child subreaper (or PID 1): the kernel re-parents orphans to it. */
    private static volatile boolean orphansComeToUs;
    /** Supervisors not yet closed: none may reap another's worker leader as a stray orphan. */
    private static final Set<Supervisor> OPEN = ConcurrentHashMap.newKeySet();

    private final Os os;
    private final String runId;
    private final Registry<WorkerProcess> registry = new Registry<>(WorkerProcess[]::new);
    private final IoLoop io;
    private final ChannelPoller poller;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong serials = new AtomicLong();
    private final Set<Path> leftoverSandboxes = ConcurrentHashMap.newKeySet();
    private final WorkerStateFile stateFile;
    private final byte[] runTag;
    /** Groups of recently released workers: their zombie members may still need reaping. */
    private final Set<Integer> releasedGroups = java.util.Collections.synchronizedSet(new java.util.LinkedHashSet<>());
    /** Our children outside any worker group that carry our run tag (setsid escapees). */
    private final Set<Integer> escapees = ConcurrentHashMap.newKeySet();
    /** Zombie children seen on the last orphan-reaping tick (I/O thread only). */
    private final Set<Integer> lingering = new java.util.HashSet<>();

    /** A supervisor on the native OS that makes the JVM a child subreaper, without a state file. */
    public Supervisor() {
        this(builder());
    }

    /**
     * @param os         the system calls to use (tests wrap the native one to count calls)
     * @param subreaper  make the JVM a child subreaper so orphaned worker children can be reaped
     */
    public Supervisor(Os os, boolean subreaper) {
        this(builder().os(os).subreaper(subreaper));
    }

    private Supervisor(Builder b) {
        this.os = b.os;
        this.runId = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        this.runTag = ProcFs.runTag(runId);
        if (b.subreaper && SUBREAPER_SET.compareAndSet(false, true)) {
            if (os.becomeSubreaper()) {
                orphansComeToUs = true;
            } else {
                log.warn("Could not become a child subreaper; orphaned worker children are left to init");
            }
        }
        if (os.getpid() == 1) {
            orphansComeToUs = true;
        }
        this.stateFile = b.stateFile == null ? null : WorkerStateFile.open(b.stateFile, runId);
        if (stateFile != null && stateFile.previous() != null) {
            endPreviousRun(stateFile.previous());
        }
        this.io = new IoLoop(os, "folk-supervisor-io", this::reapOrphans);
        this.poller = new ChannelPoller(os, "folk-supervisor-poller");
        OPEN.add(this);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options of a {@link Supervisor}. */
    public static final class Builder {
        private Os os = NativeOs.get();
        private boolean subreaper = true;
        private Path stateFile;

        private Builder() {
        }

        /** The system calls to use; tests wrap the native ones to count them. */
        public Builder os(Os os) {
            this.os = os;
            return this;
        }

        /**
         * Make the JVM a child subreaper (default true), so a worker's orphaned children are
         * re-parented to us and reaped instead of lingering as zombies.
         */
        public Builder subreaper(boolean subreaper) {
            this.subreaper = subreaper;
            return this;
        }

        /**
         * Where to record live worker groups (default: none). On start, groups a crashed previous
         * run left behind are ended; see {@link WorkerStateFile}. Off, with a warning, when the
         * location is not a private writable directory.
         */
        public Builder stateFile(Path stateFile) {
            this.stateFile = stateFile;
            return this;
        }

        public Supervisor build() {
            return new Supervisor(this);
        }
    }

    /** The state file in use, if any (it may be an alternate name when the requested one was taken). */
    public java.util.Optional<Path> stateFile() {
        return stateFile == null ? java.util.Optional.empty() : java.util.Optional.of(stateFile.path());
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
                sandbox = Sandbox.create(spec.sandboxRoot(), spec.name(), p.serial(), spec.runAs());
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
            WorkerSpec.Launch launch = spec.launch(executable);
            pid = os.spawn(new SpawnRequest(launch.program(), launch.argv(), spec.environmentBlock(runId, sandbox),
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
            if (pidfd < 0) {
                // The kernel has no pidfd_open (before Linux 5.3): we could never see this worker exit.
                throw new OsException("pidfd_open(" + pid + ")", 38); // ENOSYS
            }
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
        p.publish(pid, new WorkerChannel(os, parentEnds.get(0), poller),
                new WorkerChannel(os, parentEnds.get(1), poller), pidfd,
                parentEnds.get(2), parentEnds.get(3), sandbox);
        escapees.remove(pid); // the orphan reaper may have seen it, tagged, before it was published
        io.watch(p);
        if (stateFile != null) {
            ProcFs.Stat stat = ProcFs.stat(pid);
            if (stat != null) {
                stateFile.add(pid, stat.startTime());
            }
        }

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
     * Whether the worker's leader has exited, asked of the kernel now (its pidfd), not of the I/O
     * thread's notification, which a busy machine may deliver late.
     */
    public boolean hasExited(WorkerProcess p) {
        if (p.state() != State.RUNNING) {
            return p.state() != State.STARTING;
        }
        synchronized (p) {
            return p.state() != State.RUNNING || os.poll(p.pidfd(), Os.POLLIN, 0) != 0;
        }
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
     * {@link #terminate} for many workers from one thread, with one deadline: TERM and CONT to every
     * group, wait until {@code killBy} for the groups to empty, KILL the groups that have not, then
     * reap, sweep and release each. Closing hundreds of workers this way costs one wait, not one
     * thread per worker polling its own group.
     *
     * @return how each leader ended, in the order given (null where it could not be reaped in time)
     */
    public List<ExitStatus> terminateAll(List<WorkerProcess> processes, long killBy) {
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
            statuses.add(reap(p, reapBy));
        }
        long sweepBy = System.nanoTime() + SWEEP_WAIT_NANOS;
        for (int i = 0; i < processes.size(); i++) {
            if (statuses.get(i) != null && signalled[i]) {
                sweep(processes.get(i), sweepBy);
            }
        }
        for (int i = 0; i < processes.size(); i++) {
            if (statuses.get(i) != null) {
                release(processes.get(i));
            }
        }
        return statuses;
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
        // Descendants that left their group (setsid) are out of the ladder's reach; they still
        // carry our run tag in their environment.
        endTagged(runTag, Math.max(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500)),
                new java.util.HashSet<>());
        retryLeftoverSandboxes();
        if (stateFile != null && registry.size() == 0) {
            stateFile.close();
        }
    }

    /** Kill-and-reap-all, then stop the I/O thread and release the state file. */
    @Override
    public void close() {
        killAndReapAll();
        OPEN.remove(this);
        io.stop(1000);
        poller.stop(1000);
        if (stateFile != null) {
            stateFile.close();
        }
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

    // --- what a crashed run left behind, and orphans ---

    /**
     * Ends what a previous run of this state file left: the groups whose leader still has the
     * recorded start time (a recycled pid has another one and is left alone), and any process
     * still carrying that run's tag (members whose leader died, setsid escapees).
     */
    private void endPreviousRun(WorkerStateFile.Previous previous) {
        if (!previous.bootId().equals(ProcFs.bootId())) {
            log.info("Worker state file {} is from an earlier boot: nothing of it can still run", stateFile);
            return;
        }
        List<Integer> groups = new ArrayList<>();
        previous.groups().forEach((pgid, startTime) -> {
            ProcFs.Stat s = ProcFs.stat(pgid);
            if (s != null && !s.zombie() && s.pgrp() == pgid && s.startTime() == startTime) {
                groups.add(pgid);
            }
        });
        for (int pgid : groups) {
            os.kill(-pgid, Os.SIGTERM);
            os.kill(-pgid, Os.SIGCONT);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        long pause = 1_000_000;
        while (!ProcFs.withLiveMembers(new java.util.HashSet<>(groups)).isEmpty() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, MAX_PAUSE_NANOS);
        }
        for (int pgid : ProcFs.withLiveMembers(new java.util.HashSet<>(groups))) {
            os.kill(-pgid, Os.SIGKILL);
        }
        // Leaders re-parented to us are now our zombies (their environment, and so their tag,
        // is gone): reap them by pid, which their zombie still pins.
        long leadersBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        for (int pgid : groups) {
            while (true) {
                try {
                    if (os.wait4(pgid, true) != null || System.nanoTime() > leadersBy) {
                        break;
                    }
                } catch (OsException notOurChild) {
                    break; // its parent (init or another subreaper) reaps it
                }
                LockSupport.parkNanos(1_000_000);
            }
        }
        Set<Integer> swept = new java.util.HashSet<>(groups);
        int tagged = endTagged(ProcFs.runTag(previous.runId()), System.nanoTime() + TimeUnit.SECONDS.toNanos(1), swept);
        // Members re-parented to us (we are a subreaper) die as our zombies: collect them now, and
        // let the periodic reaper pick up any that end later.
        rememberReleasedGroups(swept);
        long reapBy = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        while (reapZombies(swept) && System.nanoTime() < reapBy) {
            LockSupport.parkNanos(5_000_000);
        }
        if (!groups.isEmpty() || tagged > 0) {
            log.warn("Ended {} worker group(s) and {} tagged process(es) left behind by run {} (state file {})",
                    groups.size(), tagged, previous.runId(), stateFile);
        }
    }

    /**
     * Ends every process whose environment carries {@code tag}: TERM, up to the deadline, then
     * KILL; each is checked and signalled through a pidfd, so a pid reused in between is never
     * hit. Those that are our children (re-parented to us) are reaped. Returns how many it found.
     */
    private int endTagged(byte[] tag, long deadline, Set<Integer> groups) {
        int self = os.getpid();
        java.util.Map<Integer, Integer> pidfds = new java.util.LinkedHashMap<>();
        try {
            for (int pid : ProcFs.pids()) {
                if (pid == self || !ProcFs.environHas(pid, tag)) {
                    continue;
                }
                int fd;
                try {
                    fd = os.pidfdOpen(pid);
                } catch (OsException gone) {
                    continue;
                }
                ProcFs.Stat stat = ProcFs.stat(pid);
                if (fd >= 0 && stat != null && ProcFs.environHas(pid, tag)) {
                    pidfds.put(pid, fd);
                    groups.add(stat.pgrp());
                } else {
                    os.close(fd);
                }
            }
        } catch (IOException e) {
            log.warn("Cannot scan /proc for tagged processes: {}", e.toString());
        }
        if (pidfds.isEmpty()) {
            return 0;
        }
        pidfds.values().forEach(fd -> {
            os.pidfdSendSignal(fd, Os.SIGTERM);
            os.pidfdSendSignal(fd, Os.SIGCONT);
        });
        long pause = 1_000_000;
        while (System.nanoTime() < deadline && pidfds.values().stream().anyMatch(fd -> os.poll(fd, Os.POLLIN, 0) == 0)) {
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, MAX_PAUSE_NANOS);
        }
        pidfds.values().forEach(fd -> os.pidfdSendSignal(fd, Os.SIGKILL));
        long reapBy = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        pidfds.forEach((pid, fd) -> {
            while (os.poll(fd, Os.POLLIN, 0) == 0 && System.nanoTime() < reapBy) {
                LockSupport.parkNanos(1_000_000);
            }
            try {
                os.wait4(pid, true); // ours if it was re-parented to us; ECHILD otherwise
            } catch (OsException notOurs) {
                // someone else's child: its parent reaps it
            }
            os.close(fd);
        });
        return pidfds.size();
    }

    /**
     * Once a second on the I/O thread: reaps zombies among our children that belong to worker
     * groups (orphans re-parented to us; leaders are left to {@link #terminate}) or that carried
     * our run tag outside any group. Without it, a worker that keeps starting background jobs
     * would fill the process table with zombies — the more so when the JVM is PID 1.
     */
    private void reapOrphans() {
        Set<Integer> groups = new java.util.HashSet<>();
        for (WorkerProcess p : registry.snapshot()) {
            if (p.state() != State.STARTING) {
                groups.add(p.pgid());
            }
        }
        synchronized (releasedGroups) {
            groups.addAll(releasedGroups);
        }
        reapZombies(groups);
        reapLingeringZombies();
    }

    /**
     * A subreaper must reap every orphan the kernel hands it, not only those of our workers: the
     * background job of a script the application started with ProcessBuilder is re-parented to us
     * too, and nobody else will ever wait for it. A child the JDK started is reaped by the JDK's own
     * thread the moment it exits, so a zombie child seen on two ticks in a row (a second apart)
     * that is no worker leader (of any supervisor in this JVM) is an adopted orphan: reap it. Spawns in flight make us skip a tick.
     */
    private void reapLingeringZombies() {
        if (!orphansComeToUs) {
            return; // then every child is someone's own, and its own waiter reaps it
        }
        Set<Integer> zombies = new java.util.HashSet<>();
        for (int child : ProcFs.ownChildren()) {
            ProcFs.Stat s = ProcFs.stat(child);
            if (s != null && s.zombie()) {
                zombies.add(child);
            }
        }
        if (zombies.isEmpty()) {
            lingering.clear();
            return;
        }
        for (Supervisor other : OPEN) {
            for (WorkerProcess p : other.registry.snapshot()) {
                if (p.state() == State.STARTING) {
                    lingering.clear();
                    return;
                }
                zombies.remove(p.pid()); // a leader is reaped by its ladder alone
            }
        }
        for (int pid : zombies) {
            if (lingering.remove(pid)) {
                try {
                    os.wait4(pid, true);
                } catch (OsException alreadyReaped) {
                    // its other waiter got there first
                }
            }
        }
        lingering.retainAll(zombies);
        for (int pid : zombies) {
            if (ProcFs.stat(pid) != null) {
                lingering.add(pid);
            }
        }
    }

    /**
     * Reaps our zombie children that are members (never leaders) of {@code groups}, and those
     * that carried our run tag outside any group. A worker leader is reaped by {@link #terminate}
     * alone: here a group leader is never taken on the strength of its group id, which a fresh,
     * not yet published worker may share with a released one. Returns whether any child in
     * those groups is still alive.
     */
    private boolean reapZombies(Set<Integer> groups) {
        Set<Integer> children = ProcFs.ownChildren();
        if (children.isEmpty()) {
            escapees.clear();
            return false;
        }
        Set<Integer> leaders = new java.util.HashSet<>();
        for (WorkerProcess p : registry.snapshot()) {
            leaders.add(p.pid());
        }
        boolean alive = false;
        for (int child : children) {
            if (leaders.contains(child)) {
                continue;
            }
            ProcFs.Stat s = ProcFs.stat(child);
            if (s == null) {
                continue;
            }
            if (s.zombie()) {
                boolean member = groups.contains(s.pgrp()) && s.pgrp() != child;
                if (member || escapees.remove(child) && !registeredPid(child)) {
                    try {
                        os.wait4(child, true);
                    } catch (OsException alreadyReaped) {
                        // a concurrent sweep got it
                    }
                }
            } else if (groups.contains(s.pgrp())) {
                alive = true;
            } else if (!escapees.contains(child) && ProcFs.environHas(child, runTag)) {
                escapees.add(child);
            }
        }
        escapees.retainAll(children);
        return alive;
    }

    private boolean registeredPid(int pid) {
        for (WorkerProcess p : registry.snapshot()) {
            if (p.pid() == pid || p.state() == State.STARTING) {
                return true; // a spawn in flight could be this pid: leave it alone this time
            }
        }
        return false;
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
        while (groupHasLiveMembers(p.pgid())) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            LockSupport.parkNanos(Math.min(pause, left));
            pause = Math.min(pause * 2, MAX_PAUSE_NANOS);
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
        long pause = 500_000;
        while (!pending.isEmpty()) {
            Set<Integer> leaderGone = new java.util.HashSet<>();
            for (WorkerProcess p : pending) {
                if (hasExited(p)) {
                    leaderGone.add(p.pgid());
                }
            }
            if (!leaderGone.isEmpty()) {
                Set<Integer> live = orphansComeToUs ? ProcFs.groupsWithLiveOrphans(leaderGone) : null;
                Set<Integer> stillLive = live != null ? live : ProcFs.withLiveMembers(leaderGone);
                pending.removeIf(p -> leaderGone.contains(p.pgid()) && !stillLive.contains(p.pgid()));
            }
            long left = deadline - System.nanoTime();
            if (pending.isEmpty() || left <= 0) {
                break;
            }
            LockSupport.parkNanos(Math.min(pause, left));
            pause = Math.min(pause * 2, MAX_PAUSE_NANOS);
        }
        return pending;
    }

    /**
     * After the leader has exited: our own orphans tell (a few entries) when they can, else a scan
     * of all of /proc (about 15 us per process on the system).
     */
    private static boolean groupHasLiveMembers(int pgid) {
        if (orphansComeToUs) {
            Boolean orphan = ProcFs.hasLiveOrphanIn(pgid);
            if (orphan != null) {
                return orphan;
            }
        }
        return ProcFs.hasLiveMembers(pgid);
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

    private void rememberReleasedGroups(Set<Integer> pgids) {
        synchronized (releasedGroups) {
            releasedGroups.addAll(pgids);
            while (releasedGroups.size() > 1024) {
                releasedGroups.remove(releasedGroups.iterator().next());
            }
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
        if (stateFile != null) {
            stateFile.remove(p.pgid());
        }
        rememberReleasedGroups(Set.of(p.pgid()));
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
