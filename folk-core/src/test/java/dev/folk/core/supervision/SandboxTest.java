package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/** Per-worker sandbox directories: 0700, cwd and TMPDIR of the worker, removed without following links. */
class SandboxTest {

    @Test
    void sandboxIsPrivateIsTheWorkersCwdAndTmpdirAndIsRemovedWithoutFollowingLinks(@TempDir Path tmp)
            throws Exception {
        Path outside = Files.writeString(tmp.resolve("precious.txt"), "keep me");
        Path outsideDir = Files.createDirectory(tmp.resolve("precious-dir"));
        Files.writeString(outsideDir.resolve("inner.txt"), "keep me too");
        try (Supervisor supervisor = new Supervisor()) {
            WorkerProcess p = supervisor.spawn(Workers.sh(Workers.newTag(),
                    "echo \"$PWD|$TMPDIR\" >&4; mkdir -p sub/deeper; echo x > sub/deeper/f; exec sleep 1000")
                    .sandboxRoot(tmp.resolve("sandboxes")).build());
            Path sandbox = p.sandbox().orElseThrow();
            String line = readLine(p);
            assertThat(line).isEqualTo(sandbox + "|" + sandbox);
            assertThat(Files.readSymbolicLink(Path.of("/proc", Integer.toString(p.pid()), "cwd"))).isEqualTo(sandbox);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sandbox))).isEqualTo("rwx------");

            Files.createSymbolicLink(sandbox.resolve("link-to-file"), outside);
            Files.createSymbolicLink(sandbox.resolve("link-to-dir"), outsideDir);
            Procs.await(Duration.ofSeconds(5), "worker wrote its file", () -> Files.exists(sandbox.resolve("sub/deeper/f")));

            supervisor.terminate(p, Duration.ofSeconds(5));

            assertThat(sandbox).doesNotExist();
            assertThat(Files.readString(outside)).isEqualTo("keep me");
            assertThat(Files.readString(outsideDir.resolve("inner.txt"))).isEqualTo("keep me too");
            assertThat(supervisor.leftoverSandboxes()).isEmpty();
        }
    }

    @Test
    void aFailedRemovalStaysTrackedAndShutdownRetriesIt() throws Exception {
        // Under the build directory rather than /tmp: chattr needs a file system with attributes.
        Path root = Path.of("target", "sandbox-test-" + UUID.randomUUID()).toAbsolutePath();
        Supervisor supervisor = new Supervisor();
        WorkerProcess p = supervisor.spawn(Workers.sh(Workers.newTag(), "echo ready >&4; exec sleep 1000")
                .sandboxRoot(root).build());
        Path sandbox = p.sandbox().orElseThrow();
        Path pinned = Files.writeString(sandbox.resolve("immutable"), "x");
        boolean immutable = chattr("+i", pinned);
        try {
            assumeTrue(immutable, "chattr +i is not supported on " + root
                    + " (needs root and ext4/xfs/btrfs): cannot make a removal fail");
            supervisor.terminate(p, Duration.ofSeconds(5));
            assertThat(sandbox).as("removal failed, the directory is still there").exists();
            assertThat(supervisor.leftoverSandboxes()).containsExactly(sandbox);
            assertThat(p.state()).isEqualTo(WorkerProcess.State.RELEASED);
        } finally {
            chattr("-i", pinned);
        }
        supervisor.killAndReapAll(); // shutdown retries
        assertThat(sandbox).doesNotExist();
        assertThat(supervisor.leftoverSandboxes()).isEmpty();
        supervisor.close();
    }

    private static boolean chattr(String flag, Path file) throws InterruptedException {
        try {
            Process chattr = new ProcessBuilder("chattr", flag, file.toString()).redirectErrorStream(true).start();
            chattr.getInputStream().readAllBytes();
            return chattr.waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static String readLine(WorkerProcess p) throws IOException {
        StringBuilder sb = new StringBuilder();
        ByteBuffer buf = ByteBuffer.allocate(1024);
        while (sb.indexOf("\n") < 0) {
            assertThat(p.controlChannel().awaitReadable(5000)).isTrue();
            buf.clear();
            int n = p.controlChannel().read(buf);
            assertThat(n).isPositive();
            sb.append(new String(buf.array(), 0, n, StandardCharsets.UTF_8));
        }
        return sb.substring(0, sb.indexOf("\n"));
    }
}
