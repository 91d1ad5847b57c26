package dev.folk.core.pool;

import static dev.folk.core.pool.FakeWorkers.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.folk.core.pool.FakeWorkers.Fake;
import dev.folk.core.testing.LogCapture;

/**
 * The slow-call log's logic against {@link FakeWorkers} on a clock the test moves: one log and one
 * backtrace request per call however many ticks see it, none for a worker that did not declare the
 * feature, a bounded wait for a worker that never answers, and the capture before an exec-timeout
 * kill. Real PHP stacks are {@link SlowCallBacktraceTest}'s.
 */
class SlowCallLogicTest {

    private static final Duration THRESHOLD = Duration.ofMillis(200);

    private final FakeWorkers fakes = new FakeWorkers(1 << 20);
    private WorkerPool pool;
    private LogCapture log;

    @BeforeEach
    void capture() {
        log = LogCapture.of(WorkerPool.class);
    }

    @AfterEach
    void close() {
        log.close();
        if (pool != null) {
            pool.close(Duration.ofMillis(20));
            PoolLogicTest.assertClosedCleanly(pool, fakes, "");
        }
        fakes.shutdown();
    }

    private void ready(PoolConfig.Builder config, String... features) {
        fakes.features = List.of(features);
        pool = fakes.pool(config.build());
        pool.start();
        assertThat(pool.awaitReady(pool.config().size(), Duration.ofSeconds(5))).as("pool ready").isTrue();
    }

    /** Starts a {@code wait} call (answered by the test) and returns the worker it reached. */
    private Fake waitCall(String label, int nth) {
        pool.callAsync("wait", "x", label);
        await("call " + nth + " sent", () -> fakes.spawned.get(0).served.size() == nth);
        return fakes.spawned.get(0);
    }

    /** Moves the clock past the threshold and ticks a few times, as the housekeeper would. */
    private void slowTicks() {
        pool.tick();
        fakes.clock.advance(THRESHOLD.plusMillis(50));
        for (int i = 0; i < 5; i++) {
            pool.tick();
        }
    }

    private List<String> slowLogs() {
        return log.containing("Slow call on pool 'logic'");
    }

    @Test
    void aSlowCallIsLoggedOnceWithItsLabelAndTheWorkersBacktraceThenTheNextSlowCallAgain() {
        ready(PoolLogicTest.config(1).slowCallThreshold(THRESHOLD), "backtrace");
        Fake worker = waitCall("GET /php/slow?x=1", 1);
        pool.tick();
        assertThat(worker.backtraceRequests).as("before the threshold").isEmpty();
        slowTicks();
        await("the slow call logged", () -> slowLogs().size() == 1);
        assertThat(worker.backtraceRequests).as("one request (one signal) for one call, however many ticks")
                .hasSize(1);
        assertThat(pool.snapshot().slowCalls()).isEqualTo(1);
        assertThat(slowLogs().get(0)).contains("worker " + worker.pid, "'wait'", "(GET /php/slow?x=1)",
                "slow-call-threshold 200 ms", "PHP backtrace", "#0 /app/fake.php:7 hang()", "#1 /app/fake.php:20 {main}");
        worker.answer("done");
        await("the call ended", () -> pool.snapshot().count(WorkerState.IDLE) == 1);

        waitCall(null, 2);
        slowTicks();
        await("the second slow call logged", () -> slowLogs().size() == 2);
        assertThat(worker.backtraceRequests).as("one request per call, each for its own msgid").hasSize(2)
                .doesNotHaveDuplicates();
        assertThat(pool.snapshot().slowCalls()).isEqualTo(2);
        worker.answer("done");
    }

    @Test
    void aWorkerThatDidNotDeclareTheFeatureIsNeverSignalledAndTheLogSaysWhy() {
        ready(PoolLogicTest.config(1).slowCallThreshold(THRESHOLD).execTimeout(Duration.ofSeconds(1)));
        Fake worker = waitCall(null, 1);
        slowTicks();
        await("the slow call logged", () -> slowLogs().size() == 1);
        assertThat(slowLogs().get(0)).contains("no PHP backtrace", "did not declare the backtrace feature",
                "ext-pcntl");
        fakes.clock.advance(Duration.ofSeconds(1));
        pool.tick();
        await("killed at its exec timeout", () -> worker.kills.get() > 0);
        assertThat(worker.backtraceRequests).as("SIGUSR2 would kill a worker without a handler").isEmpty();
        assertThat(pool.snapshot().slowCalls()).isEqualTo(1);
    }

    @Test
    void aWorkerThatNeverWritesItsStackIsLoggedAfterABoundedWait() {
        fakes.backtrace = null;
        ready(PoolLogicTest.config(1).slowCallThreshold(THRESHOLD), "backtrace");
        Fake worker = waitCall(null, 1);
        long t0 = System.nanoTime();
        slowTicks();
        assertThat(slowLogs()).as("the tick does not wait for the stack").isEmpty();
        await("the slow call logged without a stack", () -> slowLogs().size() == 1);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isGreaterThanOrEqualTo(
                SlowCalls.TRACE_WAIT.toMillis());
        assertThat(slowLogs().get(0)).contains("no PHP backtrace within 500 ms");
        assertThat(worker.backtraceRequests).hasSize(1);
        worker.answer("done");
    }

    @Test
    void anExecTimeoutAsksForTheStackBeforeTheKillAndTheFailureSaysWherePhpWas() {
        ready(PoolLogicTest.config(1).execTimeout(Duration.ofSeconds(2)), "backtrace");
        CompletableFuture<Object> call = pool.callAsync("hang", null, "GET /stuck");
        await("call sent", () -> !fakes.spawned.get(0).served.isEmpty());
        Fake worker = fakes.spawned.get(0);
        fakes.clock.advance(Duration.ofSeconds(3));
        pool.tick();
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(5, TimeUnit.SECONDS));
        assertThat(e.getCause()).isInstanceOf(ExecTimeoutException.class)
                .hasMessageContaining("the worker was at /app/fake.php:7 hang()");
        assertThat(worker.backtraceRequests).hasSize(1);
        assertThat(worker.kills.get()).isPositive();
        assertThat(log.containing("exceeded exec-timeout")).singleElement().asString()
                .contains("(GET /stuck)", "killing its group", "#0 /app/fake.php:7 hang()");
        assertThat(pool.snapshot().slowCalls()).as("slow-call-threshold is off").isZero();
    }

    @Test
    void anAnswerThatComesWhileTheStackIsAwaitedBeforeTheKillIsStillAnExecTimeout() {
        fakes.backtrace = null; // the capture waits its full bound
        ready(PoolLogicTest.config(1).execTimeout(Duration.ofSeconds(2)), "backtrace");
        CompletableFuture<Object> call = pool.callAsync("wait", null);
        await("call sent", () -> !fakes.spawned.get(0).served.isEmpty());
        Fake worker = fakes.spawned.get(0);
        fakes.clock.advance(Duration.ofSeconds(3));
        pool.tick();
        assertThat(worker.backtraceRequests).hasSize(1);
        worker.answer("woken by the signal"); // a PHP sleep() cut short by SIGUSR2 returns early
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(5, TimeUnit.SECONDS));
        assertThat(e.getCause()).isInstanceOf(ExecTimeoutException.class);
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.EXEC_TIMEOUT, 1L)
                .containsEntry(CallOutcome.SUCCESS, 0L);
        await("killed", () -> worker.kills.get() > 0);
    }

    @Test
    void offByDefault() {
        ready(PoolLogicTest.config(1), "backtrace");
        Fake worker = waitCall(null, 1);
        fakes.clock.advance(Duration.ofSeconds(20));
        pool.tick();
        pool.tick();
        assertThat(worker.backtraceRequests).isEmpty();
        assertThat(pool.snapshot().slowCalls()).isZero();
        worker.answer("done");
    }
}
