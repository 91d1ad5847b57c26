package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import dev.folk.core.os.NativeOs;
import dev.folk.core.os.Os;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.LogCapture;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.SharedSupervisor;
import dev.folk.core.testing.Workers;

/**
 * How workers are replaced: make before break for healthy retirements, at once after a crash,
 * back-off only for the spawn that fails, and exits named for what happened.
 */
class PoolReplacementTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    /** A worker that boots while {@code healthy} exists and exits 3 before its handshake otherwise. */
    private static WorkerSpec whileFileExists(Path healthy) {
        return WorkerSpec.builder("sh").name("conditional").args("-c",
                "[ -e \"$1\" ] || { echo 'cannot start: marker missing' >&2; exit 3; }; exec php \"$2\"", "sh",
                healthy.toString(), PhpWorkers.TEST_WORKER.toString())
                .environment(Workers.RUN_TAG, Workers.newTag()).build();
    }

    @Test
    void workersWhoseReplacementsCannotBootKeepServingPastMaxJobs(@TempDir Path tmp) throws Exception {
        Path healthy = Files.createFile(tmp.resolve("healthy"));
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("no-outage", whileFileExists(healthy)).size(3)
                .maxJobs(30).maxJobsJitter(0).backoffInitial(Duration.ofMillis(20)).backoffMax(Duration.ofMillis(200))
                .build(), SUPERVISOR.get());
        try {
            Set<Integer> original = PoolTesting.pids(pool);
            Files.delete(healthy); // from now on no new worker can boot
            // Three callers at once keep all three workers busy, each far past its 30 jobs.
            ExecutorService callers = Executors.newFixedThreadPool(3);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    done.add(callers.submit(() -> {
                        int ok = 0;
                        for (int i = 0; i < 150; i++) {
                            if (Long.valueOf(i % 2).equals(pool.call("sleep", (long) (i % 2)))) {
                                ok++;
                            }
                        }
                        return ok;
                    }));
                }
                for (Future<Integer> f : done) {
                    assertThat(f.get(2, TimeUnit.MINUTES)).isEqualTo(150);
                }
            } finally {
                callers.shutdownNow();
            }
            PoolSnapshot s = pool.snapshot();
            assertThat(s.calls().get(CallOutcome.SUCCESS)).isEqualTo(450);
            assertThat(s.workers()).filteredOn(w -> original.contains(w.pid())).as("the original workers, each "
                    + "past its max-jobs").hasSize(3).allSatisfy(w -> assertThat(w.jobs()).isGreaterThan(30));
            assertThat(s.bootFailures()).as("replacements were tried").isGreaterThan(0);
            assertThat(s.exits().get(ExitReason.MAX_JOBS)).as("none left without a replacement").isZero();
            assertThat(PoolTesting.pids(pool)).containsAll(original);
            assertThat(pool.lastBootFailure().output()).contains("stderr: cannot start: marker missing");
            assertThat(pool.lastBootFailure().status().exitCode()).isEqualTo(3);

            Files.createFile(healthy); // replacements boot again: the old workers leave, one by one
            Procs.await(Duration.ofSeconds(15), "all three original workers replaced",
                    () -> PoolTesting.pids(pool).stream().noneMatch(original::contains) && pool.readyCount() == 3);
            assertThat(pool.snapshot().exits().get(ExitReason.MAX_JOBS)).isEqualTo(3);
            assertThat(pool.snapshot().recentExits()).filteredOn(e -> e.reason() == ExitReason.MAX_JOBS)
                    .allSatisfy(e -> assertThat(e.status()).as("left on its own after EOF").isEqualTo("exit 0"));
        } finally {
            pool.close();
        }
    }

    /**
     * A reset is a fresh start even when no worker is left to replace: every worker died while the
     * script was broken (a crash, PHP's exit() in a handler), their slots wait for their back-off, and
     * the reset of the fixed script (reload on change, POST /actuator/workers/{pool}) boots them now.
     */
    @Test
    void aResetOfAPoolWithNoWorkerLeftBootsItsBackingOffSlotsAtOnce(@TempDir Path tmp) throws Exception {
        Path healthy = Files.createFile(tmp.resolve("healthy"));
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("all-gone", whileFileExists(healthy)).size(2)
                .backoffInitial(Duration.ofMinutes(5)).backoffMax(Duration.ofMinutes(5)).build(), SUPERVISOR.get());
        try {
            Files.delete(healthy); // the script broke
            for (int pid : PoolTesting.pids(pool)) {
                assertThat(NativeOs.get().kill(pid, Os.SIGKILL)).isZero();
            }
            Procs.await(Duration.ofSeconds(10), "both replacements failed and wait their back-off",
                    () -> pool.snapshot().bootFailures() >= 2 && pool.snapshot().workers().isEmpty());
            Files.createFile(healthy); // and is fixed
            pool.reset().get(10, TimeUnit.SECONDS);
            assertThat(pool.awaitReady(2, Duration.ofSeconds(10))).as("both workers ready, minutes before the "
                    + "back-off ends").isTrue();
            assertThat(pool.state()).isEqualTo(PoolState.RUNNING);
        } finally {
            pool.close();
        }
    }

    @Test
    void aRecycledWorkerLeavesOnlyOnceItsReplacementIsReady() {
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("mbb", PhpWorkers.testWorker(Workers.newTag()).build())
                .size(2).build(), SUPERVISOR.get());
        try {
            int old = PoolTesting.pids(pool).iterator().next();
            assertThat(pool.recycle(old)).isTrue();
            // Until the old one has gone, two workers are ready at every moment.
            while (PoolTesting.pids(pool).contains(old)) {
                PoolSnapshot s = pool.snapshot();
                if (s.workers().stream().anyMatch(w -> w.pid() == old && w.state() != WorkerState.STOPPING)) {
                    assertThat(s.ready()).as("ready workers while the old one still serves").isGreaterThanOrEqualTo(2);
                }
                Thread.onSpinWait();
            }
            Procs.await(Duration.ofSeconds(10), "back to two ready", () -> pool.readyCount() == 2);
            assertThat(pool.snapshot().exits().get(ExitReason.RECYCLE)).isEqualTo(1);
        } finally {
            pool.close();
        }
    }

    @Test
    void aBootingWorkerKilledFromOutsideIsACrashReplacedAtOnceNotABootFailure() {
        // Each worker sleeps 2 s before it starts PHP: a long window to kill it while booting.
        WorkerSpec slow = WorkerSpec.builder("sh").name("slow-boot").args("-c", "sleep 2; exec php \"$1\"", "sh",
                PhpWorkers.TEST_WORKER.toString()).environment(Workers.RUN_TAG, Workers.newTag()).build();
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("outside-kill", slow).size(1)
                .backoffInitial(Duration.ofSeconds(8)).backoffMax(Duration.ofSeconds(8)).build(), SUPERVISOR.get());
        try {
            Procs.await(Duration.ofSeconds(5), "a worker starting", () -> !pool.snapshot().workers().isEmpty());
            int first = pool.snapshot().workers().get(0).pid();
            assertThat(NativeOs.get().kill(first, Os.SIGKILL)).isZero();
            // Replaced at once: a boot failure would wait the 4-8 s back-off first.
            Procs.await(Duration.ofSeconds(6), "the replacement ready", () -> pool.readyCount() == 1);
            PoolSnapshot s = pool.snapshot();
            assertThat(s.bootFailures()).isZero();
            assertThat(s.exits().get(ExitReason.CRASH)).isEqualTo(1);
            assertThat(s.recentExits().get(s.recentExits().size() - 1).status()).isEqualTo("killed by SIGKILL");
            assertThat(pool.state()).isEqualTo(PoolState.RUNNING);
        } finally {
            pool.close();
        }
    }

    @Test
    void exitsAreNamedForWhatHappened() {
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("words", PhpWorkers.testWorker(Workers.newTag()).build())
                .size(1).build(), SUPERVISOR.get());
        try {
            assertThatThrownBy(() -> pool.call("exit", 0)).isInstanceOf(WorkerCrashedException.class);
            Procs.await(Duration.ofSeconds(10), "replaced", () -> pool.readyCount() == 1);
            assertThatThrownBy(() -> pool.call("exit", 3)).isInstanceOf(WorkerCrashedException.class);
            Procs.await(Duration.ofSeconds(10), "exit records", () -> pool.snapshot().recentExits().size() == 2);
            List<ExitRecord> exits = pool.snapshot().recentExits();
            assertThat(exits.get(1).reason()).as("exit 0 unasked").isEqualTo(ExitReason.UNEXPECTED_EXIT);
            assertThat(exits.get(1).status()).isEqualTo("exit 0");
            assertThat(exits.get(0).reason()).as("exit 3").isEqualTo(ExitReason.CRASH);
            assertThat(ExitReason.UNEXPECTED_EXIT.tag()).isEqualTo("unexpected-exit");
            Procs.await(Duration.ofSeconds(10), "replaced again", () -> pool.readyCount() == 1);

            // PHP's exit() in a folk-worker-php handler: the call is answered (here with the error that
            // says so), the answer says the worker exits, and the pool replaces it without a crash.
            assertThatThrownBy(() -> pool.call("exit-answered", 5)).isInstanceOf(WorkerErrorException.class)
                    .hasMessageContaining("'exit-answered'").hasMessageContaining("ended the PHP process with exit()");
            Procs.await(Duration.ofSeconds(10), "the third exit record", () -> pool.snapshot().recentExits().size() == 3);
            ExitRecord exited = pool.snapshot().recentExits().get(0);
            assertThat(exited.reason()).isEqualTo(ExitReason.EXITED);
            assertThat(exited.status()).isEqualTo("exit 5");
            assertThat(ExitReason.EXITED.tag()).isEqualTo("exited");
            Procs.await(Duration.ofSeconds(10), "replaced a third time", () -> pool.readyCount() == 1);
            assertThat(pool.call("echo", "after")).isEqualTo("after");
        } finally {
            pool.close();
        }
        assertThat(pool.snapshot().exits().get(ExitReason.SHUTDOWN)).isEqualTo(1);
    }

    @Test
    void workersEndedByTheApplicationsShutdownAreShutdownNotCrashesAndAreNotRespawned() {
        Supervisor own = new Supervisor();
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("teardown", PhpWorkers.testWorker(Workers.newTag())
                .build()).size(3).build(), own);
        try {
            own.killAndReapAll(); // what the second Ctrl-C does
            Procs.await(Duration.ofSeconds(10), "every worker gone", () -> pool.snapshot().workers().isEmpty());
            PoolSnapshot s = pool.snapshot();
            assertThat(s.exits().get(ExitReason.SHUTDOWN)).isEqualTo(3);
            assertThat(s.exits().get(ExitReason.CRASH)).isZero();
            assertThat(s.bootFailures()).isZero();
            assertThat(s.spawns()).isEqualTo(3);
        } finally {
            pool.close();
            own.close();
        }
    }

    @Test
    void aCallThatPassesTheMemoryLimitIsStoppedWithinAboutASampleAndTheWorkerReplaced() {
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("hard-memory", PhpWorkers.testWorker(Workers.newTag())
                .build()).size(1).memoryLimitBytes(128L << 20).memoryCheckInterval(Duration.ofMillis(100))
                .execTimeout(Duration.ofSeconds(60)).build(), SUPERVISOR.get());
        try {
            int pid = PoolTesting.pids(pool).iterator().next();
            long t0 = System.nanoTime();
            // Grows to 2 GiB over ~2.5 s unless stopped.
            assertThatThrownBy(() -> pool.call("grow", 2048)).isInstanceOf(WorkerMemoryLimitException.class)
                    .hasMessageContaining("worker " + pid).hasMessageContaining("memory limit of 128 MiB")
                    .hasMessageContaining("'grow'");
            long tookMillis = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("MEMORY_LIMIT limit_mib=128 call_failed_after_ms=%d%n", tookMillis);
            assertThat(tookMillis).as("stopped long before the 60 s exec timeout").isLessThan(20_000);
            Procs.await(Duration.ofSeconds(10), "replaced", () -> pool.readyCount() == 1
                    && !PoolTesting.pids(pool).contains(pid));
            PoolSnapshot s = pool.snapshot();
            assertThat(s.exits().get(ExitReason.MEMORY_LIMIT)).isEqualTo(1);
            assertThat(s.calls().get(CallOutcome.MEMORY_LIMIT)).isEqualTo(1);
            assertThat(pool.call("echo", "after")).isEqualTo("after");
        } finally {
            pool.close();
        }
    }

    /**
     * The same call in a process the worker forked for it (as folk-worker-php's Scripts runs each
     * request): memory-limit counts that process too, so the limit holds for an application of
     * scripts; the group goes, the forked process with it.
     */
    @Test
    void aCallInAForkedProcessThatPassesTheMemoryLimitIsStoppedToo() {
        String tag = Workers.newTag();
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("hard-memory-child", PhpWorkers.testWorker(tag)
                .build()).size(1).memoryLimitBytes(128L << 20).memoryCheckInterval(Duration.ofMillis(100))
                .execTimeout(Duration.ofSeconds(60)).build(), SUPERVISOR.get());
        try {
            int pid = PoolTesting.pids(pool).iterator().next();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> pool.call("grow_in_child", 2048)).isInstanceOf(WorkerMemoryLimitException.class)
                    .hasMessageContaining("worker " + pid).hasMessageContaining("memory limit of 128 MiB");
            assertThat((System.nanoTime() - t0) / 1_000_000).as("stopped long before the 60 s exec timeout")
                    .isLessThan(20_000);
            Procs.await(Duration.ofSeconds(10), "replaced, the forked process gone with the group",
                    () -> pool.readyCount() == 1 && !PoolTesting.pids(pool).contains(pid)
                            && Procs.aliveWithEnv(Workers.RUN_TAG, tag).size() == 1);
            assertThat(pool.call("echo", "after")).isEqualTo("after");
        } finally {
            pool.close();
        }
    }

    /**
     * max-memory recycles a worker that grew; a process it forked for a call (a Scripts request) ends
     * with the call, its memory with it, and replacing the worker for it would free nothing.
     */
    @Test
    void aForkedProcessLargerThanMaxMemoryDoesNotRecycleItsWorker() {
        String tag = Workers.newTag();
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("soft-memory-child", PhpWorkers.testWorker(tag)
                .build()).size(1).maxMemoryBytes(96L << 20).memoryLimitBytes(1L << 30)
                .memoryCheckInterval(Duration.ofMillis(50)).build(), SUPERVISOR.get());
        try {
            int pid = PoolTesting.pids(pool).iterator().next();
            assertThat(pool.call("hold_in_child", List.of(160L, 600L))).isEqualTo("held");
            assertThat(pool.snapshot().workers()).singleElement().satisfies(w -> {
                assertThat(w.pid()).isEqualTo(pid);
                assertThat(w.leaving()).as("due for replacement").isFalse();
                assertThat(w.rssBytes()).as("the worker's own size").isLessThan(96L << 20);
            });
            assertThat(pool.call("pid", null, Long.class)).isEqualTo((long) pid);
            assertThat(pool.snapshot().exits().getOrDefault(ExitReason.MEMORY, 0L)).isZero();
        } finally {
            pool.close();
        }
    }

    @Test
    void whenEveryBootFailsTheSameWayTheWaitEndsAfterAFewAttemptsWithTheWorkersOwnWords(@TempDir Path tmp)
            throws Exception {
        Path script = tmp.resolve("broken.php");
        Files.writeString(script, "<?php\necho 'starting';\n$x = ;\n");
        LogCapture logs = LogCapture.of(WorkerPool.class);
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("parse-error", WorkerSpec.builder("php").name("broken")
                .args(script.toString()).environment(Workers.RUN_TAG, Workers.newTag()).build()).size(4)
                .bootTimeout(Duration.ofSeconds(20)).build(), SUPERVISOR.get());
        try (logs) {
            long t0 = System.nanoTime();
            assertThat(pool.awaitReady(4, Duration.ofSeconds(20))).isFalse();
            System.out.printf("FAIL_FAST gave_up_after_ms=%d boot_failures=%d%n", (System.nanoTime() - t0) / 1_000_000,
                    pool.snapshot().bootFailures());
            assertThat((System.nanoTime() - t0) / 1_000_000).as("far less than the boot timeout").isLessThan(10_000);
            BootFailure f = pool.lastBootFailure();
            assertThat(f.message()).contains("pool 'parse-error'").contains("before control.ready");
            assertThat(f.status().exitCode()).isEqualTo(255);
            assertThat(String.join("\n", f.output())).contains("Parse error").contains(script.toString());
            Procs.await(Duration.ofSeconds(5), "every failed boot logged",
                    () -> logs.warningsContaining("next attempt in").size() >= pool.snapshot().bootFailures());
            List<String> warnings = logs.warningsContaining("next attempt in");
            assertThat(warnings).as("the same parse error quoted once, not at every attempt")
                    .filteredOn(w -> w.contains("Parse error")).singleElement().asString().contains("its last output")
                    .as("the attempt on a line of its own after PHP's").containsPattern("line \\d+\nnext attempt in");
            assertThat(warnings).filteredOn(w -> !w.contains("Parse error")).hasSize(warnings.size() - 1)
                    .allSatisfy(w -> assertThat(w).contains("(exit 255), with the same output as the failed boot before;"));
        } finally {
            pool.close();
        }
    }

    @Test
    void aPoolOfTwoHundredStartsWithTheDefaults() {
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("big", PhpWorkers.testWorker(Workers.newTag()).build())
                .size(200).build(), SUPERVISOR.get());
        try {
            long t0 = System.nanoTime();
            assertThat(pool.awaitReady(200, pool.config().bootTimeout())).as("200 ready; last failure: %s",
                    pool.lastFailure()).isTrue();
            System.out.printf("START_200 ready_ms=%d%n", (System.nanoTime() - t0) / 1_000_000);
            assertThat(pool.snapshot().bootFailures()).isZero();
        } finally {
            pool.close();
        }
    }
}
