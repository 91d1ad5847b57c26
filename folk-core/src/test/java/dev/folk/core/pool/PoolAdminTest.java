package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.SharedSupervisor;
import dev.folk.core.testing.Workers;

/** reset(), close(), recycle(pid), and a noisy worker. */
class PoolAdminTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    @Test
    void resetUnderConstantLoadReplacesEveryWorkerWithoutAFailedCall() throws Exception {
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("reset", PhpWorkers.testWorker(Workers.newTag()).build()).size(4)
                .build(), SUPERVISOR.get());
        AtomicBoolean load = new AtomicBoolean(true);
        AtomicLong ok = new AtomicLong();
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            Set<Integer> before = PoolTesting.pids(pool);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                futures.add(callers.submit(() -> {
                    while (load.get()) {
                        assertThat(pool.call("sleep", 5L)).isEqualTo(5L);
                        ok.incrementAndGet();
                    }
                    return null;
                }));
            }
            Procs.await(Duration.ofSeconds(5), "load running", () -> ok.get() > 100);
            pool.reset().get(60, TimeUnit.SECONDS);
            long afterReset = ok.get();
            Procs.await(Duration.ofSeconds(5), "load continues", () -> ok.get() > afterReset + 100);
            load.set(false);
            for (Future<?> f : futures) {
                f.get(10, TimeUnit.SECONDS); // rethrows any failed call
            }
            // The reset is over once every old worker is retired; the last may still be exiting, and
            // the extra one that made before it broke may still be ending the call it had.
            Procs.await(Duration.ofSeconds(10), "4 workers and nothing else", () -> PoolTesting.pids(pool).size() == 4,
                    () -> "workers now: " + pool.snapshot().workers());
            Set<Integer> after = PoolTesting.pids(pool);
            assertThat(after).hasSize(4).doesNotContainAnyElementsOf(before);
            PoolSnapshot s = pool.snapshot();
            assertThat(s.exits().get(ExitReason.RESET)).isEqualTo(4);
            assertThat(s.calls().get(CallOutcome.SUCCESS)).isEqualTo(s.calls().values().stream()
                    .mapToLong(Long::longValue).sum());
        } finally {
            load.set(false);
            callers.shutdownNow();
            pool.close();
        }
    }

    @Test
    void closeLetsInFlightCallsFinishRefusesNewOnesAndLeavesNothingRunning() throws Exception {
        String tag = Workers.newTag();
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("close", PhpWorkers.testWorker(tag).build()).size(4).build(), SUPERVISOR.get());
        List<CompletableFuture<Object>> inFlight = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            inFlight.add(pool.callAsync("sleep", 800L));
        }
        PoolDispatchTest.waitUntilBusy(pool, 4);
        CompletableFuture<Void> closing = CompletableFuture.runAsync(pool::close);
        Procs.await(Duration.ofSeconds(2), "draining", () -> pool.state() == PoolState.DRAINING);
        PoolClosedException refused = assertThrows(PoolClosedException.class, () -> pool.call("echo", "late"));
        assertThat(refused.getMessage()).contains("'close'", "closed");
        for (CompletableFuture<Object> f : inFlight) {
            assertThat(f.get(5, TimeUnit.SECONDS)).isEqualTo(800L);
        }
        closing.get(15, TimeUnit.SECONDS);
        assertThat(pool.state()).isEqualTo(PoolState.CLOSED);
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
        assertThat(pool.snapshot().exits().get(ExitReason.SHUTDOWN)).isEqualTo(4);
        pool.close(); // idempotent
    }

    @Test
    void aCallRunningPastTheDrainTimeoutIsKilledAndFailsAsClosed() throws Exception {
        String tag = Workers.newTag();
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("drain", PhpWorkers.testWorker(tag).build()).size(1).build(), SUPERVISOR.get());
        CompletableFuture<Object> stuck = pool.callAsync("sleep", 30_000L);
        PoolDispatchTest.waitUntilBusy(pool, 1);
        long t0 = System.nanoTime();
        pool.close(Duration.ofMillis(300));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(3000);
        ExecutionException e = assertThrows(ExecutionException.class, () -> stuck.get(2, TimeUnit.SECONDS));
        assertThat(e.getCause()).isInstanceOf(PoolClosedException.class).hasMessageContaining("drain-timeout");
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void recycleTakesOnlyAPidOfThisPool() throws Exception {
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("mine", PhpWorkers.testWorker(Workers.newTag()).build()).size(2)
                .build(), SUPERVISOR.get());
        WorkerPool other = PoolTesting.ready(PoolConfig.builder("theirs", PhpWorkers.testWorker(Workers.newTag()).build())
                .size(1).build(), SUPERVISOR.get());
        Process bystander = new ProcessBuilder("sleep", "60").start();
        try {
            int theirs = PoolTesting.pids(other).iterator().next();
            assertThat(pool.recycle(theirs)).isFalse();
            assertThat(pool.recycle((int) bystander.pid())).isFalse();
            assertThat(pool.recycle(1)).isFalse();
            assertThat(bystander.isAlive()).isTrue();
            assertThat(Procs.alive(theirs)).isTrue();

            Set<Integer> before = PoolTesting.pids(pool);
            int victim = before.iterator().next();
            assertThat(pool.recycle(victim)).isTrue();
            Procs.await(Duration.ofSeconds(10), "victim replaced", () -> {
                Set<Integer> now = PoolTesting.pids(pool);
                return !now.contains(victim) && now.size() == 2 && pool.snapshot().ready() == 2;
            });
            Set<Integer> kept = new HashSet<>(before);
            kept.remove(victim);
            assertThat(PoolTesting.pids(pool)).containsAll(kept);
            assertThat(pool.snapshot().exits().get(ExitReason.RECYCLE)).isEqualTo(1);
        } finally {
            Procs.destroy(bystander);
            pool.close();
            other.close();
        }
    }

    @Test
    void aBusyWorkerDueToLeaveSaysSoInSnapshotsUntilItIsGone() throws Exception {
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("leaving", PhpWorkers.testWorker(Workers.newTag()).build())
                .size(1).build(), SUPERVISOR.get());
        try {
            int pid = PoolTesting.pids(pool).iterator().next();
            assertThat(info(pool, pid).leaving()).isFalse();
            CompletableFuture<Object> call = pool.callAsync("sleep", 3000L);
            Procs.await(Duration.ofSeconds(10), "the call running", () -> info(pool, pid).state() == WorkerState.BUSY);

            assertThat(pool.recycle(pid)).isTrue();
            WorkerInfo due = info(pool, pid);
            assertThat(due.state()).isEqualTo(WorkerState.BUSY); // it finishes its call first
            assertThat(due.leaving()).isTrue();

            call.get(15, TimeUnit.SECONDS);
            Procs.await(Duration.ofSeconds(10), "replaced by a worker that stays", () -> {
                List<WorkerInfo> now = pool.snapshot().workers();
                return now.size() == 1 && now.get(0).pid() != pid && !now.get(0).leaving();
            });
        } finally {
            pool.close();
        }
    }

    private static WorkerInfo info(WorkerPool pool, int pid) {
        return pool.snapshot().workers().stream().filter(w -> w.pid() == pid).findFirst()
                .orElseThrow(() -> new AssertionError("no worker " + pid + " in " + pool.snapshot().workers()));
    }

    @Test
    void aWorkerPrintingTenMegabytesKeepsServing(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("worker.out");
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("noisy", PhpWorkers.testWorker(Workers.newTag())
                .output(OutputPolicy.appendTo(out)).build()).size(1).build(), SUPERVISOR.get());
        try {
            for (int i = 0; i < 10; i++) {
                assertThat(pool.call("print", 1024L * 1024)).isEqualTo("printed");
                assertThat(pool.call("echo", i)).isEqualTo((long) i);
            }
            Procs.await(Duration.ofSeconds(10), "output drained", () -> {
                try {
                    return Files.lines(out).count() >= 160;
                } catch (java.io.IOException e) {
                    return false;
                }
            });
        } finally {
            pool.close();
        }
    }
}
