package dev.folk.core.pool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.folk.core.protocol.Message;
import dev.folk.core.protocol.MessageCodec;
import dev.folk.core.supervision.ExitStatus;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerChannel;
import dev.folk.core.supervision.WorkerProcess;

import org.jspecify.annotations.Nullable;

/** The real {@link WorkerHost}: workers are processes of a {@link Supervisor}, spoken to over fds 3 and 4. */
final class SupervisedHost implements WorkerHost {

    private final Supervisor supervisor;
    private final PoolConfig config;

    SupervisedHost(Supervisor supervisor, PoolConfig config) {
        this.supervisor = supervisor;
        this.config = config;
    }

    @Override
    public WorkerLink spawn() {
        WorkerProcess process = supervisor.spawn(config.worker());
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
                throw new IOException("no control.ready within boot-timeout " + config.bootTimeout());
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
        public long residentSetBytes() {
            return process.residentSetBytes();
        }

        @Override
        public List<String> recentOutput() {
            return process.recentOutput();
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
}
