package dev.folk.core.supervision;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

/**
 * The handle of one spawned worker: its pid (which is also its process-group id), the parent
 * ends of its task and control channels, and its lifecycle state.
 *
 * <p>States only move forward: {@code STARTING} (reserved in the registry, spawn in progress) →
 * {@code RUNNING} → {@code EXITED} (the leader exited, still unreaped: its pid still pins the
 * group id, so the group may still be signalled) → {@code REAPING} → {@code REAPED} →
 * {@code RELEASED} (descriptors closed, sandbox removed, unregistered). Signals are sent only
 * before {@code REAPING}; the check and the signal happen under this object's monitor, as does
 * the reap, so no signal can reach a recycled pid.
 */
public final class WorkerProcess {

    public enum State { STARTING, RUNNING, EXITED, REAPING, REAPED, RELEASED }

    private final long serial;
    private final WorkerSpec spec;
    private final AtomicReference<State> state = new AtomicReference<>(State.STARTING);
    private final CompletableFuture<WorkerProcess> exited = new CompletableFuture<>();
    private final CompletableFuture<ExitStatus> reaped = new CompletableFuture<>();
    private final OutputTail outputTail = new OutputTail();
    /** Completes once both output pipes are drained and closed (end of stream, or released). */
    private final CompletableFuture<Void> outputClosed = new CompletableFuture<>();
    private int openOutputs = 2; // touched only by the I/O thread
    private volatile @Nullable StderrBlocks stderrBlocks;

    // Written once by the spawning thread before the state becomes RUNNING (a volatile write),
    // read by others only after they have seen a state other than STARTING.
    private int pid;
    @SuppressWarnings("NullAway.Init") // set by publish, before anyone else sees the process
    private WorkerChannel task;
    @SuppressWarnings("NullAway.Init")
    private WorkerChannel control;
    private int pidfd = -1;
    private int stdoutFd = -1;
    private int stderrFd = -1;
    private @Nullable Path sandbox;
    @SuppressWarnings("NullAway.Init")
    private Instant startedAt;
    private long startedNanos;

    private volatile @Nullable ExitStatus exitStatus;

    WorkerProcess(long serial, WorkerSpec spec) {
        this.serial = serial;
        this.spec = spec;
    }

    void publish(int pid, WorkerChannel task, WorkerChannel control, int pidfd, int stdoutFd, int stderrFd,
                 @Nullable Path sandbox) {
        this.pid = pid;
        this.task = task;
        this.control = control;
        this.pidfd = pidfd;
        this.stdoutFd = stdoutFd;
        this.stderrFd = stderrFd;
        this.sandbox = sandbox;
        this.startedAt = Instant.now();
        this.startedNanos = System.nanoTime();
        state.set(State.RUNNING);
    }

    /** The supervisor's sequence number for this worker (distinct even when pids are reused). */
    public long serial() {
        return serial;
    }

    public WorkerSpec spec() {
        return spec;
    }

    /** The worker's name, from its spec (usually the pool's name). */
    public String name() {
        return spec.name();
    }

    /** The leader's pid, or 0 while still starting. */
    public int pid() {
        return pid;
    }

    /** The process-group id: the worker leads its own group, so this is its pid. */
    public int pgid() {
        return pid;
    }

    @SuppressWarnings("NullAway") // the state is never null
    public State state() {
        return state.get();
    }

    /** True while the leader process has not exited. */
    public boolean isAlive() {
        return state.get() == State.RUNNING;
    }

    /** The parent end of fd 3, where requests go and responses come back. */
    public WorkerChannel taskChannel() {
        return task;
    }

    /** The parent end of fd 4, where the worker announces it is ready. */
    public WorkerChannel controlChannel() {
        return control;
    }

    public Optional<Path> sandbox() {
        return Optional.ofNullable(sandbox);
    }

    public Instant startedAt() {
        return startedAt;
    }

    /** {@link System#nanoTime()} when the spawn returned. */
    public long startedNanos() {
        return startedNanos;
    }

    /** Completes (on the supervisor's I/O thread: keep callbacks short) when the leader exits. */
    public CompletableFuture<WorkerProcess> onExit() {
        return exited;
    }

    /** Completes when the leader has been reaped. */
    public CompletableFuture<ExitStatus> onReaped() {
        return reaped;
    }

    /** The last lines the worker printed on stdout and stderr (see {@link OutputTail}). */
    public List<String> recentOutput() {
        return outputTail.lines();
    }

    /** When the newest of {@link #recentOutput()} was read (see {@link OutputTail#newestNanos()}). */
    public long recentOutputNanos() {
        return outputTail.newestNanos();
    }

    /**
     * Completes once the worker's stdout and stderr have been read to their end (or closed at
     * release, when a grandchild still holds them): after it, {@link #recentOutput()} is complete.
     */
    public CompletableFuture<Void> onOutputClosed() {
        return outputClosed;
    }

    /**
     * From now on, marked blocks on its stderr go to {@code blocks}' sink instead of its output
     * policy (see {@link StderrBlocks}); set it before asking the worker for such a block.
     */
    public void divertStderrBlocks(StderrBlocks blocks) {
        this.stderrBlocks = blocks;
    }

    @Nullable StderrBlocks stderrBlocks() {
        return stderrBlocks;
    }

    /** The exit status once reaped. */
    public Optional<ExitStatus> exitStatus() {
        return Optional.ofNullable(exitStatus);
    }

    /**
     * Whether the leader is stopped (SIGSTOP, SIGTSTP, a debugger): it runs nothing, signal handlers
     * included, until continued. Read under the monitor, as {@link #residentSet()}.
     */
    public boolean stopped() {
        synchronized (this) {
            if (state.get() != State.RUNNING) {
                return false;
            }
            ProcFs.Stat stat = ProcFs.stat(pid);
            return stat != null && (stat.state() == 'T' || stat.state() == 't');
        }
    }

    /** Set by the I/O loop that reads its pipes, when it starts watching them. */
    private volatile @Nullable IoLoop io;
    /** Whether a pipe of its holds output without a final newline (the I/O loop keeps it up to date). */
    private volatile boolean partialOutput;
    /** What the worker is serving now, as its pool tells it (for its output lines); null until told. */
    private volatile @Nullable Supplier<@Nullable String> currentCall;

    /**
     * Tells what call the worker serves at any time ({@code current} gives null between calls), so
     * that each output line can name it: its HTTP request line, or its method. Read only when a line
     * is emitted.
     */
    public void describeCallsWith(Supplier<@Nullable String> current) {
        currentCall = current;
    }

    /** The call the worker serves now, as its pool describes it; null between calls or if not told. */
    @Nullable String currentCall() {
        Supplier<@Nullable String> current = currentCall;
        return current == null ? null : current.get();
    }

    void watchedBy(IoLoop loop) {
        io = loop;
    }

    void partialOutput(boolean pending) {
        partialOutput = pending;
    }

    /**
     * Makes the output the worker left without a final newline a line of its own, now, rather than
     * after the I/O loop's quiet time: at the end of a call, before the next one can add to it (a
     * fragment of one request glued to the next request's line). Waits for the I/O loop at most
     * {@code 100 ms}; nothing to do, one volatile read, when no partial line is held.
     */
    public void endOutputLine() {
        IoLoop loop = io;
        if (!partialOutput || loop == null) {
            return;
        }
        try {
            loop.endPartialLines(this).get(100, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | IllegalStateException e) {
            // the loop is busy (a log that does not keep up) or gone: its quiet time ends the line instead
        }
    }

    /**
     * Whether the leader, or one of its direct children (a {@code Scripts} request's process), is
     * blocked writing to a pipe (/proc's {@code wchan}), which for a worker is its stdout or stderr:
     * the I/O loop that reads them waits on the application's log, and PHP runs no signal handler
     * (no backtrace) until the write returns. False when /proc does not say (a kernel that hides
     * {@code wchan}).
     */
    public boolean writingOutput() {
        synchronized (this) {
            if (state.get() != State.RUNNING) {
                return false;
            }
            if (inPipeWrite(pid)) {
                return true;
            }
            List<Integer> children = ProcFs.children(pid);
            if (children != null) {
                for (int child : children) {
                    ProcFs.Stat stat = inPipeWrite(child) ? ProcFs.stat(child) : null;
                    if (stat != null && stat.ppid() == pid) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    /** Whether /proc/<pid>/wchan names the kernel's pipe write (pipe_write, anon_pipe_write). */
    static boolean inPipeWrite(int pid) {
        try {
            return Files.readString(Path.of("/proc", Integer.toString(pid), "wchan")).contains("pipe_write");
        } catch (IOException | RuntimeException e) {
            return false; // gone, or not readable here
        }
    }

    /**
     * Resident set sizes in bytes, from /proc: the leader's own, and the largest of it and its
     * direct children's. Both -1 once the leader has exited.
     *
     * @param own     the leader's
     * @param largest the leader's, or its largest direct child's if that one is larger: folk-worker-php's
     *                {@code Scripts} runs each request in a process forked from the worker, and the
     *                request's memory is that child's
     */
    public record ResidentSet(long own, long largest) {
        static final ResidentSet GONE = new ResidentSet(-1, -1);
    }

    /**
     * Its {@link ResidentSet}. Read under the monitor so the pid cannot be reaped and reused between
     * the check and the read; a child's figure counts only if the process is still the leader's child
     * after it was read (its pid may have been reaped and reused meanwhile).
     */
    public ResidentSet residentSet() {
        synchronized (this) {
            if (state.get() != State.RUNNING) {
                return ResidentSet.GONE;
            }
            long own = statmResident(pid);
            if (own < 0) {
                return ResidentSet.GONE;
            }
            long largest = own;
            List<Integer> children = ProcFs.children(pid);
            if (children != null) {
                for (int child : children) {
                    long size = statmResident(child);
                    ProcFs.Stat stat = size > largest ? ProcFs.stat(child) : null;
                    if (stat != null && stat.ppid() == pid) {
                        largest = size;
                    }
                }
            }
            return new ResidentSet(own, largest);
        }
    }

    /** The second field of /proc/<pid>/statm, in bytes; -1 if it cannot be read. */
    private static long statmResident(int pid) {
        try {
            String statm = Files.readString(Path.of("/proc", Integer.toString(pid), "statm"));
            int space = statm.indexOf(' ');
            int end = statm.indexOf(' ', space + 1);
            return Long.parseLong(statm.substring(space + 1, end)) * PAGE_SIZE;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static final long PAGE_SIZE = 4096;

    // --- supervisor internals ---

    boolean transition(State from, State to) {
        return state.compareAndSet(from, to);
    }

    /**
     * The leader exited (its pidfd said so). Our ends of its sockets are shut down first: a child
     * it started (PHP's {@code exec('job &')}) inherits its ends of both and may outlive it, and no
     * end of stream would then wake a read of a call's answer, or of a handshake, before a timeout.
     * What the worker sent before it exited is still read.
     */
    void markExited() {
        if (state.compareAndSet(State.RUNNING, State.EXITED)) {
            task.abort();
            control.abort();
            exited.complete(this);
        }
    }

    /** Signals are allowed while the leader is unreaped: its pid pins the group id. */
    boolean signalable() {
        State s = state.get();
        return s == State.RUNNING || s == State.EXITED;
    }

    void reapedWith(ExitStatus status) {
        this.exitStatus = status;
        state.set(State.REAPED);
        exited.complete(this);
        reaped.complete(status);
    }

    org.slf4j.Logger outputLogger() {
        org.slf4j.Logger logger = outputLogger;
        if (logger == null) {
            logger = org.slf4j.LoggerFactory.getLogger("dev.folk.worker." + spec.name());
            outputLogger = logger;
        }
        return logger;
    }

    private org.slf4j.@Nullable Logger outputLogger;

    OutputTail outputTail() {
        return outputTail;
    }

    /** From the I/O thread, once per output pipe when it is closed. */
    void outputPipeClosed() {
        if (--openOutputs == 0) {
            outputClosed.complete(null);
        }
    }

    int pidfd() {
        return pidfd;
    }

    int stdoutFd() {
        return stdoutFd;
    }

    int stderrFd() {
        return stderrFd;
    }

    @Override
    public String toString() {
        return "worker " + pid + " of '" + spec.name() + "' (" + state.get() + ')';
    }
}
