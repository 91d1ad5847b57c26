package dev.folk.core.pool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import dev.folk.core.supervision.WorkerProcess.ResidentSet;
import dev.folk.core.protocol.Message;
import dev.folk.core.supervision.ExitStatus;

import org.jspecify.annotations.Nullable;

/**
 * One worker process as the pool drives it (see {@link WorkerHost}): its handshake, its task
 * channel (fd 3), its exit, and how it is stopped.
 *
 * <p>Threading is the pool's: one thread at a time encodes, sends and receives (the caller that
 * holds the worker); any thread may abort, kill or stop it.
 */
interface WorkerLink {

    int pid();

    Instant startedAt();

    /**
     * Waits up to {@code timeoutNanos} for the first message on the control channel (fd 4).
     *
     * @throws IOException if none came in time, the channel ended, or it was aborted
     */
    Message awaitControl(long timeoutNanos) throws IOException;

    /** Wakes a thread blocked in {@link #awaitControl}: it fails. */
    void abortControl();

    /**
     * Encodes a request as a frame; throws {@link dev.folk.core.protocol.FrameTooLargeException}
     * before anything is written, or another RuntimeException for a parameter it cannot encode.
     */
    ByteBuffer encodeRequest(long msgid, String method, @Nullable Object params);

    /**
     * {@link #encodeRequest(long, String, Object)} with the call's context as a 5th element; asked
     * only for a worker that declared the {@value CallObservation#FEATURE} feature.
     */
    default ByteBuffer encodeRequest(long msgid, String method, @Nullable Object params, Map<String, String> context) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " sends no request context");
    }

    /** Encodes a Notify as a frame (a call's {@value CallParts#ABORT}); same failures as {@link #encodeRequest}. */
    default ByteBuffer encodeNotify(String method, @Nullable Object params) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " sends no notifications");
    }

    /**
     * Writes a request frame. An IOException means nothing was delivered (a partial frame is never
     * processed); a {@link dev.folk.core.supervision.ChannelResetException} too.
     */
    void send(ByteBuffer frame) throws IOException;

    /**
     * Reads the next message on the task channel. Fails with a
     * {@link dev.folk.core.protocol.ProtocolException} on bad input, with a
     * {@link dev.folk.core.supervision.ChannelResetException} if the worker ended without reading
     * the request, with another IOException on end of stream or after {@link #abortTask}.
     */
    Message receive() throws IOException;

    /** Shuts the task channel down: a thread blocked in send or receive fails at once. */
    void abortTask();

    /** Closes the task channel: a Folk worker sees end of stream on fd 3, leaves its loop and exits 0. */
    void closeTask();

    /** Completes when the process has exited (on another thread: keep callbacks short). */
    CompletableFuture<?> onExit();

    /** Waits up to {@code timeout} for the process to exit (without reaping it); true once it has. */
    boolean awaitExit(Duration timeout);

    /** Whether the process has exited, asked now. */
    boolean hasExited();

    /** Kills its whole process group now (no reap). */
    void kill();

    /**
     * Stops it through the ladder (TERM, {@code grace}, KILL) and reaps it; a no-op on a reaped
     * worker. Returns how it ended, or null if it could not be reaped in time.
     */
    @Nullable ExitStatus terminate(Duration grace);

    /**
     * Asks the worker process itself (never its group: its children must not get the signal, and
     * never once it is reaped) for its PHP stack during call {@code msgid}: SIGUSR2, answered on
     * its stderr with a block the pool takes out of the output (see {@code Folk\Worker\Backtrace}).
     * Only for a worker that declared the {@code backtrace} feature: without a handler, SIGUSR2
     * kills a process. Completes with the frames, or exceptionally at once if the signal could not
     * be sent; may never complete (a worker blocked in a system call): the caller bounds the wait.
     * A request while one for the same call is pending returns that one (no second signal).
     */
    CompletableFuture<List<String>> requestBacktrace(long msgid);

    /** Its resident set sizes (see {@link ResidentSet}); both -1 once it has exited or if unknown. */
    ResidentSet residentSet();

    /** Whether its process is stopped (SIGSTOP, SIGTSTP, a debugger); false if unknown. */
    default boolean stopped() {
        return false;
    }

    /** Tells the process what call it serves at any time, for its output lines; nothing to tell by default. */
    default void describeCallsWith(Supplier<@Nullable String> current) {
    }

    /**
     * After a call it answered: output it left without a final newline becomes a line of its own
     * (as PHP-FPM logs a request's), before the next call can add to it. One volatile read when
     * there is none.
     */
    default void endOutputLine() {
    }

    /** Whether the worker (or its request's process) is blocked writing its output: the reader does not keep up. */
    default boolean writingOutput() {
        return false;
    }

    /** Its last output lines. */
    List<String> recentOutput();

    /** {@link System#nanoTime()} when the newest of {@link #recentOutput()} was read; {@link Long#MIN_VALUE} if none. */
    long recentOutputNanos();

    /** Completes once its output has been read to the end (then {@link #recentOutput} is complete). */
    CompletableFuture<Void> onOutputClosed();
}
