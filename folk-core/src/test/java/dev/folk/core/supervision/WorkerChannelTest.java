package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/**
 * A worker's channel with heap buffers (the codec uses direct ones): through a worker that echoes
 * its task socket ({@code cat <&3 >&3}), more than one chunk's worth each way, and closed once.
 */
class WorkerChannelTest {

    @Test
    void heapBuffersLargerThanAChunkGoThroughWholeAndInOrder() throws Exception {
        try (Supervisor supervisor = new Supervisor()) {
            roundTrip(supervisor);
        }
    }

    private static void roundTrip(Supervisor supervisor) throws Exception {
        WorkerProcess p = supervisor.spawn(Workers.sh(Workers.newTag(), "exec cat <&3 >&3").build());
        WorkerChannel channel = p.taskChannel();
        byte[] sent = new byte[300 * 1024 + 7]; // several 64 KiB chunks and a remainder
        new Random(42).nextBytes(sent);

        // The writer needs the reader: cat's socket buffers hold less than what is sent.
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            ByteBuffer src = ByteBuffer.wrap(sent, 3, sent.length - 3).slice(); // a non-zero array offset
            try {
                while (src.hasRemaining()) {
                    int n = channel.write(src);
                    assertThat(n).isPositive();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        byte[] received = new byte[sent.length - 3];
        ByteBuffer dst = ByteBuffer.wrap(new byte[received.length + 10], 5, received.length).slice();
        while (dst.hasRemaining()) {
            assertThat(channel.awaitReadable(10_000)).as("echo within 10 s").isTrue();
            assertThat(channel.read(dst)).isPositive();
        }
        writer.get(10, TimeUnit.SECONDS);
        dst.flip().get(received);
        byte[] expected = Arrays.copyOfRange(sent, 3, sent.length);
        assertThat(received).isEqualTo(expected);
        assertThat(channel.read(ByteBuffer.allocate(0))).as("an empty heap buffer reads nothing").isZero();
        assertThat(channel.write(ByteBuffer.allocate(0))).as("an empty heap buffer writes nothing").isZero();

        int fd = channel.fd();
        String socket = Procs.fdTarget(Procs.jvmPid(), fd);
        assertThat(socket).startsWith("socket:");
        channel.close();
        channel.close(); // once only: a second close must not reach a number reused since
        assertThat(Procs.fdTarget(Procs.jvmPid(), fd)).as("the parent's end is closed").isNotEqualTo(socket);
        assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(8))).isInstanceOf(ClosedChannelException.class);
        supervisor.terminate(p, Duration.ofSeconds(5));
    }
}
