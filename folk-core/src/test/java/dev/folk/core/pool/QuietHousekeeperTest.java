package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import dev.folk.core.os.NativeOs;
import dev.folk.core.os.Os;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.SharedSupervisor;
import dev.folk.core.testing.Workers;

/**
 * An idle pool's housekeeper checks once a second instead of every tick (an idle application's
 * pools must not wake its CPU 20 times a second each), and anything that needs watching wakes it
 * at once: a call (its exec deadline) and a spawned worker (its boot deadline). The tick counts
 * tell the two periods apart: 20 checks a second against one.
 */
class QuietHousekeeperTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    /** Checks over {@link #IDLE_SPELL}: about 2 when quiet, about 40 at the usual period. */
    private static final Duration IDLE_SPELL = Duration.ofSeconds(2);
    private static final long QUIET_MAX_TICKS = 5;

    @Test
    void anIdlePoolChecksOnceASecondAndACallBringsBackTheUsualPeriod() throws Exception {
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("quiet-call", PhpWorkers.testWorker(Workers.newTag())
                .build()).size(2).execTimeout(Duration.ofMillis(600)).build(), SUPERVISOR.get());
        try {
            awaitQuiet(pool);
            long before = pool.housekeepingTicks();
            // The scenario itself, not synchronisation: the pool stays idle for this long.
            Thread.sleep(IDLE_SPELL.toMillis());
            assertThat(pool.housekeepingTicks() - before).as("checks over %s of an idle pool", IDLE_SPELL)
                    .isBetween(1L, QUIET_MAX_TICKS);

            before = pool.housekeepingTicks();
            long t0 = System.nanoTime();
            ExecTimeoutException e = assertThrows(ExecTimeoutException.class, () -> pool.call("sleep", 10_000L));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            long during = pool.housekeepingTicks() - before;
            assertThat(e.getMessage()).contains("exec-timeout");
            // 600 ms at the usual 50 ms period is about 12 checks; a quiet housekeeper would make 0 or 1.
            assertThat(during).as("checks during a call of %d ms begun on a quiet pool", ms).isGreaterThanOrEqualTo(4);
            assertThat(ms).as("exec-timeout 600 ms, enforced at the usual period").isBetween(600L, 2_600L);

            // The killed worker is replaced, and once all is idle again the pool goes quiet again.
            Procs.await(Duration.ofSeconds(10), "the pool back to 2 ready workers",
                    () -> pool.snapshot().ready() == 2);
            assertThat(pool.call("echo", "after")).isEqualTo("after");
            awaitQuiet(pool);
        } finally {
            pool.close();
        }
    }

    @Test
    void aWorkerSpawnedWhileThePoolIsQuietHasItsBootDeadlineWatched(@TempDir Path dir) throws Exception {
        // raw-worker.php: the first worker to create the marker never says ready; with the marker
        // there, workers are plain echo workers. Created now, removed once the pool is quiet: only
        // the replacement spawned then hangs in its boot.
        Path marker = dir.resolve("hang-once");
        Files.createFile(marker);
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("quiet-boot",
                        PhpWorkers.rawWorker(Workers.newTag(), "never-ready", marker.toString()).build())
                .size(2).bootTimeout(Duration.ofMillis(800)).build(), SUPERVISOR.get());
        try {
            awaitQuiet(pool);
            Set<Integer> first = PoolTesting.pids(pool);
            Files.delete(marker);
            long before = pool.housekeepingTicks();
            int victim = first.iterator().next();
            assertThat(NativeOs.get().kill(victim, Os.SIGKILL)).isZero();

            Procs.await(Duration.ofSeconds(10), "the hung replacement killed at its boot timeout",
                    () -> pool.snapshot().bootFailures() == 1);
            long during = pool.housekeepingTicks() - before;
            // boot-timeout 800 ms at the usual period is about 16 checks; a quiet housekeeper, 1 or 2.
            assertThat(during).as("checks while the replacement booted").isGreaterThanOrEqualTo(6);
            BootFailure failure = pool.lastBootFailure();
            assertThat(failure).isNotNull();
            assertThat(failure.message()).contains("boot-timeout");

            Procs.await(Duration.ofSeconds(10), "2 ready workers, the killed one replaced",
                    () -> pool.snapshot().ready() == 2 && !PoolTesting.pids(pool).contains(victim));
            assertThat(pool.call("echo", "after")).isEqualTo("after");
        } finally {
            pool.close();
        }
    }

    /** Waits until the pool is quiet: one check more than half a second after the one before (at the usual period, 50 ms). */
    private static void awaitQuiet(WorkerPool pool) {
        long[] seen = {pool.housekeepingTicks(), System.nanoTime()};
        Procs.await(Duration.ofSeconds(10), "the housekeeper quiet", () -> {
            long ticks = pool.housekeepingTicks();
            long now = System.nanoTime();
            if (ticks == seen[0]) {
                return false;
            }
            boolean slow = ticks == seen[0] + 1 && now - seen[1] > 500_000_000L;
            seen[0] = ticks;
            seen[1] = now;
            return slow;
        });
    }
}
