package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.folk.core.protocol.WireMap;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.SharedSupervisor;
import dev.folk.core.testing.Workers;

/** Which worker a call gets, how long it may wait, what comes back. */
class PoolDispatchTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    private static WorkerPool pool(String name, PoolConfig.Builder config) {
        return PoolTesting.ready(config.build(), SUPERVISOR.get());
    }

    private static PoolConfig.Builder config(String name, int size) {
        return PoolConfig.builder(name, PhpWorkers.testWorker(Workers.newTag()).build()).size(size);
    }

    @Test
    void resultsComeBackAsMappedValuesAndTyped() {
        WorkerPool pool = pool("values", config("values", 1));
        try {
            Map<String, Object> params = Map.of("s", "text", "n", 42L, "list", List.of(1L, 2L), "bin",
                    new byte[] {0, (byte) 0xff});
            @SuppressWarnings("unchecked")
            Map<Object, Object> back = (Map<Object, Object>) pool.call("echo", params);
            assertThat(back).containsEntry("s", "text").containsEntry("n", 42L).containsEntry("list", List.of(1L, 2L));
            // PHP sends binary back as str; invalid UTF-8 stays bytes
            assertThat((byte[]) back.get("bin")).containsExactly(0, (byte) 0xff);
            assertThat(pool.call("pid", null, Long.class)).isPositive();
            assertThat(pool.call("echo", "x", String.class)).isEqualTo("x");
            assertThat(pool.call("echo", "x", byte[].class)).containsExactly('x');
            assertThat(pool.call("echo", List.of(), Map.class)).as("PHP's empty array read as a map").isEmpty();
        } finally {
            pool.close();
        }
    }

    @Test
    @SuppressWarnings("NullAway") // the mistake under test
    void aNullMethodIsRefusedNamingThePoolAndTheWorkerStaysIdle() {
        WorkerPool pool = pool("null-method", config("null-method", 1));
        try {
            long pid = pool.call("pid", null, Long.class);
            for (Runnable call : List.<Runnable>of(() -> pool.call(null, "x"), () -> pool.callAsync(null, "x"),
                    () -> pool.tryCall(null, "x", null))) {
                NullPointerException e = assertThrows(NullPointerException.class, call::run);
                assertThat(e.getMessage()).contains("'null-method'", "method to call is null");
            }
            assertThat(pool.snapshot().count(WorkerState.IDLE)).as("nothing was taken").isEqualTo(1);
            assertThat(pool.call("pid", null, Long.class)).isEqualTo(pid);
        } finally {
            pool.close();
        }
    }

    @Test
    void applicationErrorsNameTheCodeAndLeaveTheWorkerServing() {
        WorkerPool pool = pool("errors", config("errors", 1));
        try {
            long pid = pool.call("pid", null, Long.class);
            WorkerErrorException missing = assertThrows(WorkerErrorException.class, () -> pool.call("nope", null));
            assertThat(missing.code()).isEqualTo(-32601);
            assertThat(missing.methodNotFound()).isTrue();
            assertThat(missing.getMessage()).contains("'nope'", "'errors'", "worker " + pid, "-32601");
            WorkerErrorException thrown = assertThrows(WorkerErrorException.class, () -> pool.call("throw", "boom"));
            assertThat(thrown.code()).isEqualTo(-32603);
            assertThat(thrown.remoteMessage()).isEqualTo("boom");
            // What PHP threw and where: told apart without parsing the message or reading the worker's log.
            assertThat(thrown.remoteType()).isEqualTo("RuntimeException");
            assertThat(thrown.remoteLocation()).matches(".*/test-worker\\.php:[0-9]+");
            assertThat(thrown.getMessage()).endsWith("boom (RuntimeException at " + thrown.remoteLocation() + ")");
            assertThat(missing.remoteType()).as("nothing was thrown").isNull();
            assertThat(pool.call("pid", null, Long.class)).as("same worker still serving").isEqualTo(pid);
            assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.APPLICATION_ERROR, 2L);
        } finally {
            pool.close();
        }
    }

    @Test
    void aRequestOverTheFrameLimitIsRejectedBeforeAnythingIsSent() {
        WorkerPool pool = pool("large", config("large", 1).maxFrameLength(1024));
        try {
            long pid = pool.call("pid", null, Long.class);
            RequestTooLargeException e = assertThrows(RequestTooLargeException.class,
                    () -> pool.call("echo", "x".repeat(2000)));
            assertThat(e.limit()).isEqualTo(1024);
            assertThat(e.size()).isGreaterThan(2000);
            assertThat(e.getMessage()).contains("'echo'", "'large'", "1024");
            assertThat(pool.call("echo", "small")).isEqualTo("small");
            assertThat(pool.call("pid", null, Long.class)).as("worker unharmed").isEqualTo(pid);
        } finally {
            pool.close();
        }
    }

    @Test
    void aPhpWorkerKeepsToThePoolsFrameLimitAboveAndBelowItsDefault() {
        // Above folk-worker-php's default of 16 MiB: a 20 MiB request and its answer pass.
        WorkerPool large = pool("large-frames", config("large-frames", 1).maxFrameLength(24 << 20));
        try {
            long pid = large.call("pid", null, Long.class);
            String twentyMiB = "x".repeat(20 << 20);
            assertThat(large.call("echo", twentyMiB, String.class)).isEqualTo(twentyMiB);
            assertThat(large.call("repeat", 20 << 20, String.class)).hasSize(20 << 20);
            assertThat(large.call("pid", null, Long.class)).as("the same worker").isEqualTo(pid);
        } finally {
            large.close();
        }
        // Below it: the worker refuses an answer over the pool's limit itself, so the call gets the
        // reason and the worker keeps serving (a frame the pool refused would cost the worker).
        WorkerPool small = pool("small-frames", config("small-frames", 1).maxFrameLength(64 * 1024));
        try {
            long pid = small.call("pid", null, Long.class);
            assertThat(small.call("repeat", 60_000, String.class)).hasSize(60_000);
            WorkerErrorException e = assertThrows(WorkerErrorException.class, () -> small.call("repeat", 100_000));
            assertThat(e.code()).isEqualTo(-32603);
            assertThat(e.remoteMessage()).contains("65536 byte frame limit");
            assertThat(small.call("pid", null, Long.class)).as("the same worker").isEqualTo(pid);
            assertThat(small.snapshot().calls()).containsEntry(CallOutcome.PROTOCOL_ERROR, 0L);
        } finally {
            small.close();
        }
    }

    @Test
    void partsSentAheadOfTheAnswerGoToTheCallersListenerInOrder() throws Exception {
        WorkerPool pool = pool("parts", config("parts", 1));
        try {
            long pid = pool.call("pid", null, Long.class);
            List<Object> got = new ArrayList<>();
            Thread caller = Thread.currentThread();
            assertThat(pool.tryCall("parts", 3, "three parts", (method, params) -> {
                assertThat(Thread.currentThread()).as("parts come on the calling thread").isSameAs(caller);
                got.add(method + " " + params);
            })).isEqualTo("done");
            assertThat(got).containsExactly("part 0", "part 1", "part 2");

            List<Object> async = Collections.synchronizedList(new ArrayList<>());
            assertThat(pool.callAsync("parts", 2, "two parts", (method, params) -> async.add(params))
                    .get(10, TimeUnit.SECONDS)).isEqualTo("done");
            assertThat(async).containsExactly(0L, 1L);

            // A listener that fails: the rest of the parts are dropped, the answer still read.
            List<Object> seen = new ArrayList<>();
            assertThat(pool.tryCall("parts", 4, "failing listener", (method, params) -> {
                seen.add(params);
                throw new IllegalStateException("listener bug");
            })).isEqualTo("done");
            assertThat(seen).containsExactly(0L);

            // A listener whose client went away: the worker (which declared the abort feature) is told
            // with call.abort and sends no more parts once it reads it. Told after its answer, it
            // skips the Notify: every call still answers, and the same worker serves in step.
            List<Object> taken = new ArrayList<>();
            CallParts gone = new CallParts() {
                @Override
                public void part(String method, @Nullable Object params) {
                    taken.add(params);
                }

                @Override
                public boolean abandoned() {
                    return true;
                }
            };
            for (int n : new int[] {1, 200, 2, 200}) {
                assertThat(pool.tryCall("parts", n, "client gone", gone)).isEqualTo("done");
            }
            assertThat(taken).startsWith(0L, 0L).hasSizeLessThanOrEqualTo(403);
            assertThat(pool.call("pid", null, Long.class)).as("the same worker, in step").isEqualTo(pid);

            // Without a listener, a part is what the protocol says it is: an error; the worker is replaced.
            assertThrows(WorkerProtocolException.class, () -> pool.call("parts", 1));
            assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.PROTOCOL_ERROR, 1L);
            Procs.await(Duration.ofSeconds(15), "a new worker", () -> {
                Long now = pool.call("pid", null, Long.class);
                return now != null && now != pid;
            });
        } finally {
            pool.close();
        }
    }

    @Test
    void aCallNeverWaitsForABusyWorkerWhileAnotherIsIdle() throws Exception {
        WorkerPool pool = pool("idle-first", config("idle-first", 2));
        try {
            CompletableFuture<Object> slow = pool.callAsync("sleep", 2000L);
            waitUntilBusy(pool, 1);
            long t0 = System.nanoTime();
            for (int i = 0; i < 50; i++) {
                long c0 = System.nanoTime();
                assertThat(pool.call("echo", i)).isEqualTo((long) i);
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - c0)).as("call %d waited", i)
                        .isLessThan(500);
            }
            assertThat(slow.isDone()).as("all 50 calls were served while the slow one ran").isFalse();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(1500);
            assertThat(slow.get(5, TimeUnit.SECONDS)).isEqualTo(2000L);
        } finally {
            pool.close();
        }
    }

    @Test
    void aFullQueueRejectsAtOnceAndAnAcquireTimeoutFailsOnTime() throws Exception {
        WorkerPool pool = pool("queue", config("queue", 1).maxQueue(1).acquireTimeout(Duration.ofMillis(600)));
        try {
            CompletableFuture<Object> busy = pool.callAsync("sleep", 2000L);
            waitUntilBusy(pool, 1);
            CompletableFuture<Object> queued = pool.callAsync("echo", "queued");
            dev.folk.core.testing.Procs.await(Duration.ofSeconds(2), "one call queued", () -> pool.queueLength() == 1);

            long t0 = System.nanoTime();
            QueueFullException full = assertThrows(QueueFullException.class, () -> pool.call("echo", "rejected"));
            long rejectMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(rejectMs).as("rejected at once").isLessThan(100);
            assertThat(full.getMessage()).contains("'queue'", "max-queue");

            ExecutionException timedOut = assertThrows(ExecutionException.class, () -> queued.get(5, TimeUnit.SECONDS));
            assertThat(timedOut.getCause()).isInstanceOf(NoWorkerAvailableException.class);

            t0 = System.nanoTime();
            NoWorkerAvailableException e = assertThrows(NoWorkerAvailableException.class, () -> pool.call("echo", "x"));
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(waitedMs).as("acquire timeout of 600 ms").isBetween(590L, 1600L);
            assertThat(e.getMessage()).contains("acquire-timeout", "'queue'");
            assertThat(busy.get(5, TimeUnit.SECONDS)).isEqualTo(2000L);
            assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.QUEUE_FULL, 1L)
                    .containsEntry(CallOutcome.ACQUIRE_TIMEOUT, 2L);
        } finally {
            pool.close();
        }
    }

    @Test
    void asyncCallsWaitWithoutHoldingAThreadAndRunInFifoOrder() throws Exception {
        WorkerPool pool = pool("async", config("async", 1).maxQueue(1000).acquireTimeout(Duration.ofSeconds(30)));
        try {
            int threadsBefore = Thread.activeCount();
            List<CompletableFuture<Object>> futures = new ArrayList<>();
            for (long i = 0; i < 500; i++) {
                futures.add(pool.callAsync("seq", i));
            }
            assertThat(Thread.activeCount() - threadsBefore).as("threads for 500 queued async calls").isLessThan(10);
            long previous = 0;
            for (int i = 0; i < futures.size(); i++) {
                List<?> seqAndParam = (List<?>) futures.get(i).get(20, TimeUnit.SECONDS);
                assertThat(seqAndParam.get(1)).isEqualTo((long) i);
                long seq = (Long) seqAndParam.get(0);
                assertThat(seq).as("call %d reached the worker in submission order", i).isGreaterThan(previous);
                previous = seq;
            }
        } finally {
            pool.close();
        }
    }

    static void waitUntilBusy(WorkerPool pool, int busy) {
        dev.folk.core.testing.Procs.await(Duration.ofSeconds(5), busy + " busy",
                () -> pool.snapshot().count(WorkerState.BUSY) >= busy);
    }

    static void awaitIdle(WorkerPool pool, int idle) {
        dev.folk.core.testing.Procs.await(Duration.ofSeconds(10), idle + " idle",
                () -> pool.snapshot().count(WorkerState.IDLE) >= idle);
    }

    /** Marks what it maps, so the worker's echo shows whether the mapper saw the params. */
    private static final class MarkingMapper implements ValueMapper {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public @Nullable Object toWire(@Nullable Object params) {
            calls.incrementAndGet();
            return Map.of("mapped", true);
        }

        @Override
        public @Nullable Object fromWire(@Nullable Object value, Type type) {
            return ValueMapper.PROTOCOL.fromWire(value, type);
        }
    }

    @Test
    void aWireMapSkipsTheValueMapperOnEveryEntryPoint() throws Exception {
        MarkingMapper mapper = new MarkingMapper();
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("wire",
                PhpWorkers.testWorker(Workers.newTag()).build()).size(1).valueMapper(mapper).build(), SUPERVISOR.get());
        try {
            WireMap wire = new WireMap(2);
            wire.put("uri", "/php/hello");
            wire.put("body", new byte[] {(byte) 0xff, 2});

            assertThat(pool.call("echo", Map.of("uri", "/x"))).isEqualTo(Map.of("mapped", true));
            assertThat(mapper.calls).as("a plain map goes through the mapper").hasValue(1);

            assertThat(echoed(pool.call("echo", wire))).isEqualTo("/php/hello");
            assertThat(echoed(pool.callAsync("echo", wire, "GET /php/hello").get(5, TimeUnit.SECONDS)))
                    .isEqualTo("/php/hello");
            assertThat(echoed(pool.tryCall("echo", wire, "GET /php/hello"))).isEqualTo("/php/hello");
            assertThat(mapper.calls).as("a WireMap never does").hasValue(1);
        } finally {
            pool.close();
        }
    }

    private static @Nullable Object echoed(@Nullable Object result) {
        assertThat(result).isInstanceOf(Map.class);
        Map<?, ?> map = (Map<?, ?>) result;
        assertThat(map.get("body")).isEqualTo(new byte[] {(byte) 0xff, 2});
        return map.get("uri");
    }
}
