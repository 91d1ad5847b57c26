package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.folk.core.supervision.Supervisor;
import dev.folk.core.testing.Workers;

/**
 * The call observer (tracing's hook): when each kind of call is started and ended and on which
 * thread, what it is told, and — against real processes — that only a worker that declared the
 * {@code context} feature gets the request's context as a 5th element.
 */
class CallObserverTest {

    private static Supervisor supervisor;
    private FakeWorkers fakes;
    private WorkerPool pool;

    @BeforeAll
    static void startSupervisor() {
        supervisor = new Supervisor();
    }

    @AfterAll
    static void stopSupervisor() {
        supervisor.close();
    }

    @AfterEach
    void close() {
        if (pool != null) {
            pool.close();
        }
    }

    private WorkerPool fakePool() {
        PoolConfig c = PoolLogicTest.config(1).build();
        fakes = new FakeWorkers(c.maxFrameLength());
        pool = fakes.pool(c);
        pool.start();
        assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).isTrue();
        return pool;
    }

    /** Records every event with the thread it came on. */
    static final class Recorder implements CallObserver {
        final List<String> events = new CopyOnWriteArrayList<>();
        volatile Map<String, String> context =
                Map.of("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        volatile Object replacedParams;

        @Override
        public CallObservation callStarted(WorkerPool p, String method, Object params, String label) {
            events.add("start " + method + " " + params + " " + label + " on " + Thread.currentThread().getName());
            return new CallObservation() {
                @Override
                public Object params(Object original) {
                    return replacedParams != null ? replacedParams : original;
                }

                @Override
                public Map<String, String> context() {
                    events.add("context");
                    return context;
                }

                @Override
                public void worker(int pid) {
                    events.add("worker " + pid);
                }

                @Override
                public void ended(CallOutcome outcome, Throwable error) {
                    events.add("end " + outcome + " " + (error == null ? "-" : error.getClass().getSimpleName())
                            + " on " + Thread.currentThread().getName());
                }
            };
        }
    }

    @Test
    void syncAsyncAndTryCallsAreEachObservedOnceFromTheCallersThread() throws Exception {
        fakePool();
        Recorder r = new Recorder();
        pool.observeCalls(r);
        int pid = (int) (long) pool.call("pid", null, Long.class);
        String me = Thread.currentThread().getName();
        // A fake declares no feature: its context is never asked for (and a fake cannot encode one).
        assertThat(r.events).containsExactly("start pid null null on " + me, "worker " + pid, "end SUCCESS - on " + me);

        r.events.clear();
        CompletableFuture<Object> f = pool.callAsync("echo", "a", "label-a");
        List<String> atCompletion = f.thenApply(x -> List.copyOf(r.events)).get(5, TimeUnit.SECONDS);
        assertThat(atCompletion).as("ended before the caller's future completes").hasSize(3);
        assertThat(atCompletion.get(0)).isEqualTo("start echo a label-a on " + me);
        assertThat(atCompletion.get(2)).startsWith("end SUCCESS -");

        r.events.clear();
        assertThat(pool.tryCall("echo", "b", "label-b")).isEqualTo("b");
        assertThat(r.events).containsExactly("start echo b label-b on " + me, "worker " + pid,
                "end SUCCESS - on " + me);

        r.events.clear();
        assertThrows(WorkerErrorException.class, () -> pool.call("error", "bad"));
        assertThat(pool.callAsync("error", "bad", String.class)).failsWithin(Duration.ofSeconds(5));
        assertThrows(InvalidParamsException.class, () -> pool.call("echo", new Object()));
        assertThat(r.events).filteredOn(e -> e.startsWith("end")).map(e -> e.substring(0, e.indexOf(" on ")))
                .containsExactly("end APPLICATION_ERROR WorkerErrorException",
                        "end APPLICATION_ERROR WorkerErrorException", "end null InvalidParamsException");
        assertThat(pool.call("echo", "still serving")).isEqualTo("still serving");
    }

    @Test
    void theObservationMayReplaceTheParamsAndAFailingObserverLeavesCallsUnobserved() {
        fakePool();
        Recorder r = new Recorder();
        r.replacedParams = Map.of("with", "context");
        pool.observeCalls(r);
        assertThat(pool.call("echo", Map.of("plain", "params"))).isEqualTo(Map.of("with", "context"));

        pool.observeCalls((p, method, params, label) -> {
            throw new IllegalStateException("observer bug");
        });
        assertThat(pool.call("echo", "x")).isEqualTo("x");
        assertThat(pool.callAsync("echo", "y")).succeedsWithin(Duration.ofSeconds(5)).isEqualTo("y");

        r.events.clear();
        pool.observeCalls(null);
        assertThat(pool.call("echo", "z")).isEqualTo("z");
        assertThat(r.events).isEmpty();
    }

    /** One real raw-protocol worker answering each request with the request array it received. */
    private WorkerPool rawPool(String mode) {
        pool = WorkerPool.start(PoolConfig.builder(mode, PhpWorkers.rawWorker(Workers.newTag(), mode).build())
                .size(1).build(), supervisor);
        assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
        return pool;
    }

    @Test
    void onlyAWorkerThatDeclaredTheContextFeatureGetsAFifthElement() {
        rawPool("request-context");
        Recorder r = new Recorder();
        assertThat(pool.call("m", "p")).as("unobserved").isEqualTo(List.of(0L, 1L, "m", "p"));
        pool.observeCalls(r);
        assertThat(pool.call("m", "p")).isEqualTo(List.of(0L, 2L, "m", "p", r.context));
        assertThat(pool.callAsync("m", "q")).succeedsWithin(Duration.ofSeconds(5))
                .isEqualTo(List.of(0L, 3L, "m", "q", r.context));
        r.context = Map.of();
        assertThat(pool.call("m", "p")).as("no context to send").isEqualTo(List.of(0L, 4L, "m", "p"));
    }

    @Test
    void aWorkerThatDeclaredNoFeatureGetsTheBaseProtocolsRequest() {
        rawPool("request");
        Recorder r = new Recorder();
        pool.observeCalls(r);
        assertThat(pool.call("m", "p")).isEqualTo(List.of(0L, 1L, "m", "p"));
        assertThat(pool.callAsync("m", "q")).succeedsWithin(Duration.ofSeconds(5))
                .isEqualTo(List.of(0L, 2L, "m", "q"));
        assertThat(r.events).doesNotContain("context").filteredOn(e -> e.startsWith("end SUCCESS")).hasSize(2);
    }
}
