package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import dev.folk.core.pool.FakeWorkers.Boot;

/**
 * One randomised run of a pool of fake workers, decided by a seed: a pool of random size and
 * limits, workers that boot or fail at random, a random mix of calls (answers, errors, crashes,
 * protocol errors, undelivered requests, hangs, memory blow-ups), clock jumps, ticks and
 * recycles. Then it checks the pool's promises: every call ends, and with the outcome its method
 * allows; the counters agree with what callers saw; the pool gets back to its size; close stops
 * every worker exactly once and records every exit once.
 *
 * <p>Threads still interleave as they like, so a failure names its seed: rerun that seed alone.
 */
final class RandomSchedule {

    static final int SEEDS = 200;

    private static final String[] METHODS = {"echo", "echo", "echo", "echo", "echo", "echo", "error", "crash",
        "exit0", "bad-msgid", "unread", "send-fails", "hang", "grow"};
    private static final long LIMIT = 100L << 20;
    private static final Duration EXEC_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(10);

    /** What a caller may see for each method, besides the pool's own refusals (queue full, acquire timeout). */
    private static final Map<String, Set<Class<?>>> ALLOWED = Map.of(
            "echo", Set.of(),
            "error", Set.of(WorkerErrorException.class),
            "crash", Set.of(WorkerCrashedException.class),
            "exit0", Set.of(WorkerCrashedException.class),
            "bad-msgid", Set.of(WorkerProtocolException.class),
            "unread", Set.of(WorkerCrashedException.class),
            "send-fails", Set.of(WorkerCrashedException.class),
            "hang", Set.of(ExecTimeoutException.class),
            "grow", Set.of(WorkerMemoryLimitException.class, ExecTimeoutException.class));

    private final long seed;
    private final Random random;

    RandomSchedule(long seed) {
        this.seed = seed;
        this.random = new Random(seed);
    }

    void run() {
        int size = 1 + random.nextInt(3);
        PoolConfig config = PoolLogicTest.config(size)
                .maxJobs(random.nextBoolean() ? 0 : 1 + random.nextInt(4))
                .maxQueue(random.nextInt(6))
                .maxConcurrentSpawns(1 + random.nextInt(2))
                .acquireTimeout(Duration.ofMillis(20 + random.nextInt(30)))
                .execTimeout(EXEC_TIMEOUT).bootTimeout(BOOT_TIMEOUT)
                .memoryLimitBytes(LIMIT).memoryCheckInterval(Duration.ofSeconds(1))
                .build();
        FakeWorkers fakes = new FakeWorkers(config.maxFrameLength());
        long bootSeed = random.nextLong();
        fakes.boots = n -> {
            int r = new Random(bootSeed + n).nextInt(100);
            return r < 82 ? Boot.READY : r < 87 ? Boot.EXIT : r < 92 ? Boot.HANG : r < 96 ? Boot.KILLED
                    : Boot.SPAWN_FAILS;
        };
        WorkerPool pool = fakes.pool(config);
        String context = "seed " + seed + ", " + config.size() + " workers, max-jobs " + config.maxJobs()
                + ", max-queue " + config.maxQueue() + ": ";
        try {
            pool.start();
            List<Call> calls = new ArrayList<>();
            int steps = 10 + random.nextInt(30);
            for (int i = 0; i < steps; i++) {
                step(pool, fakes, calls);
            }
            // Move time on until every call has ended: hangs and silent boots end at their deadlines.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!calls.stream().allMatch(c -> c.future.isDone())) {
                assertThat(System.nanoTime() - deadline).as(context + "every call ended: %s", calls).isNegative();
                fakes.clock.advance(EXEC_TIMEOUT.plusSeconds(1));
                pool.tick();
                waitBriefly(calls);
            }
            checkOutcomes(pool, calls, context);
            while (pool.readyCount() < size) {
                assertThat(System.nanoTime() - deadline).as(context + "the pool back to size %d: %s", size,
                        pool.snapshot()).isNegative();
                fakes.clock.advance(BOOT_TIMEOUT.plusSeconds(1));
                pool.tick();
                sleepALittle();
            }
            pool.close(Duration.ofMillis(100));
            PoolLogicTest.assertClosedCleanly(pool, fakes, context);
        } finally {
            pool.close(Duration.ZERO);
            fakes.shutdown();
        }
    }

    private void step(WorkerPool pool, FakeWorkers fakes, List<Call> calls) {
        int r = random.nextInt(100);
        if (r < 60) {
            String method = METHODS[random.nextInt(METHODS.length)];
            Object params = "grow".equals(method) ? (Object) (2 * LIMIT) : (Object) (long) random.nextInt(1000);
            calls.add(new Call(method, params, pool.callAsync(method, params)));
        } else if (r < 70) {
            long params = random.nextInt(1000);
            CompletableFuture<Object> done = new CompletableFuture<>();
            try {
                done.complete(pool.tryCall("echo", params, null));
            } catch (CallException e) {
                done.completeExceptionally(e);
            }
            if (done.getNow(null) != WorkerPool.NOT_CALLED) {
                calls.add(new Call("echo", params, done));
            }
        } else if (r < 85) {
            fakes.clock.advance(Duration.ofMillis(random.nextInt(15_000)));
            pool.tick();
        } else if (r < 90) {
            List<WorkerInfo> workers = pool.snapshot().workers();
            if (!workers.isEmpty()) {
                pool.recycle(workers.get(random.nextInt(workers.size())).pid());
            }
        } else {
            sleepALittle();
        }
    }

    private void checkOutcomes(WorkerPool pool, List<Call> calls, String context) {
        Map<CallOutcome, Long> seen = new EnumMap<>(CallOutcome.class);
        for (Call c : calls) {
            Throwable failure = null;
            Object result = null;
            try {
                result = c.future.join();
            } catch (CompletionException e) {
                failure = e.getCause();
            }
            if (failure == null) {
                assertThat(c.method).as(context + "%s answered %s", c, result).isEqualTo("echo");
                assertThat(result).as(context + "%s", c).isEqualTo(c.params);
                seen.merge(CallOutcome.SUCCESS, 1L, Long::sum);
                continue;
            }
            boolean refused = failure instanceof QueueFullException || failure instanceof NoWorkerAvailableException;
            // A clock jump during any call is its exec timeout.
            boolean timedOut = failure instanceof ExecTimeoutException;
            assertThat(refused || timedOut || ALLOWED.get(c.method).contains(failure.getClass()))
                    .as(context + "%s failed with %s", c, failure).isTrue();
            assertThat(failure.getMessage()).as(context + "the error names the pool").contains("'logic'");
            outcome(failure).ifPresent(o -> seen.merge(o, 1L, Long::sum));
        }
        Map<CallOutcome, Long> counted = pool.snapshot().calls();
        for (CallOutcome o : List.of(CallOutcome.SUCCESS, CallOutcome.APPLICATION_ERROR, CallOutcome.EXEC_TIMEOUT,
                CallOutcome.MEMORY_LIMIT, CallOutcome.PROTOCOL_ERROR, CallOutcome.QUEUE_FULL,
                CallOutcome.ACQUIRE_TIMEOUT, CallOutcome.NO_WORKER)) {
            assertThat(counted.get(o)).as(context + "calls counted as %s", o).isEqualTo(seen.getOrDefault(o, 0L));
        }
    }

    private static java.util.Optional<CallOutcome> outcome(Throwable failure) {
        CallOutcome o = failure instanceof WorkerErrorException ? CallOutcome.APPLICATION_ERROR
                : failure instanceof ExecTimeoutException ? CallOutcome.EXEC_TIMEOUT
                : failure instanceof WorkerMemoryLimitException ? CallOutcome.MEMORY_LIMIT
                : failure instanceof WorkerProtocolException ? CallOutcome.PROTOCOL_ERROR
                : failure instanceof QueueFullException ? CallOutcome.QUEUE_FULL
                : failure instanceof NoWorkerAvailableException n
                        ? (n.noneRunning() ? CallOutcome.NO_WORKER : CallOutcome.ACQUIRE_TIMEOUT)
                : null; // a crash after undelivered retries is counted once per retry chain, or not at all
        return java.util.Optional.ofNullable(o);
    }

    private static void waitBriefly(List<Call> calls) {
        for (Call c : calls) {
            try {
                c.future.get(1, TimeUnit.MILLISECONDS);
            } catch (Exception stillRunningOrFailed) {
                // checked later
            }
        }
    }

    private static void sleepALittle() {
        java.util.concurrent.locks.LockSupport.parkNanos(200_000);
    }

    private record Call(String method, Object params, CompletableFuture<Object> future) {
        @Override
        public String toString() {
            return method + "(" + params + ")" + (future.isDone() ? "" : " still running");
        }
    }
}
