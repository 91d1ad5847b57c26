package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.SharedSupervisor;
import dev.folk.core.testing.Workers;

/** What a spawned worker holds: exactly fds 0-4, its own group, clean signal state, no one else's sockets. */
class SpawnIsolationTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    /** A worker that sleeps: steady once {@link Procs#awaitAsleep} says so. */
    private static WorkerSpec sleeper(String tag) {
        return WorkerSpec.builder("sleep").name("sleeper").args("1000").environment(Workers.RUN_TAG, tag).build();
    }

    @Test
    void thousandSequentialSpawnsEachLeadAGroupWithExactlyFds0To4AndCleanSignals() {
        String tag = Workers.newTag();
        for (int i = 0; i < 1000; i++) {
            WorkerProcess p = SUPERVISOR.get().spawn(sleeper(tag));
            int pid = p.pid();
            // pgid == pid at the moment spawn returns: checked before anything else
            assertThat(Procs.pgrp(pid)).as("pgid of %d", pid).isEqualTo(pid);
            assertThat(p.pgid()).isEqualTo(pid);
            Procs.awaitAsleep(pid);
            assertThat(Procs.fds(pid)).as("fds of %d", pid).containsExactly(0, 1, 2, 3, 4);
            assertThat(Procs.fdTarget(pid, 0)).isEqualTo("/dev/null");
            assertThat(Procs.fdTarget(pid, 1)).startsWith("pipe:");
            assertThat(Procs.fdTarget(pid, 2)).startsWith("pipe:");
            assertThat(Procs.fdTarget(pid, 3)).startsWith("socket:");
            assertThat(Procs.fdTarget(pid, 4)).startsWith("socket:");
            assertThat(Long.parseLong(Procs.status(pid, "SigBlk"), 16)).isZero();
            long ignored = Long.parseLong(Procs.status(pid, "SigIgn"), 16);
            assertThat(ignored & 0xffffffffL).as("ignored signals below 32").isZero();
            assertThat(ignored).as("every disposition default, glibc's internal signals too").isZero();
            ExitStatus status = SUPERVISOR.get().terminate(p, Duration.ofSeconds(5));
            assertThat(status.signal()).isEqualTo(15);
        }
        assertThat(SUPERVISOR.get().workers()).isEmpty();
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void twoHundredWorkersFromEightThreadsHoldOnlyTheirOwnSocketsAndSeeEofWhenTheirTaskEndCloses()
            throws Exception {
        String tag = Workers.newTag();
        Map<Integer, String> baseline = Procs.jvmDescriptors();
        // `exec cat <&3`: cat reads the task socket (as its stdin) and exits at end of stream.
        WorkerSpec spec = Workers.sh(tag, "exec cat <&3 >/dev/null").build();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<WorkerProcess> workers = Collections.synchronizedList(new ArrayList<>());
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        workers.add(SUPERVISOR.get().spawn(spec));
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        assertThat(workers).hasSize(200);
        for (WorkerProcess w : workers) {
            Procs.await(Duration.ofSeconds(5), "cat running in " + w.pid(),
                    () -> "cat".equals(comm(w.pid())));
        }

        // Each worker holds exactly its own two socket ends; no one else's, and none of the JVM's.
        Set<String> jvmSockets = Procs.sockets(Procs.jvmPid());
        Map<String, Integer> owner = new java.util.HashMap<>();
        for (WorkerProcess w : workers) {
            Set<String> held = Procs.sockets(w.pid());
            assertThat(held).as("sockets of worker %d", w.pid()).hasSize(2);
            assertThat(held).as("worker %d holds a JVM-side socket", w.pid()).doesNotContainAnyElementsOf(jvmSockets);
            for (String s : held) {
                Integer previous = owner.put(s, w.pid());
                assertThat(previous).as("%s held by %d and %s", s, w.pid(), previous).isNull();
            }
        }

        // Closing a worker's task end is seen as EOF by that worker (nobody else holds a copy).
        for (WorkerProcess w : workers) {
            w.taskChannel().close();
        }
        for (WorkerProcess w : workers) {
            assertThat(SUPERVISOR.get().awaitExit(w, Duration.ofSeconds(5))).as("worker %d saw EOF and exited", w.pid())
                    .isTrue();
            ExitStatus st = SUPERVISOR.get().terminate(w, Duration.ofSeconds(5));
            assertThat(st.exitCode()).isZero();
        }
        Procs.awaitNothingOpenedSince(baseline, Duration.ofSeconds(5));
        assertThat(SUPERVISOR.get().workers()).isEmpty();
    }

    @Test
    void workerWritingMegabytesToStdoutAndStderrNeverBlocks(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws Exception {
        Path log = tmp.resolve("out.log");
        String tag = Workers.newTag();
        // 1 MiB of 17-byte lines on stdout, 1 MiB on stderr, then one 100 KiB line, then a marker.
        String script = "yes 0123456789abcdef | head -c 1048576; yes fedcba9876543210 | head -c 1048576 >&2;"
                + " echo; head -c 102400 /dev/zero | tr '\\0' x; echo; echo after-long-line; exit 7";
        WorkerProcess p = SUPERVISOR.get().spawn(Workers.sh(tag, script).output(OutputPolicy.appendTo(log)).build());
        assertThat(SUPERVISOR.get().awaitExit(p, Duration.ofSeconds(20))).as("worker finished writing").isTrue();
        ExitStatus st = SUPERVISOR.get().terminate(p, Duration.ofSeconds(1));
        assertThat(st.exitCode()).isEqualTo(7);
        Procs.await(Duration.ofSeconds(10), "output drained", () -> {
            try {
                return Files.readString(log).contains("after-long-line");
            } catch (IOException e) {
                return false;
            }
        });
        List<String> lines = Files.readAllLines(log);
        long stdout = lines.stream().filter(l -> l.endsWith("stdout: 0123456789abcdef")).count();
        long stderr = lines.stream().filter(l -> l.endsWith("stderr: fedcba9876543210")).count();
        // 61 680 full lines, plus the 16-byte remainder: ended by `echo` on stdout, by EOF on stderr
        assertThat(stdout).isEqualTo(1048576 / 17 + 1);
        assertThat(stderr).isEqualTo(1048576 / 17 + 1);
        // the long line wrapped, nothing lost: six 16 KiB lines that say the next goes on, then the last 4 KiB
        String prefix = "pid " + p.pid() + " stdout: ";
        String cut = " [line cut at 16 KiB: continued on the next line]";
        int first = lines.indexOf(lines.stream().filter(l -> l.contains("xxxx")).findFirst().orElseThrow());
        List<String> wrapped = lines.subList(first, first + 8).stream()
                .map(l -> l.replace(prefix, "").replace(cut, " +"))
                .map(l -> l.replaceAll("x+", "x*" + l.chars().filter(c -> c == 'x').count())).toList();
        assertThat(wrapped).containsExactly("x*16384 +", "x*16384 +", "x*16384 +", "x*16384 +", "x*16384 +", "x*16384 +",
                "x*4096", "after-long-line");
    }

    @Test
    void missingDirectoryOrNonExecutableGivesAClearErrorAndLeaksNothing(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws Exception {
        Path plain = Files.writeString(tmp.resolve("plain.sh"), "#!/bin/sh\nexit 0\n");
        Map<Integer, String> baseline = Procs.jvmDescriptors();
        int registered = SUPERVISOR.get().workers().size();

        assertSpawnFails(tmp.resolve("missing"), "ENOENT", "not found");
        assertSpawnFails(tmp, "EACCES", "is a directory");
        assertSpawnFails(plain, "EACCES", "is not executable");
        SpawnException onPath = org.junit.jupiter.api.Assertions.assertThrows(SpawnException.class,
                () -> SUPERVISOR.get().spawn(WorkerSpec.builder("folk-no-such-program").build()));
        assertThat(onPath.reason()).isEqualTo("ENOENT");
        assertThat(onPath.getMessage()).contains("folk-no-such-program").contains("PATH=");

        assertThat(SUPERVISOR.get().workers()).hasSize(registered);
        assertThat(Procs.openedSince(baseline, Procs.jvmDescriptors())).as("descriptors left open").isEmpty();
    }

    private static void assertSpawnFails(Path exe, String reason, String why) {
        SpawnException e = org.junit.jupiter.api.Assertions.assertThrows(SpawnException.class,
                () -> SUPERVISOR.get().spawn(WorkerSpec.builder(exe.toString()).build()));
        assertThat(e.reason()).isEqualTo(reason);
        assertThat(e.executable()).isEqualTo(exe.toString());
        assertThat(e.getMessage()).contains(exe.toString()).contains(reason).contains(why);
    }

    private static String comm(int pid) {
        try {
            return Files.readString(Path.of("/proc", Integer.toString(pid), "comm")).trim();
        } catch (IOException e) {
            return null;
        }
    }
}
