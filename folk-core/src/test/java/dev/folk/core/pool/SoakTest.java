package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.folk.core.supervision.Supervisor;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/**
 * 100 000 calls recycled every 50 jobs (about 2 000 recycles): no failed call, and no growth
 * of descriptors, threads or heap beyond a small bound, no zombies. A longer variant runs with
 * {@code -Dfolk.soak.calls=...} (see RELIABILITY.md).
 */
class SoakTest {

    @Test
    void aHundredThousandCallsWithTwoThousandRecyclesLeakNothing() throws Exception {
        int calls = Integer.getInteger("folk.soak.calls", 100_000);
        int callers = 8;
        String tag = Workers.newTag();
        try (Supervisor supervisor = new Supervisor()) {
            WorkerPool pool = WorkerPool.start(PoolConfig.builder("soak", PhpWorkers.testWorker(tag).build()).size(4)
                    .maxJobs(50).maxQueue(callers).build(), supervisor);
            assertThat(pool.awaitReady(4, Duration.ofSeconds(10))).isTrue();
            // Warm up, then take the baseline with the pool running.
            runCalls(pool, callers, 2_000);
            Set<Integer> fds = Procs.jvmFds();
            int threads = ChaosTest.threadCount();
            long heap = usedHeapAfterGc();

            long t0 = System.nanoTime();
            runCalls(pool, callers, calls);
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);

            PoolSnapshot s = pool.snapshot();
            long recycles = s.exits().get(ExitReason.MAX_JOBS);
            long heapAfter = usedHeapAfterGc();
            System.out.printf("SOAK calls=%d recycles=%d seconds=%d fds=%d->%d threads=%d->%d heap_kib=%d->%d%n",
                    calls, recycles, seconds, fds.size(), Procs.jvmFds().size(), threads, ChaosTest.threadCount(),
                    heap / 1024, heapAfter / 1024);

            assertThat(s.calls().get(CallOutcome.SUCCESS)).isEqualTo(calls + 2_000L);
            assertThat(s.calls().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(calls + 2_000L);
            assertThat(recycles).isGreaterThanOrEqualTo(calls / 50 - 100);
            assertThat(s.exits().get(ExitReason.CRASH)).isZero();
            Procs.await(Duration.ofSeconds(5), "fds back within 8 of baseline",
                    () -> Math.abs(Procs.jvmFds().size() - fds.size()) <= 8);
            Procs.await(Duration.ofSeconds(5), "threads within 4 of baseline",
                    () -> ChaosTest.threadCount() <= threads + 4);
            assertThat(heapAfter - heap).as("heap growth in bytes").isLessThan(16L * 1024 * 1024);
            assertThat(Procs.zombieChildren()).isEmpty();
            pool.close();
        }
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    private static void runCalls(WorkerPool pool, int callers, int calls) throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(callers);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                int caller = c;
                futures.add(executor.submit(() -> {
                    for (int i = caller; i < calls; i += callers) {
                        Object back = pool.call("echo", i);
                        if (!Long.valueOf(i).equals(back)) {
                            throw new AssertionError("call " + i + " returned " + back);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(10, TimeUnit.MINUTES);
            }
        } finally {
            executor.shutdown();
            executor.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
