package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.LogCapture;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.SharedSupervisor;
import dev.folk.core.testing.Workers;

/** Soft recycling (jobs, lifetime, idleness, memory) and the boot back-off. */
class PoolRecyclingTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    /**
     * Many callers through 4 workers recycled every few dozen calls: every result right, no failed
     * call, and every recycled worker left on its own after EOF (none needed TERM). Recycling is
     * make before break, so a due worker serves until its replacement has booted: the callers go
     * on until both the calls and the recycles are done. The suite runs 16 callers, at least
     * 19 200 calls and 100 recycles at max-jobs 20; the reliability-long profile 64 callers,
     * 262 400 calls and 2 500 recycles at max-jobs 100.
     */
    @Test
    void manyThreadsThroughFourWorkersRecycledEveryFewJobsNeverFailACall() throws Exception {
        int threads = Integer.getInteger("folk.recycle.threads", 16);
        long minCalls = (long) threads * Integer.getInteger("folk.recycle.calls", 1200);
        int maxJobs = Integer.getInteger("folk.recycle.max-jobs", 20);
        // 50 in the suite (SoakTest makes 100 more, one call at a time); the long profile 2 500.
        long minRecycles = Integer.getInteger("folk.recycle.recycles", 50);
        PoolConfig config = PoolConfig.builder("recycle", PhpWorkers.testWorker(Workers.newTag()).build()).size(4)
                .maxJobs(maxJobs).maxQueue(threads).build();
        WorkerPool pool = PoolTesting.ready(config, SUPERVISOR.get());
        long bound = config.acquireTimeout().plus(config.execTimeout()).plusSeconds(1).toNanos();
        AtomicLong slowest = new AtomicLong();
        AtomicLong made = new AtomicLong();
        List<ExitRecord> recycled = new java.util.concurrent.CopyOnWriteArrayList<>();
        pool.addListener(new PoolListener() {
            @Override
            public void workerExited(WorkerPool p, ExitRecord exit) {
                if (exit.reason() == ExitReason.MAX_JOBS) {
                    recycled.add(exit);
                }
            }
        });
        // The suite's run takes seconds; the long profile's about 150 s on 2 cores, so it gets 8 minutes.
        int minutes = Integer.getInteger("folk.recycle.minutes", 5);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                results.add(executor.submit(() -> {
                    long wrong = 0;
                    for (long i = 0; (made.get() < minCalls || recycled.size() < minRecycles)
                            && System.nanoTime() < deadline; i++) {
                        String value = thread + ":" + i;
                        long t0 = System.nanoTime();
                        Object back = pool.call("echo", value);
                        slowest.accumulateAndGet(System.nanoTime() - t0, Math::max);
                        made.incrementAndGet();
                        if (!value.equals(back)) {
                            wrong++;
                        }
                    }
                    return wrong;
                }));
            }
            for (Future<Long> f : results) {
                assertThat(f.get(minutes + 1, TimeUnit.MINUTES)).as("wrong results").isZero();
            }
            PoolSnapshot snapshot = pool.snapshot();
            long total = made.get();
            assertThat(total).isGreaterThanOrEqualTo(minCalls);
            assertThat(snapshot.calls().get(CallOutcome.SUCCESS)).isEqualTo(total);
            assertThat(snapshot.calls().values().stream().mapToLong(Long::longValue).sum())
                    .as("no call ended any other way").isEqualTo(total);
            assertThat(snapshot.exits().get(ExitReason.MAX_JOBS)).as("recycles").isGreaterThanOrEqualTo(minRecycles);
            assertThat(snapshot.exits().get(ExitReason.CRASH)).isZero();
            Procs.await(Duration.ofSeconds(30), "every recycled worker reaped",
                    () -> recycled.size() == pool.snapshot().exits().get(ExitReason.MAX_JOBS));
            assertThat(recycled).as("recycled workers left on their own after EOF, none needed TERM")
                    .allSatisfy(e -> assertThat(e.status()).isEqualTo("exit 0"));
            System.out.printf("RECYCLE calls=%d recycles=%d slowest_ms=%d%n", total, recycled.size(),
                    TimeUnit.NANOSECONDS.toMillis(slowest.get()));
            assertThat(slowest.get()).as("slowest call within acquire + exec timeout + 1 s").isLessThan(bound);
        } finally {
            executor.shutdownNow();
            pool.close();
        }
    }

    @Test
    void workersAreRecycledAtTheirLifetimeWithJitter() {
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("lifetime", PhpWorkers.testWorker(Workers.newTag()).build())
                .size(2).maxLifetime(Duration.ofMillis(700)).build(), SUPERVISOR.get());
        try {
            Set<Integer> first = PoolTesting.pids(pool);
            Procs.await(Duration.ofSeconds(10), "both first workers recycled for their lifetime",
                    () -> pool.snapshot().exits().get(ExitReason.LIFETIME) >= 2 && PoolTesting.pids(pool).stream()
                            .noneMatch(first::contains));
            assertThat(pool.call("echo", "still serving")).isEqualTo("still serving");
        } finally {
            pool.close();
        }
    }

    @Test
    void anIdleWorkerIsRecycledWhileABusyOneKeepsServing() {
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("idle", PhpWorkers.testWorker(Workers.newTag()).build()).size(2)
                .maxIdle(Duration.ofMillis(300)).build(), SUPERVISOR.get());
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            // One caller keeps one worker warm (idle workers are handed out most-recent first).
            while (pool.snapshot().exits().get(ExitReason.IDLE) < 1 && System.nanoTime() < deadline) {
                assertThat(pool.call("echo", "warm")).isEqualTo("warm");
            }
            PoolSnapshot s = pool.snapshot();
            assertThat(s.exits().get(ExitReason.IDLE)).isGreaterThanOrEqualTo(1);
            assertThat(s.calls().get(CallOutcome.SUCCESS)).isEqualTo(s.calls().values().stream()
                    .mapToLong(Long::longValue).sum());
        } finally {
            pool.close();
        }
    }

    @Test
    void aWorkerOverMaxMemoryIsRecycledAfterItsCurrentCall() throws Exception {
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("memory", PhpWorkers.testWorker(Workers.newTag()).build()).size(1)
                .maxMemoryBytes(96L * 1024 * 1024).memoryCheckInterval(Duration.ofMillis(100)).build(), SUPERVISOR.get());
        try {
            int pid = PoolTesting.pids(pool).iterator().next();
            assertThat(pool.call("alloc", 150L, Long.class)).isGreaterThan(150L * 1024 * 1024);
            // Busy now, for longer than several samples: the call must still complete (the limit is soft).
            assertThat(pool.call("sleep", 600L)).isEqualTo(600L);
            Procs.await(Duration.ofSeconds(10), "the big worker recycled",
                    () -> pool.snapshot().exits().get(ExitReason.MEMORY) == 1 && !PoolTesting.pids(pool).contains(pid));
            ExitRecord exit = pool.snapshot().recentExits().get(0);
            assertThat(exit.pid()).isEqualTo(pid);
            assertThat(exit.status()).as("stopped cleanly by closing fd 3").isEqualTo("exit 0");
            assertThat(pool.call("echo", "fresh")).isEqualTo("fresh");
        } finally {
            pool.close();
        }
    }

    /**
     * A recycled worker that ignores EOF on fd 3 and TERM is KILLed after stop-grace: a WARN says
     * so and what the worker must do, not only its exit record's "killed by SIGKILL".
     */
    @Test
    void aRecycledWorkerThatIgnoresEofAndTermIsKilledWithAWarning() {
        // PHP serves and exits on EOF; then the shell, TERM ignored, goes on as `sleep`.
        WorkerSpec stubborn = WorkerSpec.builder("sh").name("stubborn").args("-c",
                "trap '' TERM; php \"$1\"; exec sleep 60", "sh", PhpWorkers.TEST_WORKER.toString())
                .environment(Workers.RUN_TAG, Workers.newTag()).build();
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("stubborn", stubborn).size(1).maxJobs(1)
                .maxJobsJitter(0).stopGrace(Duration.ofMillis(200)).build(), SUPERVISOR.get());
        try (LogCapture logs = LogCapture.of(WorkerPool.class)) {
            int pid = PoolTesting.pids(pool).iterator().next();
            assertThat(pool.call("echo", "last")).isEqualTo("last");
            // retire close-wait (at least 5 s) + stop-grace
            Procs.await(Duration.ofSeconds(15), "the stubborn worker's exit recorded",
                    () -> pool.snapshot().exits().get(ExitReason.MAX_JOBS) == 1);
            assertThat(pool.snapshot().recentExits().get(0).status()).isEqualTo("killed by SIGKILL");
            assertThat(logs.containing("ignored the end of its input on fd 3")).singleElement().asString()
                    .contains("Worker " + pid + " of pool 'stubborn'", "retired (max-jobs)",
                            "SIGTERM for stop-grace 200 ms", "SIGKILL", "must exit when fd 3 reaches EOF");
        } finally {
            pool.close();
        }
    }

    /**
     * A recycled worker whose exit work runs past close-wait (a shutdown function kept for the exit
     * that sleeps) ends on the TERM that follows: a WARN says its exit work was cut short, where
     * only a DEBUG exit record said so.
     */
    @Test
    void aRecycledWorkerStillRunningAfterCloseWaitIsTerminatedWithAWarning() {
        // PHP serves and exits on EOF; then the shell goes on as `sleep`, which TERM ends.
        WorkerSpec slow = WorkerSpec.builder("sh").name("slow-exit").args("-c",
                "php \"$1\"; exec sleep 60", "sh", PhpWorkers.TEST_WORKER.toString())
                .environment(Workers.RUN_TAG, Workers.newTag()).build();
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("slow-exit", slow).size(1).maxJobs(1)
                .maxJobsJitter(0).build(), SUPERVISOR.get());
        try (LogCapture logs = LogCapture.of(WorkerPool.class)) {
            int pid = PoolTesting.pids(pool).iterator().next();
            assertThat(pool.call("echo", "last")).isEqualTo("last");
            // retire close-wait (at least 5 s), then TERM
            Procs.await(Duration.ofSeconds(15), "the slow worker's exit recorded",
                    () -> pool.snapshot().exits().get(ExitReason.MAX_JOBS) == 1);
            assertThat(pool.snapshot().recentExits().get(0).status()).isEqualTo("killed by SIGTERM");
            assertThat(logs.containing("after the end of its input on fd 3")).singleElement().asString()
                    .contains("Worker " + pid + " of pool 'slow-exit'", "retired (max-jobs)", "was still running 5000 ms",
                            "sent SIGTERM (killed by SIGTERM)", "cut short", "raise close-wait");
        } finally {
            pool.close();
        }
    }

    @Test
    void failedBootsBackOffExponentiallyMarkThePoolBrokenAndRecoverWhenTheWorkerIsFixed(@TempDir Path tmp)
            throws Exception {
        Path fixed = tmp.resolve("fixed");
        // Exits at once until the file "fixed" exists, then runs the real worker.
        WorkerSpec spec = WorkerSpec.builder("sh").name("flaky").args("-c",
                "[ -e \"$1\" ] || exit 3; exec php \"$2\"", "sh", fixed.toString(),
                PhpWorkers.TEST_WORKER.toString()).environment(Workers.RUN_TAG, Workers.newTag()).build();
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("flaky", spec).size(2)
                .backoffInitial(Duration.ofMillis(50)).backoffMax(Duration.ofMillis(400)).brokenThreshold(4)
                .build(), SUPERVISOR.get());
        try {
            Procs.await(Duration.ofSeconds(10), "pool BROKEN", () -> pool.state() == PoolState.BROKEN);
            long failuresAtBroken = pool.snapshot().bootFailures();
            long t0 = System.nanoTime();
            Procs.await(Duration.ofSeconds(5), "two more seconds", () -> System.nanoTime() - t0 > 2_000_000_000L);
            long inTwoSeconds = pool.snapshot().bootFailures() - failuresAtBroken;
            // At the 400 ms cap (with jitter 200..400 ms), two slots retry at most ~20 times in 2 s;
            // without back-off a failing php start (~20 ms) would be retried some 200 times.
            assertThat(inTwoSeconds).as("boot attempts in 2 s while BROKEN").isBetween(2L, 24L);
            assertThat(pool.lastFailure()).contains("before control.ready");
            assertThat(pool.snapshot().ready()).isZero();

            Files.createFile(fixed);
            assertThat(pool.awaitReady(2, Duration.ofSeconds(10))).isTrue();
            assertThat(pool.state()).isEqualTo(PoolState.RUNNING);
            assertThat(pool.call("echo", "recovered")).isEqualTo("recovered");
        } finally {
            pool.close();
        }
    }

    @Test
    void aMissingExecutableIsABootFailureThatBacksOff() {
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("missing",
                WorkerSpec.builder("/nonexistent/php").build()).size(1).backoffInitial(Duration.ofMillis(20))
                .backoffMax(Duration.ofMillis(200)).brokenThreshold(3).build(), SUPERVISOR.get());
        try {
            Procs.await(Duration.ofSeconds(5), "pool BROKEN", () -> pool.state() == PoolState.BROKEN);
            assertThat(pool.lastFailure()).contains("/nonexistent/php", "ENOENT");
            assertThat(pool.snapshot().spawns()).isZero();
        } finally {
            pool.close();
        }
    }
}
