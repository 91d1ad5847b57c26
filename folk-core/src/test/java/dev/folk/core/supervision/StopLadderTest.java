package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.folk.core.os.Os;
import dev.folk.core.testing.CountingOs;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/** TERM → grace → KILL on the whole group; reaped once; nothing signalled after the reap. */
class StopLadderTest {

    private static final Duration GRACE = Duration.ofSeconds(5);
    private static final Duration READY = Duration.ofSeconds(5);

    private static CountingOs os;
    private static Supervisor supervisor;

    @BeforeAll
    static void start() {
        os = new CountingOs();
        supervisor = new Supervisor(os, true);
    }

    @AfterAll
    static void stop() {
        supervisor.close();
    }

    @Test
    void termObedientWorkerStopsWellUnderTheGrace() throws Exception {
        WorkerProcess p = supervisor.spawn(Workers.sh(Workers.newTag(), "echo ready >&4; exec sleep 1000").build());
        Workers.awaitLine(p.controlChannel(), "ready", READY);
        long t0 = System.nanoTime();
        ExitStatus st = supervisor.terminate(p, GRACE);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(st.signal()).isEqualTo(Os.SIGTERM);
        assertThat(ms).as("stop time in ms with a 5 s grace").isLessThan(1000);
        assertThat(p.state()).isEqualTo(WorkerProcess.State.RELEASED);
    }

    /**
     * A stop made on an interrupted thread (a pool's close interrupts its spawner, shutdownNow): the
     * ladder runs to the reap as on any thread, the state file keeps up and is emptied at close, and
     * the interrupt is still set after. The interrupt used to cut every wait short (SIGKILL at once,
     * then "its process group did not end 2 s after SIGKILL" the same millisecond) and to close the
     * state file's channel, which left it unemptied at a clean close.
     */
    @Test
    void aStopOnAnInterruptedThreadRunsTheWholeLadderAndTheStateFileKeepsUp(@TempDir Path tmp) throws Exception {
        Path state = tmp.resolve("run.state");
        Duration grace = Duration.ofMillis(300);
        try (Supervisor own = Supervisor.builder().stateFile(state).build();
             dev.folk.core.testing.LogCapture logs = dev.folk.core.testing.LogCapture.of(Supervisor.class)) {
            WorkerProcess p = own.spawn(Workers.sh(Workers.newTag(),
                    "trap '' TERM; echo ready >&4; while :; do sleep 1; done").build());
            Workers.awaitLine(p.controlChannel(), "ready", READY);
            String entry = p.pgid() + " ";
            assertThat(Files.readAllLines(state)).anyMatch(l -> l.startsWith(entry));

            long t0 = System.nanoTime();
            Thread.currentThread().interrupt();
            ExitStatus st;
            boolean stillInterrupted;
            try {
                st = own.terminate(p, grace);
            } finally {
                stillInterrupted = Thread.interrupted();
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(stillInterrupted).as("the interrupt kept for the caller").isTrue();
            assertThat(st.signal()).isEqualTo(Os.SIGKILL);
            assertThat(ms).as("TERM ignored: killed after the grace, not at once").isGreaterThanOrEqualTo(grace.toMillis());
            assertThat(p.state()).isEqualTo(WorkerProcess.State.RELEASED);
            assertThat(logs.warningsContaining("did not end")).isEmpty();
            assertThat(logs.warningsContaining("Cannot update worker state file")).isEmpty();
            assertThat(Files.readAllLines(state)).noneMatch(l -> l.startsWith(entry));
        }
        assertThat(Files.readString(state)).as("emptied by the clean close").isEmpty();
    }

    /** The same for the spawn's own record: made on an interrupted thread, it is written, and the file emptied at close. */
    @Test
    void aSpawnOnAnInterruptedThreadIsRecordedAndTheStateFileEmptiedAtClose(@TempDir Path tmp) throws Exception {
        Path state = tmp.resolve("run.state");
        try (Supervisor own = Supervisor.builder().stateFile(state).build();
             dev.folk.core.testing.LogCapture logs = dev.folk.core.testing.LogCapture.of(WorkerStateFile.class)) {
            WorkerProcess p;
            Thread.currentThread().interrupt();
            try {
                p = own.spawn(Workers.sh(Workers.newTag(), "echo ready >&4; exec sleep 1000").build());
            } finally {
                assertThat(Thread.interrupted()).as("the interrupt kept for the caller").isTrue();
            }
            Workers.awaitLine(p.controlChannel(), "ready", READY);
            assertThat(Files.readAllLines(state)).anyMatch(l -> l.startsWith(p.pgid() + " "));
            assertThat(logs.warningsContaining("Cannot update worker state file")).isEmpty();
            own.terminate(p, GRACE);
        }
        assertThat(Files.readString(state)).as("emptied by the clean close").isEmpty();
    }

    @Test
    void termIgnoringWorkerIsKilledAtTheDeadline() throws Exception {
        Duration grace = Duration.ofSeconds(1);
        WorkerProcess p = supervisor.spawn(Workers.sh(Workers.newTag(),
                "trap '' TERM; echo ready >&4; while :; do sleep 1; done").build());
        Workers.awaitLine(p.controlChannel(), "ready", READY);
        long t0 = System.nanoTime();
        ExitStatus st = supervisor.terminate(p, grace);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(st.signal()).isEqualTo(Os.SIGKILL);
        assertThat(st.killedBySignal()).isTrue();
        assertThat(ms).as("stop time in ms").isBetween(grace.toMillis(), grace.toMillis() + 1000);
        assertThat(p.state()).isEqualTo(WorkerProcess.State.RELEASED);
        assertThat(Procs.groupMembers(p.pgid())).isEmpty();
    }

    @Test
    void aMemberWhoseFirstThreadHasExitedKeepsItsGroupUntilItIsKilled(@TempDir Path tmp) throws Exception {
        Duration grace = Duration.ofSeconds(1);
        Path pidFile = tmp.resolve("member.pid");
        // The member blocks TERM, and /proc/<pid>/stat calls it a zombie: its first thread has
        // exited, another one runs. Taken for dead, it would end the wait early and escape the KILL.
        WorkerProcess p = supervisor.spawn(Workers.sh(Workers.newTag(),
                Workers.HEADLESS_PHP + " & echo $! > " + pidFile + "; echo ready >&4; exec sleep 1000").build());
        Workers.awaitLine(p.controlChannel(), "ready", READY);
        int member = Integer.parseInt(Files.readString(pidFile).trim());
        try {
            Procs.await(Duration.ofSeconds(10), "the member's first thread exited, another runs", () -> Procs.headless(member),
                    () -> Procs.describe(List.of(member)));
            ExitStatus st = supervisor.terminate(p, grace);
            assertThat(st.signal()).as("the leader obeys TERM").isEqualTo(Os.SIGTERM);
            assertThat(Procs.alive(member)).as("member left running").isFalse();
            assertThat(Procs.groupMembers(p.pgid())).isEmpty();
        } finally {
            ProcessHandle.of(member).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void terminateAllStopsManyWorkersWithOneGraceAndKillsOnlyTheStubbornGroups() throws Exception {
        Duration grace = Duration.ofSeconds(1);
        WorkerProcess obedient = supervisor.spawn(Workers.sh(Workers.newTag(), "echo ready >&4; exec sleep 1000").build());
        // The leader obeys TERM, its background child does not: the group must still be KILLed.
        WorkerProcess stubbornChild = supervisor.spawn(Workers.sh(Workers.newTag(),
                "(trap '' TERM; while :; do sleep 1; done) & echo ready >&4; exec sleep 1000").build());
        WorkerProcess stubborn = supervisor.spawn(Workers.sh(Workers.newTag(),
                "trap '' TERM; echo ready >&4; while :; do sleep 1; done").build());
        WorkerProcess exited = supervisor.spawn(Workers.sh(Workers.newTag(), "echo ready >&4; exit 7").build());
        List<WorkerProcess> all = List.of(obedient, stubbornChild, stubborn, exited);
        for (WorkerProcess p : all) {
            Workers.awaitLine(p.controlChannel(), "ready", READY);
        }
        assertThat(supervisor.awaitExit(exited, READY)).isTrue();
        long t0 = System.nanoTime();
        List<ExitStatus> st = supervisor.terminateAll(all, t0 + grace.toNanos());
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(st.get(0).signal()).isEqualTo(Os.SIGTERM);
        assertThat(st.get(1).signal()).as("the leader obeyed TERM").isEqualTo(Os.SIGTERM);
        assertThat(st.get(2).signal()).isEqualTo(Os.SIGKILL);
        assertThat(st.get(3).exitCode()).isEqualTo(7);
        assertThat(ms).as("stop time in ms").isBetween(grace.toMillis(), grace.toMillis() + 1000);
        for (WorkerProcess p : all) {
            assertThat(p.state()).isEqualTo(WorkerProcess.State.RELEASED);
            assertThat(Procs.groupMembers(p.pgid())).as("group of %s", p).isEmpty();
        }
    }

    @Test
    void grandchildIgnoringTermIsKilledAfterTheLeaderDies(@TempDir Path tmp) throws Exception {
        Path fifo = tmp.resolve("only-the-grandchild-writes-here");
        new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor();
        // The reader end is ours; the only writer is the grandchild. EOF on it proves the grandchild died.
        CompletableFuture<Integer> eof = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = new FileInputStream(fifo.toFile())) {
                return in.read();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        String grandchild = "( trap '' TERM; exec 5>\"$1\"; echo ready >&4; exec sleep 1000 ) & wait";
        WorkerProcess p = supervisor.spawn(Workers.sh(Workers.newTag(), grandchild)
                .args("-c", grandchild, "sh", fifo.toString()).build());
        Workers.awaitLine(p.controlChannel(), "ready", READY);
        List<Integer> members = Procs.groupMembers(p.pgid());
        assertThat(members).as("leader and grandchild").hasSizeGreaterThanOrEqualTo(2);

        Duration grace = Duration.ofSeconds(1);
        long t0 = System.nanoTime();
        ExitStatus st = supervisor.terminate(p, grace);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertThat(st.signal()).as("the leader itself died of TERM").isEqualTo(Os.SIGTERM);
        assertThat(eof.get(2, TimeUnit.SECONDS)).as("grandchild's pipe reached EOF").isEqualTo(-1);
        assertThat(ms).isLessThanOrEqualTo(grace.toMillis() + 1000);
        for (int member : members) {
            assertThat(Procs.alive(member)).as("member %d", member).isFalse();
        }
        assertThat(Procs.zombieChildren()).isEmpty();
    }

    @Test
    void stoppedWorkerIsStoppedWithinTheGrace() throws Exception {
        WorkerProcess p = supervisor.spawn(Workers.sh(Workers.newTag(), "echo ready >&4; exec sleep 1000").build());
        Workers.awaitLine(p.controlChannel(), "ready", READY);
        assertThat(supervisor.signal(p, Os.SIGSTOP)).isTrue();
        Procs.await(Duration.ofSeconds(5), "worker stopped", () -> "T".equals(Procs.stat(p.pid())[0]));
        long t0 = System.nanoTime();
        ExitStatus st = supervisor.terminate(p, GRACE);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(st.signal()).isEqualTo(Os.SIGTERM);
        assertThat(ms).as("CONT lets the stopped worker act on TERM at once").isLessThan(GRACE.toMillis());
    }

    @Test
    void grandchildrenOfATerminatedWorkerAreGoneAndLeaveNoZombie() throws Exception {
        String tag = Workers.newTag();
        WorkerProcess p = supervisor.spawn(Workers.sh(tag,
                "sleep 1000 & sleep 1000 & (sleep 1000 & wait) & echo ready >&4; wait").build());
        Workers.awaitLine(p.controlChannel(), "ready", READY);
        Procs.await(Duration.ofSeconds(5), "all four descendants running",
                () -> Procs.aliveWithEnv(Workers.RUN_TAG, tag).size() >= 5);
        List<Integer> tagged = Procs.withEnv(Workers.RUN_TAG, tag);

        supervisor.terminate(p, GRACE);

        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
        for (int pid : tagged) {
            assertThat(Procs.stat(pid)).as("pid %d fully gone (not a zombie)", pid).isNull();
        }
        assertThat(Procs.zombieChildren()).isEmpty();
    }

    @Test
    void terminateOrSignalOnAReapedWorkerMakesNoSystemCall() throws Exception {
        WorkerProcess p = supervisor.spawn(Workers.sh(Workers.newTag(), "echo ready >&4; exec sleep 1000").build());
        Workers.awaitLine(p.controlChannel(), "ready", READY);
        ExitStatus first = supervisor.terminate(p, GRACE);
        assertThat(p.state()).isEqualTo(WorkerProcess.State.RELEASED);

        Map<String, Long> before = os.snapshot();
        ExitStatus again = supervisor.terminate(p, GRACE);
        boolean signalled = supervisor.signal(p, Os.SIGKILL);
        boolean killed = supervisor.kill(p);
        boolean exited = supervisor.awaitExit(p, Duration.ofSeconds(1));
        Map<String, Long> after = os.snapshot();

        assertThat(again).isEqualTo(first);
        assertThat(signalled).isFalse();
        assertThat(killed).isFalse();
        assertThat(exited).isTrue();
        assertThat(p.residentSet().own()).isEqualTo(-1);
        // Other workers' I/O may run meanwhile on the supervisor's thread; the calls that act on
        // a pid must not move.
        for (String call : List.of("kill", "wait4", "reapGroupMember", "pidfdOpen", "poll")) {
            assertThat(after.getOrDefault(call, 0L)).as(call).isEqualTo(before.getOrDefault(call, 0L));
        }
    }

    @Test
    void concurrentTerminatesReapExactlyOnce() throws Exception {
        WorkerProcess p = supervisor.spawn(Workers.sh(Workers.newTag(), "echo ready >&4; exec sleep 1000").build());
        Workers.awaitLine(p.controlChannel(), "ready", READY);
        long waitsBefore = os.count("wait4");
        List<CompletableFuture<ExitStatus>> stops = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            stops.add(CompletableFuture.supplyAsync(() -> supervisor.terminate(p, GRACE)));
        }
        for (CompletableFuture<ExitStatus> f : stops) {
            assertThat(f.get(10, TimeUnit.SECONDS).signal()).isEqualTo(Os.SIGTERM);
        }
        assertThat(os.count("wait4") - waitsBefore).as("wait4 calls").isEqualTo(1);
    }
}
