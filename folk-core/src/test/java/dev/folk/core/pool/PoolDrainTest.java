package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.SharedSupervisor;
import dev.folk.core.testing.Workers;

/**
 * close() drains the queue as ExecutorService.shutdown() drains submitted tasks: calls accepted
 * (queued) before the close began still run on the pool's workers within the drain timeout; only
 * calls made after it began are refused; whatever is still queued when the drain timeout ends, or
 * when no worker is left to serve it, fails with the reason; nothing hangs.
 */
class PoolDrainTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    private static PoolConfig.Builder config(String name, String tag, int size) {
        // A long acquire-timeout: a queued call must end by the drain, not by giving up on its wait.
        return PoolConfig.builder(name, PhpWorkers.testWorker(tag).build()).size(size)
                .acquireTimeout(Duration.ofSeconds(60));
    }

    /** 20 calls on 4 workers (12 async, 8 blocked in call()), close 0.3 s later: all 20 complete. */
    @Test
    void callsQueuedWhenTheCloseBeginsStillRunAndLaterOnesAreRefused() throws Exception {
        String tag = Workers.newTag();
        WorkerPool pool = PoolTesting.ready(config("drain-queue", tag, 4).build(), SUPERVISOR.get());
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            List<CompletableFuture<Object>> calls = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                calls.add(pool.callAsync("sleep", 500L));
            }
            for (int i = 0; i < 8; i++) {
                calls.add(CompletableFuture.supplyAsync(() -> pool.call("sleep", 500L), callers));
            }
            PoolDispatchTest.waitUntilBusy(pool, 4);
            Procs.await(Duration.ofSeconds(5), "16 calls queued", () -> pool.queueLength() == 16);
            long spawnsBefore = pool.snapshot().spawns();
            Thread.sleep(300);

            long t0 = System.nanoTime();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(pool::close);
            Procs.await(Duration.ofSeconds(2), "draining", () -> pool.state() == PoolState.DRAINING);
            long r0 = System.nanoTime();
            PoolClosedException refused = assertThrows(PoolClosedException.class, () -> pool.call("echo", "late"));
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - r0)).as("refused at once").isLessThan(500);
            assertThat(refused.getMessage()).contains("'drain-queue'", "closed");
            ExecutionException lateAsync = assertThrows(ExecutionException.class,
                    () -> pool.callAsync("echo", "late").get(1, TimeUnit.SECONDS));
            assertThat(lateAsync.getCause()).isInstanceOf(PoolClosedException.class);

            for (int i = 0; i < calls.size(); i++) {
                assertThat(calls.get(i).get(15, TimeUnit.SECONDS)).as("call %d accepted before the close", i)
                        .isEqualTo(500L);
            }
            closing.get(15, TimeUnit.SECONDS);
            // The queue drained in ~2 s; the workers then stopped, without waiting out the 20 s drain-timeout.
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(10_000);
            PoolSnapshot s = pool.snapshot();
            assertThat(s.state()).isEqualTo(PoolState.CLOSED);
            assertThat(s.spawns()).as("no worker spawned during the drain").isEqualTo(spawnsBefore);
            assertThat(s.calls().get(CallOutcome.SUCCESS)).isEqualTo(20);
            assertThat(s.exits().get(ExitReason.SHUTDOWN)).isEqualTo(4);
            assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
        } finally {
            callers.shutdownNow();
            pool.close();
        }
    }

    /** With a short drain timeout: the running calls are killed, the queued ones fail saying why, nothing hangs. */
    @Test
    void callsStillQueuedWhenTheDrainTimeoutEndsFailWithTheReason() throws Exception {
        String tag = Workers.newTag();
        WorkerPool pool = PoolTesting.ready(config("drain-short", tag, 2).build(), SUPERVISOR.get());
        ExecutorService callers = Executors.newFixedThreadPool(2);
        try {
            List<CompletableFuture<Object>> running = List.of(pool.callAsync("sleep", 30_000L),
                    pool.callAsync("sleep", 30_000L));
            PoolDispatchTest.waitUntilBusy(pool, 2);
            List<CompletableFuture<Object>> queued = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                queued.add(pool.callAsync("echo", i));
            }
            for (int i = 0; i < 2; i++) {
                queued.add(CompletableFuture.supplyAsync(() -> pool.call("echo", "sync"), callers));
            }
            Procs.await(Duration.ofSeconds(5), "6 calls queued", () -> pool.queueLength() == 6);

            long t0 = System.nanoTime();
            pool.close(Duration.ofMillis(500));
            long closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(closeMillis).as("close took drain-timeout + close-wait + stop-grace at most")
                    .isGreaterThanOrEqualTo(450).isLessThan(500 + 500 + 5000 + 1000);
            for (CompletableFuture<Object> f : queued) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(1, TimeUnit.SECONDS));
                assertThat(e.getCause()).isInstanceOf(PoolClosedException.class)
                        .hasMessageContaining("drain-timeout")
                        .hasMessageContaining("before a worker was free");
            }
            for (CompletableFuture<Object> f : running) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(1, TimeUnit.SECONDS));
                assertThat(e.getCause()).isInstanceOf(PoolClosedException.class)
                        .hasMessageContaining("ran past drain-timeout 500ms"); // close()'s, not the configured 20 s
            }
            assertThat(pool.state()).isEqualTo(PoolState.CLOSED);
            assertThat(pool.queueLength()).isZero();
            assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
        } finally {
            callers.shutdownNow();
            pool.close();
        }
    }

    /** The last worker dies during the drain: the queue cannot be served, so it fails at once, not at the drain's end. */
    @Test
    void queuedCallsFailAtOnceWhenNoWorkerIsLeftToServeThem() throws Exception {
        String tag = Workers.newTag();
        WorkerPool pool = PoolTesting.ready(config("drain-none-left", tag, 1).build(), SUPERVISOR.get());
        try {
            CompletableFuture<Object> running = pool.callAsync("sleep", 30_000L);
            PoolDispatchTest.waitUntilBusy(pool, 1);
            List<CompletableFuture<Object>> queued = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                queued.add(pool.callAsync("echo", i));
            }
            Procs.await(Duration.ofSeconds(5), "3 calls queued", () -> pool.queueLength() == 3);
            int victim = PoolTesting.pids(pool).iterator().next();
            long spawnsBefore = pool.snapshot().spawns();

            CompletableFuture<Void> closing = CompletableFuture.runAsync(pool::close); // drain-timeout 20 s
            Procs.await(Duration.ofSeconds(2), "draining", () -> pool.state() == PoolState.DRAINING);
            Thread.sleep(200);
            assertThat(queued).as("still queued behind the busy worker").noneMatch(CompletableFuture::isDone);
            long t0 = System.nanoTime();
            new ProcessBuilder("kill", "-KILL", Integer.toString(victim)).inheritIO().start().waitFor();

            ExecutionException crashed = assertThrows(ExecutionException.class, () -> running.get(5, TimeUnit.SECONDS));
            assertThat(crashed.getCause()).isInstanceOf(WorkerCrashedException.class);
            for (CompletableFuture<Object> f : queued) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
                assertThat(e.getCause()).isInstanceOf(PoolClosedException.class)
                        .hasMessageContaining("no worker is left");
            }
            closing.get(8, TimeUnit.SECONDS);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("well before the 20 s drain-timeout")
                    .isLessThan(8_000);
            assertThat(pool.snapshot().spawns()).as("no worker spawned during the drain").isEqualTo(spawnsBefore);
            assertThat(pool.state()).isEqualTo(PoolState.CLOSED);
            assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
        } finally {
            pool.close();
        }
    }
}
