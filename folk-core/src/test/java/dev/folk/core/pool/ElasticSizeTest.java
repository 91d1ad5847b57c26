package dev.folk.core.pool;

import static dev.folk.core.pool.FakeWorkers.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.folk.core.pool.FakeWorkers.Fake;
import dev.folk.core.supervision.WorkerSpec;

/**
 * Elastic size (min-size .. max-size) against fake workers: growth when calls wait, shrinking of
 * idle workers above the minimum, never below it or above the maximum, and recycling and reset
 * with a size that moves. Every test ends as PoolLogicTest's do: each spawned worker stopped once.
 */
class ElasticSizeTest {

    private FakeWorkers fakes;
    private WorkerPool pool;

    static PoolConfig.Builder elastic(int min, int max) {
        return PoolLogicTest.config(4).minSize(min).maxSize(max).growAfter(Duration.ofMillis(5));
    }

    private WorkerPool start(PoolConfig.Builder config) {
        PoolConfig c = config.build();
        fakes = new FakeWorkers(c.maxFrameLength());
        pool = fakes.pool(c);
        pool.start();
        assertThat(pool.awaitReady(c.size(), Duration.ofSeconds(5))).as("pool ready").isTrue();
        return pool;
    }

    @AfterEach
    void closeAndCheckEveryWorkerWasStoppedOnce() {
        if (pool == null) {
            return;
        }
        pool.close(Duration.ofMillis(20));
        try {
            PoolLogicTest.assertClosedCleanly(pool, fakes, "");
        } finally {
            fakes.shutdown();
        }
    }

    private PoolSnapshot.Sizing sizing() {
        return pool.snapshot().sizing();
    }

    private void answerAll(List<CompletableFuture<Object>> calls) {
        answerAll(pool, fakes, calls);
    }

    /** Answers {@code wait} calls on whichever workers serve them until every call is done. */
    static void answerAll(WorkerPool pool, FakeWorkers fakes, List<CompletableFuture<Object>> calls) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        java.util.Map<Integer, Integer> answered = new java.util.HashMap<>(); // pid -> requests answered
        while (calls.stream().anyMatch(c -> !c.isDone())) {
            assertThat(System.nanoTime() - deadline).as("every wait call answered").isNegative();
            for (WorkerInfo w : pool.snapshot().workers()) {
                if (w.state() != WorkerState.BUSY || !"wait".equals(w.currentMethod())) {
                    continue;
                }
                Fake f = fakes.spawned.stream().filter(x -> x.pid == w.pid()).findFirst().orElseThrow();
                int read = f.served.size();
                if (read > answered.getOrDefault(f.pid, 0)) {
                    f.answer("done"); // each request once: a second answer would go to its next request
                    answered.put(f.pid, read);
                }
            }
            java.util.concurrent.locks.LockSupport.parkNanos(200_000);
        }
        for (CompletableFuture<Object> c : calls) {
            assertThat(c).succeedsWithin(Duration.ofSeconds(5)).isEqualTo("done");
        }
    }

    /** Moves the clock past the idle limit and runs a housekeeping round. */
    private void idleFor(Duration d) {
        fakes.clock.advance(d);
        pool.tick();
    }

    @Test
    void configurationStartsAtTheMinimumAndNamesBadBounds() {
        PoolConfig c = elastic(2, 6).build();
        assertThat(c.elastic()).isTrue();
        assertThat(c.size()).as("starting size").isEqualTo(2);
        assertThat(elastic(0, 3).build().size()).as("min 0 still starts one worker").isEqualTo(1);
        assertThat(PoolLogicTest.config(3).build().elastic()).as("fixed by default").isFalse();
        assertThat(PoolLogicTest.config(3).maxSize(8).build().minSize()).as("min defaults to size").isEqualTo(3);
        assertThat(PoolLogicTest.config(3).minSize(1).build().maxSize()).as("max defaults to size").isEqualTo(3);
        PoolConfig same = PoolLogicTest.config(4).minSize(2).maxSize(2).build();
        assertThat(same.elastic()).isFalse();
        assertThat(same.size()).isEqualTo(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> elastic(5, 2).build());
        assertThat(e.getMessage()).contains("'logic'", "min-size (5) must not be above max-size (2)");
        e = assertThrows(IllegalArgumentException.class, () -> elastic(-2, 0).build());
        assertThat(e.getMessage()).contains("min-size must be 0 or more", "max-size must be at least 1");
        e = assertThrows(IllegalArgumentException.class, () -> elastic(0, 2).maxQueue(0).build());
        assertThat(e.getMessage()).contains("min-size 0 needs max-queue of 1 or more");
        e = assertThrows(IllegalArgumentException.class,
                () -> elastic(1, 2).growAfter(Duration.ofMillis(-1)).build());
        assertThat(e.getMessage()).contains("grow-after must not be negative");
    }

    @ParameterizedTest(name = "{0} waiting calls")
    @ValueSource(ints = {1, 2, 5})
    void waitingCallsGrowThePoolUpToTheMaximumAndEachIsServed(int waiting) {
        start(elastic(1, 4).execTimeout(Duration.ofHours(1)));
        List<CompletableFuture<Object>> calls = new ArrayList<>();
        for (int i = 0; i <= waiting; i++) {
            calls.add(pool.callAsync("wait", null));
        }
        int expected = Math.min(4, waiting + 1);
        await("grown to " + expected + " busy", () -> pool.snapshot().count(WorkerState.BUSY) == expected);
        assertThat(sizing().target()).isEqualTo(expected);
        assertThat(pool.queueLength()).isEqualTo(waiting + 1 - expected);
        assertThat(fakes.spawned).as("no spawn beyond the maximum").hasSize(expected);
        // Everything waits on the busy workers: later checks must not grow past the maximum either.
        for (int i = 0; i < 5; i++) {
            pool.tick();
        }
        assertThat(fakes.spawned).hasSize(expected);
        answerAll(calls);
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.SUCCESS, (long) waiting + 1);
    }

    /**
     * Growth whose spawns fail (a limit on tasks, say) while calls wait: once no call waits, each such
     * slot is given up at its next attempt rather than spawned for a burst that is over. They all
     * used to spawn the moment spawns worked again, to be retired idle later.
     */
    @Test
    void growthWhoseSpawnsFailedIsGivenUpOnceNoCallWaitsNotSpawnedWhenSpawnsWorkAgain() {
        AtomicBoolean failing = new AtomicBoolean(true);
        List<CompletableFuture<Object>> calls = callsWhileSpawnsFail(failing, 1000, 3);
        await("grown for the two waiting calls", () -> sizing().target() == 3);
        answerAll(calls);
        await("the growth given up", () -> sizing().target() == 1);
        failing.set(false); // a slot still kept would now spawn a worker

        pool.tick();
        assertThat(pool.snapshot().workers()).as("no worker spawned for the burst that is over").hasSize(1);
        assertThat(fakes.spawned).hasSize(1);
        assertThat(pool.state()).isEqualTo(PoolState.RUNNING);
    }

    /**
     * An elastic pool of 1 to 4 whose spawns fail while {@code failing}, marked BROKEN at
     * {@code brokenThreshold} failures, and {@code n} calls that wait on its one worker.
     */
    private List<CompletableFuture<Object>> callsWhileSpawnsFail(AtomicBoolean failing, int brokenThreshold, int n) {
        start(elastic(1, 4).execTimeout(Duration.ofHours(1)).backoffInitial(Duration.ofMillis(100))
                .backoffMax(Duration.ofMillis(200)).brokenThreshold(brokenThreshold));
        fakes.boots = i -> failing.get() ? FakeWorkers.Boot.SPAWN_FAILS : FakeWorkers.Boot.READY;
        List<CompletableFuture<Object>> calls = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            calls.add(pool.callAsync("wait", null));
        }
        return calls;
    }

    /** The same in a pool the failures made BROKEN: one slot stays, to boot a worker and end BROKEN. */
    @Test
    void aBrokenPoolKeepsOneFailedGrowthSlotToEndBrokenWithOneBoot() {
        AtomicBoolean failing = new AtomicBoolean(true);
        List<CompletableFuture<Object>> calls = callsWhileSpawnsFail(failing, 2, 4);
        await("grown for the three waiting calls, and BROKEN", () -> sizing().target() == 4
                && pool.state() == PoolState.BROKEN);
        answerAll(calls);
        await("all but one slot given up", () -> sizing().target() == 2);
        failing.set(false);

        await("one worker booted, and BROKEN over", () -> pool.state() == PoolState.RUNNING
                && pool.snapshot().workers().size() == 2);
        assertThat(fakes.spawned).hasSize(2);
        assertThat(sizing().target()).isEqualTo(2);
    }

    @Test
    void aCallThatWaitsLessThanGrowAfterDoesNotGrowThePool() {
        start(elastic(1, 4).growAfter(Duration.ofSeconds(30)));
        CompletableFuture<Object> first = pool.callAsync("wait", null);
        fakes.spawned.get(0).awaitSent(1);
        CompletableFuture<Object> second = pool.callAsync("echo", 2L);
        pool.tick();
        assertThat(sizing().target()).isEqualTo(1);
        fakes.spawned.get(0).answer("done");
        assertThat(first.join()).isEqualTo("done");
        assertThat(second.join()).isEqualTo(2L);
        assertThat(fakes.spawned).hasSize(1);
    }

    @Test
    void idleWorkersAboveTheMinimumAreRetiredWithoutReplacementNeverBelowIt() {
        start(elastic(1, 3).maxIdle(Duration.ofSeconds(10)).execTimeout(Duration.ofHours(1)));
        List<CompletableFuture<Object>> calls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            calls.add(pool.callAsync("wait", null));
        }
        await("grown to 3 busy", () -> pool.snapshot().count(WorkerState.BUSY) == 3);
        answerAll(calls);
        idleFor(Duration.ofSeconds(5));
        assertThat(sizing().target()).as("not idle long enough").isEqualTo(3);
        idleFor(Duration.ofSeconds(6));
        // Two retired without replacement; the last, at the minimum, recycled by max-idle as in a fixed pool.
        await("shrunk to 1", () -> pool.snapshot().exits().get(ExitReason.IDLE) == 3 && pool.readyCount() == 1
                && pool.snapshot().workers().size() == 1);
        assertThat(sizing().target()).isEqualTo(1);
        assertThat(fakes.spawned).as("a replacement for the last worker only").hasSize(4);
        idleFor(Duration.ofSeconds(11));
        await("the last worker replaced again", () -> pool.snapshot().exits().get(ExitReason.IDLE) == 4
                && pool.readyCount() == 1);
        assertThat(sizing().target()).as("never below the minimum").isEqualTo(1);
        assertThat(fakes.spawned).hasSize(5);
    }

    @Test
    void idleWorkersAboveTheMinimumWaitOutAReplacementUnderWayRatherThanBeReplacedThemselves() {
        start(elastic(1, 3).maxIdle(Duration.ofSeconds(10)).execTimeout(Duration.ofHours(1))
                .bootTimeout(Duration.ofHours(1)));
        List<CompletableFuture<Object>> calls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            calls.add(pool.callAsync("wait", null));
        }
        await("grown to 3 busy", () -> pool.snapshot().count(WorkerState.BUSY) == 3);
        answerAll(calls);
        fakes.boots = n -> FakeWorkers.Boot.HANG; // a replacement that takes its time
        pool.recycle(pool.snapshot().workers().get(0).pid());
        await("its replacement starting", () -> pool.snapshot().count(WorkerState.STARTING) == 1);
        // Every worker idle past max-idle while that replacement is under way: the pool cannot shrink
        // now, and the two idle workers above the minimum must not be replaced (they are to retire).
        idleFor(Duration.ofSeconds(11));
        idleFor(Duration.ofSeconds(11));
        assertThat(fakes.spawned).as("3 grown and the recycled worker's replacement, nothing more").hasSize(4);
        assertThat(sizing().target()).isEqualTo(3);
    }

    @Test
    void withMinimumZeroTheLastIdleWorkerGoesAndACallGrowsThePoolAtOnce() {
        start(elastic(0, 2).growAfter(Duration.ofSeconds(30)));
        assertThat(pool.readyCount()).as("one worker checks the script at start").isEqualTo(1);
        idleFor(PoolConfig.DEFAULT_ELASTIC_IDLE.plusSeconds(1));
        await("no worker left", () -> pool.snapshot().workers().isEmpty());
        assertThat(sizing().target()).isZero();
        assertThat(pool.snapshot().exits()).containsEntry(ExitReason.IDLE, 1L);
        // Nothing will be given back, so the call does not wait for grow-after (30 s here).
        assertThat(pool.call("echo", "hello")).isEqualTo("hello");
        assertThat(sizing().target()).isEqualTo(1);
        assertThat(fakes.spawned).hasSize(2);
    }

    @Test
    void aRefusedCallGrowsAPoolWithoutQueue() {
        start(elastic(1, 2).maxQueue(0).execTimeout(Duration.ofHours(1)));
        CompletableFuture<Object> busy = pool.callAsync("wait", null);
        fakes.spawned.get(0).awaitSent(1);
        QueueFullException refused = assertThrows(QueueFullException.class, () -> pool.call("echo", 1L));
        assertThat(refused.getMessage()).as("a pool that is growing needs no larger max-size")
                .contains("The pool is adding workers (up to max-size 2)").doesNotContain("Raise max-size");
        await("grown to 2 ready", () -> pool.readyCount() == 2);
        assertThat(pool.call("echo", 2L)).isEqualTo(2L);
        fakes.spawned.get(0).answer("done");
        assertThat(busy.join()).isEqualTo("done");
    }

    @Test
    void recyclingAndResetKeepTheGrownSize() throws Exception {
        start(elastic(1, 3).maxJobs(2).execTimeout(Duration.ofHours(1)));
        List<CompletableFuture<Object>> calls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            calls.add(pool.callAsync("wait", null));
        }
        await("grown to 3 busy", () -> pool.snapshot().count(WorkerState.BUSY) == 3);
        answerAll(calls);
        for (long i = 0; i < 12; i++) {
            assertThat(pool.call("echo", i)).isEqualTo(i);
        }
        await("max-jobs recycled", () -> pool.snapshot().exits().get(ExitReason.MAX_JOBS) >= 1);
        assertThat(sizing().target()).as("recycling replaces, it does not shrink").isEqualTo(3);
        await("3 ready", () -> pool.readyCount() == 3);
        List<Fake> before = fakes.spawned.stream().filter(f -> !f.exited()).toList();
        pool.reset().get(5, TimeUnit.SECONDS);
        await("every worker replaced", () -> before.stream().allMatch(Fake::exited));
        await("back to 3 ready", () -> pool.readyCount() == 3 && pool.snapshot().workers().size() == 3);
        assertThat(sizing().target()).isEqualTo(3);
        assertThat(pool.snapshot().exits().get(ExitReason.RESET)).isGreaterThanOrEqualTo(1);
    }

    @Test
    void randomSchedulesKeepTheSizeBetweenItsBoundsAndLoseNoCall() {
        for (long seed = 1; seed <= 15; seed++) {
            try {
                randomSchedule(seed);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("elastic schedule failed with seed " + seed + ": " + e.getMessage(), e);
            }
        }
        pool = null; // each schedule closed and checked its own pool
    }

    private void randomSchedule(long seed) {
        Random random = new Random(seed);
        int min = random.nextInt(3);
        int max = Math.max(1, min + random.nextInt(4));
        PoolConfig c = PoolLogicTest.config(4).minSize(min).maxSize(max)
                .growAfter(Duration.ofMillis(random.nextInt(3)))
                .maxIdle(random.nextBoolean() ? Duration.ZERO : Duration.ofSeconds(5))
                .maxJobs(random.nextBoolean() ? 0 : 1 + random.nextInt(3))
                .maxQueue((min == 0 ? 1 : 0) + random.nextInt(8)).acquireTimeout(Duration.ofSeconds(2))
                .execTimeout(Duration.ofSeconds(10)).build();
        FakeWorkers f = new FakeWorkers(c.maxFrameLength());
        WorkerPool p = f.pool(c);
        String context = "seed " + seed + ", " + min + ".." + max + ", max-queue " + c.maxQueue() + ": ";
        List<CompletableFuture<Object>> calls = new ArrayList<>();
        List<CompletableFuture<Void>> resets = new ArrayList<>();
        try {
            p.start();
            int steps = 20 + random.nextInt(40);
            for (int i = 0; i < steps; i++) {
                int r = random.nextInt(100);
                if (r < 55) {
                    calls.add(p.callAsync("echo", (long) i));
                } else if (r < 65) {
                    calls.add(p.callAsync(random.nextBoolean() ? "crash" : "hang", (long) i));
                } else if (r < 85) {
                    f.clock.advance(Duration.ofMillis(random.nextInt(8_000)));
                    p.tick();
                } else if (r < 90) {
                    List<WorkerInfo> live = p.snapshot().workers();
                    if (!live.isEmpty()) {
                        p.recycle(live.get(random.nextInt(live.size())).pid());
                    }
                } else if (r < 92) {
                    // reset: recyclingAndResetKeepTheGrownSize (a jumping clock makes a reset give up)
                } else {
                    java.util.concurrent.locks.LockSupport.parkNanos(300_000);
                }
                checkBounds(p, c, context);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            // A reset may give up when the clock jumps past its deadline: that is allowed here.
            while (!calls.stream().allMatch(CompletableFuture::isDone) || !resets.stream().allMatch(CompletableFuture::isDone)) {
                assertThat(System.nanoTime() - deadline).as(context + "every call and reset ended").isNegative();
                f.clock.advance(Duration.ofSeconds(11)); // hangs end at their exec timeout
                p.tick();
                checkBounds(p, c, context);
                java.util.concurrent.locks.LockSupport.parkNanos(500_000);
            }
            for (CompletableFuture<Object> call : calls) {
                try {
                    call.join();
                } catch (CompletionException e) {
                    assertThat(e.getCause()).as(context + "a call failed").isInstanceOfAny(
                            WorkerCrashedException.class, ExecTimeoutException.class, QueueFullException.class,
                            NoWorkerAvailableException.class);
                }
            }
            // Idle long enough, the pool shrinks to its minimum; then, with the clock still, it settles there.
            try {
                await(context + "shrunk to the minimum", () -> {
                    f.clock.advance(c.shrinkAfter().plusSeconds(1));
                    p.tick();
                    checkBounds(p, c, context);
                    return p.snapshot().sizing().target() == min;
                });
            } catch (AssertionError e) { // seen once (seed 3, 2..4): what held the pool above its minimum
                throw new AssertionError(e.getMessage() + "; sizing " + p.snapshot().sizing() + ", workers "
                        + p.snapshot().workers() + ", exits " + p.snapshot().exits(), e);
            }
            // Real time passes too: with max-idle set, workers at the minimum are recycled (make before
            // break, one more for a moment) now and then; the pool must still come to rest at the minimum.
            long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            for (int i = 0; ; i++) {
                if (i % 50 == 49) {
                    f.clock.advance(c.shrinkAfter().plusSeconds(1));
                }
                p.tick();
                PoolSnapshot s = p.snapshot();
                checkBounds(p, c, context);
                if (s.sizing().target() == min && s.ready() == min && s.workers().size() == min) {
                    break;
                }
                assertThat(System.nanoTime() - settle).as(context + "settled at the minimum: %s", s).isNegative();
                java.util.concurrent.locks.LockSupport.parkNanos(500_000);
            }
            assertThat(p.call("echo", "last")).as(context + "it still serves").isEqualTo("last");
            p.close(Duration.ofMillis(100));
            PoolLogicTest.assertClosedCleanly(p, f, context);
        } finally {
            p.close(Duration.ZERO);
            f.shutdown();
        }
    }

    private static void checkBounds(WorkerPool p, PoolConfig c, String context) {
        PoolSnapshot s = p.snapshot();
        assertThat(s.sizing().target()).as(context + "target within bounds").isBetween(c.minSize(), c.maxSize());
        // Make before break may add one worker per due worker (up to max-concurrent-spawns) and one for a reset.
        assertThat(s.currentSize()).as(context + "workers: %s", s.workers())
                .isLessThanOrEqualTo(c.maxSize() + c.maxConcurrentSpawns() + 1L);
    }
}
