package dev.folk.core.pool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.folk.core.supervision.WorkerProcess.ResidentSet;
import dev.folk.core.os.Os;
import dev.folk.core.protocol.Message;
import dev.folk.core.protocol.MessageCodec;
import dev.folk.core.supervision.ExitStatus;
import dev.folk.core.supervision.StderrBlocks;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerChannel;
import dev.folk.core.supervision.WorkerProcess;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.util.Durations;
import org.jspecify.annotations.Nullable;

/** The real {@link WorkerHost}: workers are processes of a {@link Supervisor}, spoken to over fds 3 and 4. */
final class SupervisedHost implements WorkerHost {

    /**
     * Where a worker learns the pool's frame limit (PROTOCOL.md): a worker keeping to 16 MiB
     * under a larger limit would die of a request the pool allowed, and under a smaller one send
     * answers the pool refuses, where it could fail that one call with the reason.
     */
    static final String FRAME_LIMIT_VARIABLE = "FOLK_MAX_FRAME_LENGTH";

    private final Supervisor supervisor;
    private final PoolConfig config;
    private final WorkerSpec worker;

    SupervisedHost(Supervisor supervisor, PoolConfig config) {
        this.supervisor = supervisor;
        this.config = config;
        this.worker = config.worker().toBuilder()
                .environment(FRAME_LIMIT_VARIABLE, Integer.toString(config.maxFrameLength())).build();
    }

    @Override
    public WorkerLink spawn() {
        WorkerProcess process = supervisor.spawn(worker);
        return new Link(process, new MessageCodec(config.maxFrameLength(),
                "worker " + process.pid() + " of pool '" + config.name() + "'"));
    }

    @Override
    public List<@Nullable ExitStatus> terminateAll(List<WorkerLink> links, long killBy) {
        List<WorkerProcess> processes = new ArrayList<>(links.size());
        for (WorkerLink l : links) {
            processes.add(((Link) l).process);
        }
        return supervisor.terminateAll(processes, killBy);
    }

    @Override
    public boolean isClosed() {
        return supervisor.isClosed();
    }

    /** One supervised process and the codec of its connection. */
    private final class Link implements WorkerLink {
        final WorkerProcess process;
        final MessageCodec codec;
        /** The backtrace asked for and not yet taken (one at a time: a worker serves one call at a time). */
        private volatile @Nullable PendingBacktrace pendingBacktrace;

        Link(WorkerProcess process, MessageCodec codec) {
            this.process = process;
            this.codec = codec;
        }

        @Override
        public int pid() {
            return process.pid();
        }

        @Override
        public Instant startedAt() {
            return process.startedAt();
        }

        @Override
        public Message awaitControl(long timeoutNanos) throws IOException {
            WorkerChannel control = process.controlChannel();
            if (timeoutNanos <= 0 || !control.awaitReadable(TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + 1)) {
                throw new IOException("no control.ready within boot-timeout " + Durations.text(config.bootTimeout()));
            }
            // A worker that sends half a frame and stalls is killed by the housekeeper at the boot deadline.
            return codec.readMessage(control);
        }

        @Override
        public void abortControl() {
            process.controlChannel().abort();
        }

        @Override
        public ByteBuffer encodeRequest(long msgid, String method, @Nullable Object params) {
            return codec.encodeRequest(msgid, method, params);
        }

        @Override
        public ByteBuffer encodeRequest(long msgid, String method, @Nullable Object params,
                                        Map<String, String> context) {
            return codec.encodeRequest(msgid, method, params, context);
        }

        @Override
        public ByteBuffer encodeNotify(String method, @Nullable Object params) {
            return codec.encodeNotify(method, params);
        }

        @Override
        public void send(ByteBuffer frame) throws IOException {
            codec.writeFrame(process.taskChannel(), frame);
        }

        @Override
        public Message receive() throws IOException {
            return codec.readMessage(process.taskChannel());
        }

        @Override
        public void abortTask() {
            process.taskChannel().abort();
        }

        @Override
        public void closeTask() {
            process.taskChannel().close();
        }

        @Override
        public CompletableFuture<?> onExit() {
            return process.onExit();
        }

        @Override
        public boolean awaitExit(Duration timeout) {
            return supervisor.awaitExit(process, timeout);
        }

        @Override
        public boolean hasExited() {
            return supervisor.hasExited(process);
        }

        @Override
        public void kill() {
            supervisor.kill(process);
        }

        @Override
        public @Nullable ExitStatus terminate(Duration grace) {
            return supervisor.terminate(process, grace);
        }

        @Override
        public CompletableFuture<List<String>> requestBacktrace(long msgid) {
            synchronized (this) {
                PendingBacktrace pending = pendingBacktrace;
                if (pending != null && pending.msgid == msgid && !pending.lines.isDone()) {
                    return pending.lines;
                }
                if (pending == null) {
                    process.divertStderrBlocks(new StderrBlocks(PendingBacktrace.BEGIN, PendingBacktrace.END,
                            PendingBacktrace.MAX_LINES, this::takeBacktrace));
                }
                pending = new PendingBacktrace(msgid, new CompletableFuture<>());
                pendingBacktrace = pending;
                if (!supervisor.signalLeader(process, Os.SIGUSR2)) {
                    pending.lines.completeExceptionally(new IllegalStateException("the worker has exited"));
                }
                return pending.lines;
            }
        }

        /** On the supervisor's I/O thread: a marked block from the worker's stderr; false lets it through. */
        private boolean takeBacktrace(List<String> block) {
            PendingBacktrace pending = pendingBacktrace;
            return pending != null && pending.matches(block.get(0))
                    && pending.lines.complete(List.copyOf(block.subList(1, block.size() - 1)));
        }

        @Override
        public ResidentSet residentSet() {
            return process.residentSet();
        }

        @Override
        public boolean stopped() {
            return process.stopped();
        }

        @Override
        public boolean writingOutput() {
            return process.writingOutput();
        }

        @Override
        public void endOutputLine() {
            process.endOutputLine();
        }

        @Override
        public void describeCallsWith(Supplier<@Nullable String> current) {
            process.describeCallsWith(current);
        }

        @Override
        public List<String> recentOutput() {
            return process.recentOutput();
        }

        @Override
        public long recentOutputNanos() {
            return process.recentOutputNanos();
        }

        @Override
        public CompletableFuture<Void> onOutputClosed() {
            return process.onOutputClosed();
        }

        @Override
        public String toString() {
            return process.toString();
        }
    }

    /**
     * A backtrace asked of a worker for call {@code msgid}. The worker library writes it on stderr
     * as {@code folk-backtrace-begin pid=<pid> msgid=<msgid>}, one {@code #i file:line function}
     * line per frame, {@code folk-backtrace-end}; a block for another call (a late answer) is
     * left to the worker's output policy.
     */
    private record PendingBacktrace(long msgid, CompletableFuture<List<String>> lines) {
        static final String BEGIN = "folk-backtrace-begin ";
        static final String END = "folk-backtrace-end";
        /** The worker library writes at most 50 frames, a truncation line and the two markers. */
        static final int MAX_LINES = 60;

        boolean matches(String header) {
            return header.endsWith(" msgid=" + msgid) || header.contains(" msgid=" + msgid + " ");
        }
    }
}
