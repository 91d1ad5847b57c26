package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.testing.Procs;

/**
 * Workers started while the application holds HTTP connections and files open see none of
 * them. A worker that opens nothing itself (a shell that says ready, then becomes `sleep`) holds
 * exactly fds 0-4; the PHP workers hold, besides those, only what PHP opened itself (it dups fds
 * 3 and 4 for its streams) and nothing the JVM has open.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "folk.pools.default.size=3",
        "folk.pools.probe.command=sh",
        "folk.pools.probe.args[0]=-c",
        "folk.pools.probe.args[1]=printf \"$READY\" >&4; exec sleep 1000",
        "folk.pools.probe.env.READY=" + WorkerDescriptorsTest.READY,
        "folk.pools.probe.size=3"})
class WorkerDescriptorsTest {

    /**
     * The control.ready frame, {"pid": 1}, as a printf format of octal escapes - written here in
     * .properties syntax, where a backslash must itself be escaped.
     */
    static final String READY =
            "\\\\000\\\\000\\\\000\\\\026\\\\223\\\\002\\\\255control.ready\\\\201\\\\243pid\\\\001";

    @LocalServerPort
    int port;

    @Autowired
    @Qualifier("default")
    WorkerPool php;

    @Autowired
    @Qualifier("probe")
    WorkerPool probe;

    @TempDir
    Path tmp;

    @Test
    void workersHoldNoDescriptorOfTheJvmEvenWithOpenConnectionsAndFiles() throws Exception {
        List<Socket> connections = new ArrayList<>();
        List<FileChannel> files = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                Socket s = new Socket("127.0.0.1", port); // kept-alive connections the server holds open
                OutputStream out = s.getOutputStream();
                out.write("GET /actuator/health HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                connections.add(s);
                files.add(FileChannel.open(Files.createFile(tmp.resolve("open-" + i)), StandardOpenOption.WRITE));
            }
            // Every worker is spawned again now, with all of that open in the JVM.
            php.reset().get();
            probe.reset().get();
            // And the old ones gone: a reset's last retired worker may still be stopping (its process
            // on its way out, its /proc entries with it) once the fresh ones are ready.
            Procs.await(Duration.ofSeconds(15), "fresh workers ready, the old ones gone",
                    () -> php.readyCount() == 3 && probe.readyCount() == 3
                            && php.snapshot().workers().size() == 3 && probe.snapshot().workers().size() == 3);

            int jvm = Procs.jvmPid();
            Set<String> jvmTargets = new HashSet<>();
            for (int fd : Procs.jvmFds()) {
                String t = Procs.fdTarget(jvm, fd);
                if (t != null) {
                    jvmTargets.add(t);
                }
            }
            assertThat(jvmTargets).as("the JVM holds the test's files").contains(tmp.resolve("open-0").toString());

            for (var w : probe.snapshot().workers()) {
                // It says ready before it execs sleep, whose loader briefly holds files at fd 5.
                Procs.awaitAsleep(w.pid());
                assertThat(Procs.fds(w.pid())).as("fds of probe worker %d", w.pid()).containsExactly(0, 1, 2, 3, 4);
                assertOwnDescriptorsOnly(w.pid(), jvmTargets);
            }
            for (var w : php.snapshot().workers()) {
                assertOwnDescriptorsOnly(w.pid(), jvmTargets);
            }
        } finally {
            for (Socket s : connections) {
                s.close();
            }
            for (FileChannel f : files) {
                f.close();
            }
        }
    }

    /** 0-4 are the worker's own; anything else it holds was opened by itself, none is the JVM's. */
    private static void assertOwnDescriptorsOnly(int pid, Set<String> jvmTargets) {
        assertThat(Procs.fdTarget(pid, 0)).isEqualTo("/dev/null");
        assertThat(Procs.fdTarget(pid, 1)).startsWith("pipe:");
        assertThat(Procs.fdTarget(pid, 2)).startsWith("pipe:");
        Set<String> own = Set.of(Procs.fdTarget(pid, 1), Procs.fdTarget(pid, 2), Procs.fdTarget(pid, 3),
                Procs.fdTarget(pid, 4));
        assertThat(Procs.sockets(pid)).as("sockets of worker %d: only its own two", pid).hasSize(2);
        for (int fd : Procs.fds(pid)) {
            String target = Procs.fdTarget(pid, fd);
            if (target == null || own.contains(target) || target.startsWith("/dev/")) {
                continue;
            }
            assertThat(jvmTargets).as("worker %d fd %d -> %s is also open in the JVM", pid, fd, target)
                    .doesNotContain(target);
        }
    }
}
