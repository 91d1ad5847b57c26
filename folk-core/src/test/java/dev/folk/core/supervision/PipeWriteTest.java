package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.folk.core.testing.Procs;

/**
 * What tells a worker blocked writing its output (a log that does not keep up) from one blocked in
 * a read: /proc's wchan, read by {@link WorkerProcess#writingOutput()} when a slow call gets no backtrace.
 */
class PipeWriteTest {

    @Test
    void aProcessWhoseStdoutPipeIsFullIsSeenInPipeWriteAndNotOnceItIsRead() throws Exception {
        Process writer = new ProcessBuilder("sh", "-c", "head -c 1000000 /dev/zero; exec sleep 30").start();
        int pid = (int) writer.pid();
        try {
            // The pipe holds 64 KiB: head blocks in write(2) as long as nobody reads.
            Procs.await(Duration.ofSeconds(10), "sh's child blocked in a pipe write", () -> {
                var children = ProcFs.children(pid);
                return children != null && children.stream().anyMatch(WorkerProcess::inPipeWrite);
            });
            assertThat(WorkerProcess.inPipeWrite(pid)).as("sh itself waits for its child, not in a write").isFalse();
            int head = ProcFs.children(pid).get(0);
            InputStream out = writer.getInputStream();
            long read = 0;
            byte[] buffer = new byte[64 * 1024];
            while (read < 1_000_000) {
                int n = out.read(buffer);
                assertThat(n).isPositive();
                read += n;
            }
            Procs.await(Duration.ofSeconds(10), "head no longer in a pipe write once the pipe was read",
                    () -> !WorkerProcess.inPipeWrite(head));
        } finally {
            writer.children().forEach(ProcessHandle::destroyForcibly);
            writer.destroyForcibly();
            writer.waitFor();
        }
    }
}
