package dev.folk.core.supervision;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.folk.core.os.NativeOs;
import dev.folk.core.os.Os;
import dev.folk.core.os.OsException;
import dev.folk.core.os.WaitResult;
import dev.folk.core.util.Deadline;
import dev.folk.core.util.Preload;

import org.jspecify.annotations.Nullable;

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
 * does once they have lingered for a tick.
 *
 * <p>This class is the public face; the work is done by package-private classes of this package,
 * one job each:
 * <ul>
 * <li>{@code Spawner} starts a worker (fds 0..4, own group, pidfd) and publishes it;
 * <li>{@code StopLadder} signals groups and stops workers: TERM → grace → KILL, one, many, or all;
 * <li>{@code Reaper} reaps a leader exactly once, sweeps its group's orphans and releases it;
 * <li>{@code OrphanReaper} reaps the children we did not start (the I/O thread's periodic job)
 *     and ends processes carrying a run tag;
 * <li>{@code PreviousRun} ends what a crashed run recorded in the state file left behind.
 * </ul>
 *
 * <p>Requires Linux 5.3+ (pidfd) and glibc 2.34+ (posix_spawn closefrom; older glibc falls back to
 * closing the descriptors open at spawn time).
 */
public final class Supervisor implements AutoCloseable {

    /** Default bound for {@link #killAndReapAll()}. */
    public static final Duration DEFAULT_TEARDOWN_TIMEOUT = Duration.ofSeconds(2);

    private static final AtomicBoolean SHUTDOWN_PATH_LOADED = new AtomicBoolean();

    private final String runId;
    private final byte[] runTag;
    private final Registry<WorkerProcess> registry = new Registry<>(WorkerProcess[]::new);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final @Nullable WorkerStateFile stateFile;
    private final IoLoop io;
    private final ChannelPoller poller;
    private final OrphanReaper orphans;
    private final Reaper reaper;
    private final StopLadder ladder;
    private final Spawner spawner;

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
        loadShutdownPath();
        Os os = b.os;
        this.runId = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        this.runTag = ProcFs.runTag(runId);
        OrphanReaper.adoptOrphans(os, b.subreaper);
        this.orphans = new OrphanReaper(os, registry, runTag);
        this.stateFile = b.stateFile == null ? null : WorkerStateFile.open(b.stateFile, runId);
        if (stateFile != null) {
            WorkerStateFile.Previous previous = stateFile.previous();
            if (previous != null) {
                PreviousRun.end(os, orphans, stateFile.path(), previous);
            }
            // A crashed instance's slot is not necessarily the one this start took.
            stateFile.sweepOtherSlots((slot, crashed) -> PreviousRun.end(os, orphans, slot, crashed));
        }
        this.io = new IoLoop(os, "folk-supervisor-io", orphans::reapOrphans);
        this.poller = new ChannelPoller(os, "folk-supervisor-poller");
        this.reaper = new Reaper(os, registry, io, stateFile, orphans);
        this.ladder = new StopLadder(os, reaper);
        this.spawner = new Spawner(os, runId, registry, closed, io, poller, stateFile, orphans, ladder, reaper);
        orphans.opened();
    }

    /**
     * Loads, once per JVM, every class that {@link #killAndReapAll()}, {@link #terminate} and a
     * spawn cut short by them may use: a deploy that overwrites the application's jar would make
     * the first class loaded later fail, with the workers left running ({@link Preload} says why).
     * Every supervisor is made at start-up, while the jar is whole.
     */
    private static void loadShutdownPath() {
        if (SHUTDOWN_PATH_LOADED.compareAndSet(false, true)) {
            Preload.classes(StopLadder.class, Reaper.class, OrphanReaper.class, ProcFs.class, Registry.class,
                    WorkerProcess.class, ExitStatus.class, Sandbox.class, WorkerStateFile.class, WorkerChannel.class,
                    ChannelPoller.class, IoLoop.class, OutputPolicy.class, OutputTail.class, StderrBlocks.class,
                    Spawner.class, SpawnException.class, SupervisorClosedException.class, OsException.class,
                    WaitResult.class, Deadline.class);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options of a {@link Supervisor}. */
    public static final class Builder {
        private Os os = NativeOs.get();
        private boolean subreaper = true;
        private @Nullable Path stateFile;

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
         * run left behind are ended, whichever slot ({@code <file>}, {@code <file>.1}, ...) it had,
         * unless a live instance holds that slot; see {@link WorkerStateFile}. Off, with a warning, when the
         * location is not a private writable directory.
         */
        public Builder stateFile(@Nullable Path stateFile) {
            this.stateFile = stateFile;
            return this;
        }

        public Supervisor build() {
            return new Supervisor(this);
        }
    }

    /** The state file in use, if any (it may be an alternate name when the requested one was taken). */
    public Optional<Path> stateFile() {
        return stateFile == null ? Optional.empty() : Optional.of(stateFile.path());
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
        return spawner.spawn(spec);
    }

    /**
     * Sends {@code signal} to the worker's whole process group, if its leader is not yet reaped.
     * Returns false, without any system call, once it is.
     */
    public boolean signal(WorkerProcess p, int signal) {
        return ladder.signal(p, signal);
    }

    /**
     * Sends {@code signal} to the worker's leader process only, not to its group (the children a
     * worker started must not get a request meant for the worker, e.g. SIGUSR2 for a backtrace),
     * through its pidfd, and only while it is not yet reaped. Returns false, without any system
     * call, once it is.
     */
    public boolean signalLeader(WorkerProcess p, int signal) {
        return ladder.signalLeader(p, signal);
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
        return Reaper.awaitExit(p, System.nanoTime() + timeout.toNanos());
    }

    /**
     * Whether the worker's leader has exited, asked of the kernel now (its pidfd), not of the I/O
     * thread's notification, which a busy machine may deliver late.
     */
    public boolean hasExited(WorkerProcess p) {
        return ladder.hasExited(p);
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
    public @Nullable ExitStatus terminate(WorkerProcess p, Duration grace) {
        return ladder.terminate(p, grace);
    }

    /**
     * {@link #terminate} for many workers from one thread, with one deadline: TERM and CONT to every
     * group, wait until {@code killBy} for the groups to empty, KILL the groups that have not, then
     * reap, sweep and release each. Closing hundreds of workers this way costs one wait, not one
     * thread per worker polling its own group.
     *
     * @return how each leader ended, in the order given (null where it could not be reaped in time)
     */
    public List<@Nullable ExitStatus> terminateAll(List<WorkerProcess> processes, long killBy) {
        return ladder.terminateAll(processes, killBy);
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
        ladder.killAll(registry.snapshot(), bound, deadline);
        // Descendants that left their group (setsid) are out of the ladder's reach; they still
        // carry our run tag in their environment.
        orphans.endTagged(runTag, Math.max(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500)),
                new HashSet<>());
        retryLeftoverSandboxes();
        if (stateFile != null && registry.size() == 0) {
            stateFile.close();
        }
    }

    /** Kill-and-reap-all, then stop the I/O thread and release the state file. */
    @Override
    public void close() {
        killAndReapAll();
        orphans.closed();
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
        return reaper.leftoverSandboxes();
    }

    public void retryLeftoverSandboxes() {
        reaper.retryLeftoverSandboxes();
    }
}
