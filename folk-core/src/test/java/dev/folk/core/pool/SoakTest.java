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
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import dev.folk.core.supervision.Supervisor;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/**
 * At least 20 000 calls and 100 recycles (every 50 jobs): no failed call, and no growth of
 * descriptors, threads or heap beyond a small bound, no zombies. Recycling is make before break,
 * so the calls go on until both counts are reached. A longer variant runs with
 * {@code -Dfolk.soak.calls=... -Dfolk.soak.recycles=... -Dfolk.soak.minutes=...} (see RELIABILITY.md).
 */
class SoakTest {

    @Test
    void twentyThousandCallsAndAHundredRecyclesLeakNothing() throws Exception {
        int calls = Integer.getInteger("folk.soak.calls", 20_000);
        int minRecycles = Integer.getInteger("folk.soak.recycles", 100);
        int minutes = Integer.getInteger("folk.soak.minutes", 10);
        int callers = 8;
        String tag = Workers.newTag();
        try (Supervisor supervisor = new Supervisor()) {
            WorkerPool pool = WorkerPool.start(PoolConfig.builder("soak", PhpWorkers.testWorker(tag).build()).size(4)
                    .maxJobs(50).maxQueue(callers).build(), supervisor);
            assertThat(pool.awaitReady(4, Duration.ofSeconds(10))).isTrue();
            // Warm up, then take the baseline with the pool running.
            runCalls(pool, callers, 2_000, 0, minutes);
            Set<Integer> fds = Procs.jvmFds();
            int threads = ChaosTest.threadCount();
            long heap = usedHeapAfterGc();

            long t0 = System.nanoTime();
            long made = runCalls(pool, callers, calls, minRecycles, minutes) + 2_000;
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);

            PoolSnapshot s = pool.snapshot();
            long recycles = s.exits().get(ExitReason.MAX_JOBS);
            long heapAfter = usedHeapAfterGc();
            System.out.printf("SOAK calls=%d recycles=%d seconds=%d fds=%d->%d threads=%d->%d heap_kib=%d->%d%n",
                    made - 2_000, recycles, seconds, fds.size(), Procs.jvmFds().size(), threads, ChaosTest.threadCount(),
                    heap / 1024, heapAfter / 1024);

            assertThat(made).isGreaterThanOrEqualTo(calls + 2_000L);
            assertThat(s.calls().get(CallOutcome.SUCCESS)).isEqualTo(made);
            assertThat(s.calls().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(made);
            assertThat(recycles).as("recycles within %d minutes (-Dfolk.soak.minutes; they go at the pace of PHP"
                    + " boots)", minutes).isGreaterThanOrEqualTo(minRecycles);
            assertThat(s.exits().get(ExitReason.CRASH)).isZero();
            // A leak only adds descriptors. The baseline itself varies by a few workers' worth (sockets,
            // pipes and pidfd of the recycles under way when it was taken), so fewer at the end is no fault.
            Procs.await(Duration.ofSeconds(5), "fds no more than 8 over the baseline",
                    () -> Procs.jvmFds().size() - fds.size() <= 8, () -> fds.size() + " -> " + Procs.jvmFds().size());
            Procs.await(Duration.ofSeconds(5), "threads within 4 of baseline",
                    () -> ChaosTest.threadCount() <= threads + 4);
            assertThat(heapAfter - heap).as("heap growth in bytes").isLessThan(16L * 1024 * 1024);
            // A worker whose replacement booted after the last call may be leaving right now.
            // Any zombie child lingering (ours, or an orphan adopted from elsewhere) is reaped within ~2 s.
            Procs.await(Duration.ofSeconds(10), "no zombie child lingers", () -> Procs.zombieChildren().isEmpty(),
                    () -> Procs.describe(Procs.zombieChildren()));
            pool.close();
        }
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    /**
     * Calls {@code echo} from {@code callers} threads until at least {@code calls} calls are made and
     * the pool has recycled {@code minRecycles} workers (or {@code minutes} passed); returns the calls made.
     */
    private static long runCalls(WorkerPool pool, int callers, int calls, int minRecycles, int minutes)
            throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(callers);
        AtomicLong made = new AtomicLong();
        long recyclesBefore = pool.snapshot().exits().get(ExitReason.MAX_JOBS);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                futures.add(executor.submit(() -> {
                    long i;
                    while ((i = made.getAndIncrement()) < calls || (System.nanoTime() < deadline
                            && pool.snapshot().exits().get(ExitReason.MAX_JOBS) - recyclesBefore < minRecycles)) {
                        Object back = pool.call("echo", i);
                        if (!Long.valueOf(i).equals(back)) {
                            throw new AssertionError("call " + i + " returned " + back);
                        }
                    }
                    made.decrementAndGet(); // the index that ended the loop was not called
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(minutes + 1L, TimeUnit.MINUTES);
            }
            return made.get();
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
