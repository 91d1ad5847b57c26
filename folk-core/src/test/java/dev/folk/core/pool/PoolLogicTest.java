package dev.folk.core.pool;

import static dev.folk.core.pool.FakeWorkers.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.folk.core.pool.FakeWorkers.Boot;
import dev.folk.core.pool.FakeWorkers.Fake;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.LogCapture;

/**
 * The pool's logic — dispatch, queueing, exec and boot timeouts, back-off, recycling, failure
 * classification, close — against in-JVM {@link FakeWorkers} on a clock the test moves. Real
 * processes are for what only they show (PoolFaultTest, ChaosTest...); these run in milliseconds.
 * Every test ends by closing the pool and checking that every worker it spawned was stopped
 * exactly once and its exit recorded exactly once.
 */
class PoolLogicTest {

    private FakeWorkers fakes;
    private WorkerPool pool;

    static PoolConfig.Builder config(int size) {
        return PoolConfig.builder("logic", WorkerSpec.builder("fake").build()).size(size).maxJobsJitter(0)
                .maxConcurrentSpawns(2).backoffInitial(Duration.ofMillis(1)).backoffMax(Duration.ofMillis(4))
                .acquireTimeout(Duration.ofSeconds(5)).drainTimeout(Duration.ofSeconds(5))
                .closeWait(Duration.ofMillis(500)).stopGrace(Duration.ofMillis(500));
    }

    private WorkerPool start(PoolConfig.Builder config) {
        return start(config, n -> Boot.READY);
    }

    /** Starts a pool whose n-th spawned worker boots as {@code boots} says. */
    private WorkerPool start(PoolConfig.Builder config, java.util.function.IntFunction<Boot> boots) {
        PoolConfig c = config.build();
        fakes = new FakeWorkers(c.maxFrameLength());
        fakes.boots = boots;
        pool = fakes.pool(c);
        pool.start();
        return pool;
    }

    private WorkerPool ready(PoolConfig.Builder config) {
        start(config);
        assertThat(pool.awaitReady(pool.config().size(), Duration.ofSeconds(5))).as("pool ready").isTrue();
        return pool;
    }

    @AfterEach
    void closeAndCheckEveryWorkerWasStoppedOnce() {
        if (pool == null) {
            return;
        }
        pool.close(Duration.ofMillis(20)); // a call still hanging is killed after this drain timeout
        try {
            assertClosedCleanly(pool, fakes, "");
        } finally {
            fakes.shutdown();
        }
    }

    /**
     * After close: every worker spawned was stopped exactly once and its exit recorded once. A spawn
     * in flight when close() began (a replacement started just before) joins (and is stopped) just
     * after close() returns: waited for, from the moment its spawn() began (its fake is listed
     * only once spawn() returns), and so is its exit's record, which the pool makes once it has
     * seen the worker exit.
     */
    static void assertClosedCleanly(WorkerPool pool, FakeWorkers fakes, String context) {
        await(context + "every spawned worker stopped", () -> fakes.spawning.get() == 0 && pool.snapshot().workers().isEmpty()
                && fakes.spawned.stream().allMatch(f -> f.terminations.get() > 0 && f.exited()));
        long recordDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (exitsRecorded(pool) < fakes.spawned.size() && System.nanoTime() < recordDeadline) {
            LockSupport.parkNanos(100_000); // the assertion below says what is missing, if anything
        }
        PoolSnapshot s = pool.snapshot();
        assertThat(s.state()).as("%sstate after close", context).isEqualTo(PoolState.CLOSED);
        assertThat(s.workers()).as("%sworkers after close", context).isEmpty();
        for (Fake f : fakes.spawned) {
            assertThat(f.exited()).as("%s%s exited", context, f).isTrue();
            assertThat(f.terminations.get()).as("%s%s stopped exactly once", context, f).isEqualTo(1);
        }
        long exits = s.exits().values().stream().mapToLong(Long::longValue).sum();
        assertThat(exits).as("%sone exit recorded per spawned worker: %s", context, s.exits())
                .isEqualTo(fakes.spawned.size());
    }

    private static long exitsRecorded(WorkerPool pool) {
        return pool.snapshot().exits().values().stream().mapToLong(Long::longValue).sum();
    }

    private Fake fake(int pid) {
        return fakes.spawned.stream().filter(f -> f.pid == pid).findFirst().orElseThrow();
    }

    private Fake onlyLive() {
        List<Fake> live = fakes.spawned.stream().filter(f -> !f.exited()).toList();
        assertThat(live).hasSize(1);
        return live.get(0);
    }

    /** The call on the only worker has reached it (its exec deadline is set). */
    private Fake awaitSent() {
        await("a call sent", () -> fakes.spawned.stream().anyMatch(f -> !f.exited() && !f.served.isEmpty()));
        return fakes.spawned.stream().filter(f -> !f.exited() && !f.served.isEmpty()).findFirst().orElseThrow();
    }

    private void awaitBusy(int n) {
        await(n + " busy", () -> pool.snapshot().count(WorkerState.BUSY) == n);
    }

    private void awaitExits(ExitReason reason, long n) {
        await(n + " exits " + reason, () -> pool.snapshot().exits().get(reason) >= n);
        assertThat(pool.snapshot().exits().get(reason)).as("exits %s", reason).isEqualTo(n);
    }

    private static Throwable failure(CompletableFuture<Object> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        return e.getCause();
    }

    // ---------------------------------------------------------------------------------------
    // Dispatch and queueing
    // ---------------------------------------------------------------------------------------

    @Test
    void theMostRecentlyUsedIdleWorkerServesTheNextCall() {
        ready(config(3));
        long first = pool.call("pid", null, Long.class);
        for (int i = 0; i < 20; i++) {
            assertThat(pool.call("pid", null, Long.class)).as("call %d", i).isEqualTo(first);
        }
    }

    @Test
    void aCallerThreadKeepsTheWorkerItLastUsedEvenIfAnotherWasGivenBackSince() throws Exception {
        ready(config(2));
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            Future<Object> held = other.submit(() -> pool.call("wait", null));
            FakeWorkers.await("the other thread's call reached its worker",
                    () -> fakes.spawned.stream().anyMatch(f -> !f.served.isEmpty()));
            Fake x = fakes.spawned.stream().filter(f -> !f.served.isEmpty()).findFirst().orElseThrow();
            long y = pool.call("pid", null, Long.class); // the only idle worker
            assertThat(y).isNotEqualTo(x.pid());
            x.answer("done");
            assertThat(held.get(5, TimeUnit.SECONDS)).isEqualTo("done");
            // x was given back last, so it heads the idle list; each thread still gets its own worker.
            assertThat(other.submit(() -> pool.call("pid", null, Long.class)).get(5, TimeUnit.SECONDS))
                    .isEqualTo((long) x.pid());
            for (int i = 0; i < 20; i++) {
                assertThat(pool.call("pid", null, Long.class)).as("call %d", i).isEqualTo(y);
            }
        } finally {
            other.shutdown(); // no interrupt: a fake worker's read, like read(2), ends only by an abort (at close)
        }
    }

    @Test
    void aCallNeverWaitsWhileAWorkerIsIdle() {
        ready(config(2));
        CompletableFuture<Object> hang = pool.callAsync("hang", null);
        awaitBusy(1);
        for (int i = 0; i < 50; i++) {
            assertThat(pool.call("echo", (long) i)).isEqualTo((long) i);
        }
        assertThat(hang).isNotDone();
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.SUCCESS, 50L);
    }

    @ParameterizedTest(name = "{0} queued calls")
    @ValueSource(ints = {1, 2, 5, 20})
    void waitingCallsGetTheNextWorkerInFifoOrder(int queued) {
        ready(config(1).execTimeout(Duration.ofSeconds(30)));
        CompletableFuture<Object> hang = pool.callAsync("hang", null);
        awaitSent();
        List<CompletableFuture<Object>> waiting = new ArrayList<>();
        for (long i = 0; i < queued; i++) {
            waiting.add(pool.callAsync("echo", i));
        }
        assertThat(pool.queueLength()).isEqualTo(queued);
        fakes.clock.advance(Duration.ofSeconds(31));
        pool.tick();
        assertThat(failure(hang)).isInstanceOf(ExecTimeoutException.class);
        for (int i = 0; i < queued; i++) {
            assertThat(waiting.get(i).join()).isEqualTo((long) i);
        }
        assertThat(onlyLive().served).as("the replacement served the queue in order")
                .containsExactlyElementsOf(IntStream.range(0, queued).mapToObj(i -> (Object) (long) i).toList());
    }

    @ParameterizedTest(name = "max-queue {0}")
    @ValueSource(ints = {0, 1, 3})
    void aFullQueueRejectsAtOnce(int maxQueue) {
        ready(config(1).maxQueue(maxQueue));
        pool.callAsync("hang", null);
        awaitBusy(1);
        for (int i = 0; i < maxQueue; i++) {
            pool.callAsync("echo", i);
        }
        QueueFullException e = assertThrows(QueueFullException.class, () -> pool.call("echo", "x"));
        assertThat(e.getMessage()).contains("'logic'", "max-queue");
        assertThat(failure(pool.callAsync("echo", "y"))).isInstanceOf(QueueFullException.class);
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.QUEUE_FULL, 2L);
        assertThat(pool.queueLength()).isEqualTo(maxQueue);
    }

    @Test
    void anAcquireTimeoutFailsSyncAndAsyncWaiters() {
        ready(config(1).acquireTimeout(Duration.ofMillis(30)));
        pool.callAsync("hang", null);
        awaitBusy(1);
        NoWorkerAvailableException e = assertThrows(NoWorkerAvailableException.class, () -> pool.call("echo", 1));
        assertThat(e.getMessage()).contains("acquire-timeout", "1 busy", "Add workers (size)");
        assertThat(failure(pool.callAsync("echo", 2))).isInstanceOf(NoWorkerAvailableException.class);
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.ACQUIRE_TIMEOUT, 2L);
        assertThat(pool.queueLength()).isZero();
    }

    /** An elastic pool's advice is its max-size, which bounds it; size does nothing there. */
    @Test
    void anElasticPoolsAcquireTimeoutSaysToRaiseMaxSize() {
        ready(config(1).minSize(1).maxSize(2).growAfter(Duration.ofMinutes(1)).acquireTimeout(Duration.ofMillis(30)));
        pool.callAsync("hang", null);
        awaitBusy(1);
        NoWorkerAvailableException e = assertThrows(NoWorkerAvailableException.class, () -> pool.call("echo", 1));
        assertThat(e.getMessage()).contains("Raise max-size (now 2)").doesNotContain("Add workers (size)");
    }

    /**
     * A BROKEN pool with no worker running or starting: a call fails at once (as a reverse proxy
     * answers at once when PHP-FPM is down), not after acquire-timeout, saying to fix the boot.
     */
    @Test
    void aCallToABrokenPoolWithNoWorkerFailsAtOnceSayingToFixTheBootNotToAddWorkers() {
        ready(config(1).acquireTimeout(Duration.ofMinutes(1)).backoffInitial(Duration.ofMinutes(5))
                .backoffMax(Duration.ofMinutes(5)).brokenThreshold(1));
        fakes.boots = n -> Boot.EXIT;
        onlyLive().exit(0, 9);
        await("the pool BROKEN", () -> pool.snapshot().state() == PoolState.BROKEN);
        long t0 = System.nanoTime();
        NoWorkerAvailableException e = assertThrows(NoWorkerAvailableException.class, () -> pool.call("echo", 1));
        assertThat(e.getMessage()).contains("pool BROKEN", "0 busy", "last failure ", " s ago: ", "fix what the last failure says",
                "not queued").doesNotContain("Add workers");
        assertThat(failure(pool.callAsync("echo", 2))).isInstanceOf(NoWorkerAvailableException.class);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("both at once, not after acquire-timeout")
                .isLessThan(5_000);
        assertThat(pool.queueLength()).isZero();
        assertThat(e.retryable()).isTrue();
        // Counted apart from the busy pool's acquire-timeout, whose advice (more workers) would not help here.
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.NO_WORKER, 2L)
                .containsEntry(CallOutcome.ACQUIRE_TIMEOUT, 0L);
        assertThat(CallOutcome.of(e)).isEqualTo(CallOutcome.NO_WORKER);
    }

    @Test
    void tryCallDoesNotWaitOrQueue() {
        ready(config(1));
        assertThat(pool.tryCall("echo", "a", null)).isEqualTo("a");
        pool.callAsync("hang", null);
        awaitBusy(1);
        assertThat(pool.tryCall("echo", "b", null)).isSameAs(WorkerPool.NOT_CALLED);
        assertThat(pool.queueLength()).isZero();
    }

    @Test
    void aRequestTooLargeOrUnencodableLeavesTheWorkerServing() {
        ready(config(1).maxFrameLength(64));
        long pid = pool.call("pid", null, Long.class);
        assertThrows(RequestTooLargeException.class, () -> pool.call("echo", "x".repeat(100)));
        assertThrows(RuntimeException.class, () -> pool.call("echo", new Object()));
        assertThat(pool.call("pid", null, Long.class)).isEqualTo(pid);
        assertThat(pool.snapshot().exits().values()).allMatch(n -> n == 0);
    }

    // ---------------------------------------------------------------------------------------
    // Timeouts decided by the clock
    // ---------------------------------------------------------------------------------------

    @ParameterizedTest(name = "exec-timeout {0} s")
    @ValueSource(ints = {1, 30, 3600})
    void anExecTimeoutKillsTheWorkerAtTheFirstTickPastItsDeadline(int seconds) {
        ready(config(1).execTimeout(Duration.ofSeconds(seconds)));
        CompletableFuture<Object> hang = pool.callAsync("hang", null);
        Fake worker = awaitSent();
        fakes.clock.advance(Duration.ofSeconds(seconds).minusMillis(100));
        pool.tick();
        assertThat(hang).as("before the deadline").isNotDone();
        assertThat(worker.kills.get()).isZero();
        fakes.clock.advance(Duration.ofMillis(200));
        pool.tick();
        ExecTimeoutException e = (ExecTimeoutException) failure(hang);
        assertThat(e.getMessage()).contains("'hang'", "worker " + worker.pid, "exec-timeout");
        assertThat(worker.kills.get()).as("killed, by the tick and again as it is retired").isPositive();
        awaitExits(ExitReason.EXEC_TIMEOUT, 1);
        assertThat(pool.call("echo", "next")).as("a replacement serves").isEqualTo("next");
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.EXEC_TIMEOUT, 1L);
    }

    @ParameterizedTest(name = "boot-timeout {0} s")
    @ValueSource(ints = {1, 10, 60})
    void aWorkerSilentPastItsBootTimeoutIsKilledAndItsSlotBacksOff(int seconds) {
        start(config(1).bootTimeout(Duration.ofSeconds(seconds)), n -> n == 0 ? Boot.HANG : Boot.READY);
        await("a worker starting", () -> pool.snapshot().count(WorkerState.STARTING) == 1);
        fakes.clock.advance(Duration.ofSeconds(seconds).minusMillis(100));
        pool.tick();
        assertThat(fakes.spawned.get(0).exited()).as("before the boot deadline").isFalse();
        fakes.clock.advance(Duration.ofMillis(200));
        pool.tick();
        assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).isTrue();
        awaitExits(ExitReason.BOOT_FAILURE, 1);
        assertThat(pool.lastBootFailure().message()).contains("sent no control.ready within boot-timeout");
        assertThat(pool.snapshot().bootFailures()).isEqualTo(1);
    }

    @Test
    void theHardMemoryLimitKillsAWorkerMidCall() {
        ready(config(1).memoryLimitBytes(100 << 20).memoryCheckInterval(Duration.ofSeconds(1)));
        CompletableFuture<Object> grow = pool.callAsync("grow", 200L << 20);
        awaitSent();
        fakes.clock.advance(Duration.ofSeconds(1));
        pool.tick();
        WorkerMemoryLimitException e = (WorkerMemoryLimitException) failure(grow);
        assertThat(e.getMessage()).contains("'grow'", "memory-limit");
        awaitExits(ExitReason.MEMORY_LIMIT, 1);
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.MEMORY_LIMIT, 1L);
    }

    @Test
    void anIdleWorkerPastTheHardLimitIsKilledAtOnce() {
        ready(config(1).memoryLimitBytes(100 << 20));
        Fake worker = onlyLive();
        worker.rss(150L << 20);
        fakes.clock.advance(Duration.ofSeconds(1));
        pool.tick();
        awaitExits(ExitReason.MEMORY_LIMIT, 1);
        assertThat(worker.kills.get()).isEqualTo(1);
        assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).isTrue();
    }

    // ---------------------------------------------------------------------------------------
    // Recycling: make before break
    // ---------------------------------------------------------------------------------------

    @ParameterizedTest(name = "max-jobs {0}")
    @ValueSource(ints = {1, 2, 3, 5, 8, 13})
    void eachWorkerServesExactlyMaxJobsAndIsReplacedBeforeItGoes(int maxJobs) {
        ready(config(1).maxJobs(maxJobs));
        int calls = 0;
        for (int worker = 0; worker < 4; worker++) {
            for (int j = 0; j < maxJobs; j++) {
                assertThat(fakes.spawned).as("no replacement asked for before call %d", j + 1).hasSize(worker + 1);
                assertThat(pool.call("echo", (long) calls)).isEqualTo((long) calls);
                calls++;
            }
            awaitExits(ExitReason.MAX_JOBS, worker + 1);
            assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).isTrue();
        }
        assertThat(pool.snapshot().recentExits()).allSatisfy(r -> assertThat(r.jobs()).isEqualTo(maxJobs));
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.SUCCESS, (long) calls);
    }

    static Stream<Arguments> clockLimits() {
        return Stream.of(
                Arguments.of(ExitReason.LIFETIME, config(1).maxLifetime(Duration.ofHours(1)), Duration.ofHours(1)),
                Arguments.of(ExitReason.IDLE, config(1).maxIdle(Duration.ofMinutes(10)), Duration.ofMinutes(10)),
                Arguments.of(ExitReason.LIFETIME, config(3).maxLifetime(Duration.ofSeconds(5)), Duration.ofSeconds(5)),
                Arguments.of(ExitReason.IDLE, config(3).maxIdle(Duration.ofSeconds(5)), Duration.ofSeconds(5)));
    }

    @ParameterizedTest(name = "{0} after {2}")
    @MethodSource("clockLimits")
    void lifetimeAndIdleLimitsAreDecidedByTheClock(ExitReason reason, PoolConfig.Builder config, Duration limit) {
        ready(config);
        int size = pool.config().size();
        fakes.clock.advance(limit.minusSeconds(1));
        pool.tick();
        assertThat(fakes.spawned).as("nothing due before the limit").hasSize(size);
        fakes.clock.advance(Duration.ofSeconds(2));
        pool.tick();
        awaitExits(reason, size);
        assertThat(pool.awaitReady(size, Duration.ofSeconds(5))).isTrue();
        assertThat(fakes.spawned).hasSize(2 * size);
    }

    @Test
    void aWorkerOverMaxMemoryIsDueAndReplacedBeforeItGoes() {
        ready(config(2).maxMemoryBytes(50 << 20).memoryLimitBytes(100 << 20));
        Fake big = fakes.spawned.get(0);
        big.rss(60L << 20);
        fakes.clock.advance(Duration.ofSeconds(1));
        pool.tick();
        awaitExits(ExitReason.MEMORY, 1);
        assertThat(big.kills.get()).as("soft: stopped, not killed").isZero();
        assertThat(big.status().exitCode()).as("left on EOF").isZero();
        assertThat(pool.awaitReady(2, Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void aBusyWorkerPastItsLifetimeFinishesItsCallFirst() {
        ready(config(1).maxLifetime(Duration.ofMinutes(1)).execTimeout(Duration.ofHours(1)));
        Fake old = onlyLive();
        CompletableFuture<Object> call = pool.callAsync("wait", null);
        old.awaitSent(1);
        fakes.clock.advance(Duration.ofMinutes(2));
        pool.tick();
        assertThat(old.exited()).isFalse();
        assertThat(call).isNotDone();
        old.answer("done");
        assertThat(call.join()).isEqualTo("done");
        awaitExits(ExitReason.LIFETIME, 1);
        assertThat(old.kills.get()).isZero();
        assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void recycleReplacesTheWorkerBeforeItGoes() {
        ready(config(2));
        int pid = fakes.spawned.get(0).pid;
        assertThat(pool.recycle(pid)).isTrue();
        assertThat(pool.recycle(1)).as("not a worker of this pool").isFalse();
        awaitExits(ExitReason.RECYCLE, 1);
        assertThat(fake(pid).exited()).isTrue();
        assertThat(pool.awaitReady(2, Duration.ofSeconds(5))).isTrue();
    }

    /**
     * A replacement that becomes ready while its due worker is counted but not yet queued (another
     * thread's replenish saw the count and spawned it) still replaces that worker: before, it served
     * as one more worker and the due one waited forever for a replacement, never recycled, and an
     * elastic pool never shrank (ElasticSizeTest's random schedules, seen once on a busy machine).
     */
    @Test
    void aReplacementReadyBeforeItsDueWorkerIsQueuedStillReplacesIt() {
        ready(config(1));
        int pid = fakes.spawned.get(0).pid;
        WorkerLifecycle.afterDueCounted = () -> {
            WorkerLifecycle.afterDueCounted = null;
            Thread other = new Thread(pool::tick, "other-replenish"); // the count is visible to it now
            other.start();
            // Until the replacement serves (a fake boots in microseconds), unless it waits for this worker to be queued.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            while (pool.readyCount() < 2 && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
        };
        try {
            assertThat(pool.recycle(pid)).isTrue();
            awaitExits(ExitReason.RECYCLE, 1);
        } finally {
            WorkerLifecycle.afterDueCounted = null;
        }
        assertThat(fake(pid).exited()).isTrue();
        FakeWorkers.await("the replacement alone, not due", () -> {
            List<WorkerInfo> workers = pool.snapshot().workers();
            return workers.size() == 1 && workers.get(0).pid() != pid && !workers.get(0).leaving();
        });
        assertThat(pool.call("echo", "still serving")).isEqualTo("still serving");
    }

    @ParameterizedTest(name = "size {0}")
    @ValueSource(ints = {1, 2, 4})
    void resetReplacesEveryWorker(int size) throws Exception {
        ready(config(size));
        List<Fake> original = List.copyOf(fakes.spawned);
        try (LogCapture logs = LogCapture.of(WorkerPool.class)) {
            pool.reset().get(5, TimeUnit.SECONDS);
            // The end is said too: when the pool runs only new workers, and what it took.
            assertThat(logs.containing("rolling reset done in")).singleElement().asString()
                    .startsWith("Pool 'logic': rolling reset done in ").endsWith(" ms (" + size + " workers replaced)");
        }
        awaitExits(ExitReason.RESET, size);
        assertThat(original).allMatch(Fake::exited);
        assertThat(pool.awaitReady(size, Duration.ofSeconds(5))).isTrue();
    }

    /** A worker that leaves on its own while a reset runs is not one the reset replaced: the end says so. */
    @Test
    void aResetSaysHowManyOfItsWorkersLeftOnTheirOwnWhileItRan() throws Exception {
        ready(config(2));
        List<Fake> original = List.copyOf(fakes.spawned);
        fakes.boots = n -> {
            // The reset's first new worker starts: one of the old ones leaves by itself now (recycled, say),
            // and the pool has seen it go before that new worker is ready.
            original.get(1).exit(0, 0);
            FakeWorkers.await("the old worker's exit seen", () -> pool.snapshot().workers().stream()
                    .noneMatch(w -> w.pid() == original.get(1).pid()));
            fakes.boots = m -> Boot.READY;
            return Boot.READY;
        };
        try (LogCapture logs = LogCapture.of(WorkerPool.class)) {
            pool.reset().get(5, TimeUnit.SECONDS);
            assertThat(logs.containing("rolling reset done in")).singleElement().asString()
                    .endsWith(" ms (1 workers replaced; 1 more left on their own meanwhile (recycled, crashed) and "
                            + "were replaced as such)");
        }
        assertThat(pool.awaitReady(2, Duration.ofSeconds(5))).isTrue();
    }

    /**
     * A reset is a fresh start: a slot whose boots failed before it (a broken script, since fixed and
     * saved, which is what reload on change resets for) spawns at once, not after its back-off.
     */
    @Test
    void aResetDoesNotWaitForTheBackOffOfBootsThatFailedBeforeIt() throws Exception {
        ready(config(2).backoffInitial(Duration.ofMinutes(5)).backoffMax(Duration.ofMinutes(5)).brokenThreshold(1));
        fakes.boots = n -> Boot.EXIT; // the script broke
        try (LogCapture logs = LogCapture.of(WorkerPool.class)) {
            fakes.spawned.get(0).exit(0, 9);
            // The state changes before its warning is logged, and the failed boot's line comes after
            // that: wait for all three.
            await("the replacement failed, waits its back-off and the pool is logged broken",
                    () -> pool.snapshot().bootFailures() == 1 && pool.state() == PoolState.BROKEN
                            && !logs.warningsContaining("RUNNING -> BROKEN").isEmpty()
                            && !logs.warningsContaining("next attempt in").isEmpty());
            assertThat(logs.warningsContaining("RUNNING -> BROKEN")).as("what an operator alerts on, at WARN").hasSize(1);
            assertThat(logs.warningsContaining("next attempt in")).first().asString()
                    .as("the failed boot's line names its pool once").startsWith("worker ").containsOnlyOnce("pool '");
        }
        fakes.boots = n -> Boot.READY; // and is fixed
        pool.reset().get(5, TimeUnit.SECONDS);
        assertThat(pool.awaitReady(2, Duration.ofSeconds(5))).as("both workers ready, minutes before the back-off ends")
                .isTrue();
        assertThat(pool.state()).isEqualTo(PoolState.RUNNING);
    }

    /** What reload on change asks when a script is saved while a reset runs: failed boots retry at once. */
    @Test
    void aSlotWaitingForItsBackOffBootsAtOnceWhenFailedBootsAreRetried() {
        ready(config(1).backoffInitial(Duration.ofMinutes(5)).backoffMax(Duration.ofMinutes(5)));
        fakes.boots = n -> Boot.EXIT;
        onlyLive().exit(0, 9);
        await("the replacement failed and waits its back-off", () -> pool.snapshot().bootFailures() == 1
                && pool.readyCount() == 0);
        fakes.boots = n -> Boot.READY;
        pool.retryFailedBoots();
        assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).as("ready minutes before the back-off ends").isTrue();
    }

    @Test
    void aRetryWhileAFailedBootIsBeingCountedStillStartsItsSlotAtOnce() {
        ready(config(1).backoffInitial(Duration.ofMinutes(5)).backoffMax(Duration.ofMinutes(5)));
        // Listeners hear of the failure once it is counted and before its slot waits for its back-off:
        // the moment a retry (a fix saved) could otherwise miss it.
        AtomicBoolean retried = new AtomicBoolean();
        pool.addListener(new PoolListener() {
            @Override
            public void bootFailed(WorkerPool p, BootFailure failure) {
                fakes.boots = n -> Boot.READY;
                p.retryFailedBoots();
                retried.set(true);
            }
        });
        fakes.boots = n -> Boot.EXIT;
        onlyLive().exit(0, 9);
        await("the replacement failed and the retry came", retried::get);
        assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).as("ready minutes before the back-off ends").isTrue();
        assertThat(pool.snapshot().bootFailures()).isEqualTo(1);
    }

    @Test
    void aRetriedSlotThatKeepsFailingWaitsItsBackOffBeforeEachSpawnNotTheRestOfAnOldOne() {
        // Every back-off lasts 200 to 400 ms (backoff-max = backoff-initial, jitter halves it at most).
        long minWait = TimeUnit.MILLISECONDS.toNanos(200);
        ready(config(1).backoffInitial(Duration.ofMillis(400)).backoffMax(Duration.ofMillis(400)));
        AtomicInteger failures = new AtomicInteger();
        pool.addListener(new PoolListener() {
            @Override
            public void bootFailed(WorkerPool p, BootFailure failure) {
                if (failures.incrementAndGet() == 1) {
                    p.retryFailedBoots(); // while the first failure's back-off timer runs
                }
            }
        });
        List<Long> spawns = new CopyOnWriteArrayList<>();
        fakes.boots = n -> {
            spawns.add(System.nanoTime());
            return Boot.EXIT;
        };
        onlyLive().exit(0, 9);
        await("eight spawns of the failing slot", () -> spawns.size() >= 8);
        fakes.boots = n -> Boot.READY;
        pool.retryFailedBoots();
        // The first two are the crash's replacement and the retry, at once; each later one waits
        // for the back-off of the failure before it. A timer of a wait the retry cut short that
        // still started the slot would make two chains of spawns, some closer than any back-off.
        for (int i = 2; i < 8; i++) {
            assertThat(spawns.get(i) - spawns.get(i - 1)).as("nanoseconds between spawns %d and %d: %s", i - 1, i, spawns)
                    .isGreaterThanOrEqualTo(minWait);
        }
        assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void aQueuedAsyncCallRunsOnTheThreadThatFreedItsWorker() throws Exception {
        ready(config(1));
        CompletableFuture<Object> first = pool.callAsync("wait", null);
        fakes.spawned.get(0).awaitSent(1);
        CompletableFuture<Object> second = pool.callAsync("echo", 2L);
        fakes.spawned.get(0).answer("done");
        assertThat(first.get(5, TimeUnit.SECONDS)).isEqualTo("done");
        assertThat(second.get(5, TimeUnit.SECONDS)).isEqualTo(2L);
        List<Thread> senders = fakes.spawned.get(0).sentBy;
        assertThat(senders.get(1)).as("no hand-off to another thread").isSameAs(senders.get(0));
    }

    @Test
    void aWorkerThatSaysItExitsKeepsItsAnswerAndGetsNoOtherCall() throws Exception {
        ready(config(1));
        Fake exiting = onlyLive();
        CompletableFuture<Object> first = pool.callAsync("wait", null);
        exiting.awaitSent(1);
        CompletableFuture<Object> queued = pool.callAsync("pid", null); // the only worker goes to it next
        exiting.answerExiting("bye");
        assertThat(first.get(5, TimeUnit.SECONDS)).isEqualTo("bye");
        assertThat(queued.get(5, TimeUnit.SECONDS)).as("run by the replacement").isNotEqualTo((long) exiting.pid);
        awaitExits(ExitReason.EXITED, 1);
        assertThat(pool.snapshot().exits().get(ExitReason.CRASH)).as("no request sent to the exiting worker")
                .isZero();
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.SUCCESS, 2L);
    }

    @Test
    void aCallbackThatBlocksOnThePoolDoesNotHoldUpTheCallHandedToItsThread() throws Exception {
        ready(config(1).acquireTimeout(Duration.ofSeconds(20)));
        CompletableFuture<Object> first = pool.callAsync("wait", null);
        fakes.spawned.get(0).awaitSent(1);
        CompletableFuture<Object> second = pool.callAsync("echo", 2L); // the only worker goes to it next
        // Runs on the async thread that finishes the first call, before that thread could run the second.
        CompletableFuture<Object> inCallback = first.thenApply(r -> pool.call("echo", 3L));
        long t0 = System.nanoTime();
        fakes.spawned.get(0).answer("done");
        assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(2L);
        assertThat(inCallback.get(10, TimeUnit.SECONDS)).isEqualTo(3L);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("passed on within a few ticks, not at the acquire timeout")
                .isLessThan(Duration.ofSeconds(5));
    }

    /**
     * Callbacks of async calls that each call the pool synchronously while every worker is busy:
     * each blocks the async thread that completed its call, with the next queued call (and the
     * only worker) handed to that thread. With a fixed set of async threads all blocked that way,
     * the pool stalled until acquire-timeout failed the callbacks.
     */
    @Test
    void callbacksThatCallThePoolWhileEveryWorkerIsBusyAllComplete() throws Exception {
        ready(config(1).acquireTimeout(Duration.ofSeconds(30)));
        CompletableFuture<Object> first = pool.callAsync("wait", null);
        fakes.spawned.get(0).awaitSent(1);
        int n = 20; // more than the pool's async threads before (size + max-concurrent-spawns + 1 = 4)
        List<CompletableFuture<Object>> chained = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long id = i;
            chained.add(pool.callAsync("echo", id).thenApply(r -> pool.call("echo", (Long) r + 1000)));
        }
        fakes.spawned.get(0).answer("done");
        CompletableFuture.allOf(chained.toArray(CompletableFuture[]::new)).get(15, TimeUnit.SECONDS);
        for (int i = 0; i < n; i++) {
            assertThat(chained.get(i).get()).isEqualTo(i + 1000L);
        }
        assertThat(first.get()).isEqualTo("done");
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.SUCCESS, 2L * n + 1);
    }

    /** The same with callbacks that wait for another async call's future (passed on by the housekeeper's ticks). */
    @Test
    void callbacksThatWaitForAnotherAsyncCallWhileEveryWorkerIsBusyAllComplete() throws Exception {
        ready(config(1).acquireTimeout(Duration.ofSeconds(30)));
        pool.callAsync("wait", null);
        fakes.spawned.get(0).awaitSent(1);
        int n = 12;
        List<CompletableFuture<Object>> chained = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long id = i;
            chained.add(pool.callAsync("echo", id).thenApply(r -> pool.callAsync("echo", (Long) r + 1000).join()));
        }
        fakes.spawned.get(0).answer("done");
        CompletableFuture.allOf(chained.toArray(CompletableFuture[]::new)).get(15, TimeUnit.SECONDS);
        for (int i = 0; i < n; i++) {
            assertThat(chained.get(i).get()).isEqualTo(i + 1000L);
        }
    }

    /**
     * A caller that gives up on a queued async call (cancel, orTimeout, complete, a typed call's
     * cancel): the call leaves the queue at once, freeing its place, and PHP never runs it.
     */
    @Test
    void aQueuedCallWhoseCallerGaveUpLeavesTheQueueAndNeverReachesTheWorker() throws Exception {
        ready(config(1).maxQueue(4).acquireTimeout(Duration.ofSeconds(30)));
        CompletableFuture<Object> first = pool.callAsync("wait", "first");
        Fake worker = fakes.spawned.get(0);
        worker.awaitSent(1);
        CompletableFuture<Object> cancelled = pool.callAsync("echo", "cancelled");
        CompletableFuture<Object> timedOut = pool.callAsync("echo", "timed out").orTimeout(50, TimeUnit.MILLISECONDS);
        CompletableFuture<Object> completed = pool.callAsync("echo", "completed");
        CompletableFuture<String> typed = pool.callAsync("echo", "typed", String.class);
        assertThat(pool.queueLength()).isEqualTo(4);

        cancelled.cancel(true);
        completed.complete("the caller's own");
        typed.cancel(true);
        await("every call the caller gave up on out of the queue", () -> pool.queueLength() == 0);
        assertThat(timedOut).isCompletedExceptionally();
        CompletableFuture<Object> later = pool.callAsync("echo", "later"); // the queue has room again

        worker.answer("done");
        assertThat(first.get(5, TimeUnit.SECONDS)).isEqualTo("done");
        assertThat(later.get(5, TimeUnit.SECONDS)).isEqualTo("later");
        assertThat(pool.call("echo", "after")).isEqualTo("after");
        assertThat(worker.served).containsExactly("first", "later", "after");
        assertThat(completed.get()).isEqualTo("the caller's own");
        // Each is counted just after it left the queue, on the thread that took it out: on a loaded
        // machine that thread may not have counted it yet when the queue is seen empty.
        await("every call given up on counted", () -> pool.snapshot().calls().get(CallOutcome.CANCELLED) >= 4L);
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.CANCELLED, 4L)
                .containsEntry(CallOutcome.SUCCESS, 3L);
    }

    @Test
    void aThreadInterruptedWhileItsCallWaitsForAWorkerGetsCallCancelledAndKeepsItsInterrupt() throws Exception {
        ready(config(1).acquireTimeout(Duration.ofSeconds(30)));
        pool.callAsync("wait", "first");
        Fake worker = fakes.spawned.get(0);
        worker.awaitSent(1);
        CompletableFuture<Throwable> failed = new CompletableFuture<>();
        CompletableFuture<Boolean> stillInterrupted = new CompletableFuture<>();
        Thread caller = new Thread(() -> {
            try {
                pool.call("echo", "interrupted");
                failed.complete(null);
            } catch (Throwable t) {
                failed.complete(t);
            }
            stillInterrupted.complete(Thread.currentThread().isInterrupted());
        });
        caller.start();
        await("the call queued", () -> pool.queueLength() == 1);
        caller.interrupt();

        Throwable t = failed.get(5, TimeUnit.SECONDS);
        assertThat(t).isInstanceOf(CallCancelledException.class)
                .hasMessageContaining("'logic'").hasMessageContaining("'echo'").hasMessageContaining("interrupted")
                .hasMessageContaining("nothing was sent");
        assertThat(((CallException) t).retryable()).isFalse();
        assertThat(stillInterrupted.get(5, TimeUnit.SECONDS)).isTrue();
        assertThat(pool.queueLength()).isZero();
        worker.answer("done");
        assertThat(pool.call("echo", "after")).isEqualTo("after");
        assertThat(worker.served).containsExactly("first", "after");
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.CANCELLED, 1L);
    }

    /**
     * A spawn that returns once close() has looked at the starting workers (or has returned): the
     * worker it made is stopped at once, not left booting until its boot-timeout. A worker that never
     * says ready held the pool's close, and the process, that long (seen as a rare failure of the
     * random schedules: "1 workers still stopping at close").
     */
    @Test
    void aWorkerWhoseSpawnEndsAfterCloseBeganIsStoppedAtOnceNotAtItsBootTimeout() {
        start(config(1).bootTimeout(Duration.ofSeconds(60)), n -> n == 0 ? Boot.READY : Boot.SPAWN_HELD_HANG);
        assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).isTrue();
        assertThat(failure(pool.callAsync("crash", null))).isInstanceOf(WorkerCrashedException.class);
        await("the replacement's spawn under way", () -> fakes.heldSpawns.get() == 1);
        pool.close(Duration.ofMillis(20));
        fakes.releaseSpawns(); // its worker joins a closed pool; @AfterEach checks that it was stopped
    }

    @Test
    void aResetAlsoReplacesAWorkerWhoseSpawnHadBegunAndEndsAtThePoolsSize() throws Exception {
        start(config(2), n -> n == 2 ? Boot.SPAWN_HELD : Boot.READY);
        assertThat(pool.awaitReady(2, Duration.ofSeconds(5))).isTrue();
        // A crash starts a replacement whose spawn is under way (it may read the old code) when the reset begins.
        assertThat(failure(pool.callAsync("crash", null))).isInstanceOf(WorkerCrashedException.class);
        await("the replacement's spawn under way", () -> fakes.heldSpawns.get() == 1);
        Fake survivor = fakes.spawned.stream().filter(f -> !f.exited()).findFirst().orElseThrow();
        CompletableFuture<Void> reset = pool.reset();
        await("the reset's extra worker ready", () -> fakes.spawned.size() == 3 && pool.readyCount() == 2);
        assertThat(reset).as("a reset waits for a worker spawned before it began").isNotDone();
        fakes.releaseSpawns();
        reset.get(5, TimeUnit.SECONDS);
        Fake held = fakes.spawned.get(3); // created once its spawn returned, after the reset's extra
        await("the worker running before the reset replaced", survivor::exited);
        await("the held worker replaced", held::exited);
        await("back to 2 workers", () -> pool.readyCount() == 2 && pool.snapshot().workers().size() == 2);
        assertThat(pool.snapshot().exits().get(ExitReason.RESET)).isEqualTo(2);
    }

    @Test
    void aResetWhoseReplacementsCannotBootGivesUpAndLeavesThePoolAtItsSize() throws Exception {
        start(config(2), n -> n < 2 ? Boot.READY : Boot.EXIT);
        assertThat(pool.awaitReady(2, Duration.ofSeconds(5))).isTrue();
        List<Fake> original = List.copyOf(fakes.spawned);
        CompletableFuture<Void> reset = pool.reset();
        await("a replacement failed to boot", () -> pool.snapshot().bootFailures() >= 1);
        PoolConfig c = pool.config();
        fakes.clock.advance(c.bootTimeout().multipliedBy(2).plus(c.backoffMax()).plusSeconds(1));
        ExecutionException e = assertThrows(ExecutionException.class, () -> reset.get(5, TimeUnit.SECONDS));
        assertThat(e.getCause()).hasMessageContaining("stopped after replacing 0 workers")
                .hasMessageContaining("no replacement became ready");
        // The old workers keep serving, and once boots succeed again no extra worker joins them.
        fakes.boots = n -> Boot.READY;
        assertThat(pool.call("echo", 1L)).isEqualTo(1L);
        await("the reset's extra worker gone", () -> pool.snapshot().workers().size() == 2 && fakes.alive() == 2);
        assertThat(original).noneMatch(Fake::exited);
        assertThat(pool.snapshot().sizing().target()).isEqualTo(2);
    }

    // ---------------------------------------------------------------------------------------
    // Failure classification
    // ---------------------------------------------------------------------------------------

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of("crash", WorkerCrashedException.class, CallOutcome.WORKER_CRASHED, ExitReason.CRASH, "exit 3"),
                Arguments.of("exit0", WorkerCrashedException.class, CallOutcome.WORKER_CRASHED,
                        ExitReason.UNEXPECTED_EXIT, "exit 0"),
                Arguments.of("bad-msgid", WorkerProtocolException.class, CallOutcome.PROTOCOL_ERROR,
                        ExitReason.PROTOCOL_ERROR, "out of sync"),
                Arguments.of("garbage", WorkerProtocolException.class, CallOutcome.PROTOCOL_ERROR,
                        ExitReason.PROTOCOL_ERROR, "frame of length 0"),
                Arguments.of("error", WorkerErrorException.class, CallOutcome.APPLICATION_ERROR, null, "-32603"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failures")
    void eachFailureIsNamedAndCountedAndTheWorkerReplacedIfItBroke(String method, Class<? extends CallException> type,
                                                                   CallOutcome outcome, ExitReason exit, String detail) {
        ready(config(1));
        Fake worker = onlyLive();
        CallException e = assertThrows(type, () -> pool.call(method, "p"));
        assertThat(e.getMessage()).contains("'" + method + "'", "'logic'", "worker " + worker.pid, detail);
        assertThat(pool.snapshot().calls()).containsEntry(outcome, 1L);
        if (exit == null) {
            assertThat(pool.call("pid", null, Long.class)).as("the same worker serves on").isEqualTo(worker.pid);
        } else {
            awaitExits(exit, 1);
            assertThat(pool.call("echo", "after")).isEqualTo("after");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"unread", "send-fails"})
    void aRequestNoWorkerReadIsRetriedOnAnotherAtMostThreeTimes(String method) {
        ready(config(1));
        WorkerCrashedException e = assertThrows(WorkerCrashedException.class, () -> pool.call(method, "p"));
        assertThat(e.getMessage()).contains("'" + method + "'");
        awaitExits(ExitReason.CRASH, 4);
        assertThat(pool.snapshot().calls()).as("the retries are not separate calls").doesNotContainEntry(
                CallOutcome.WORKER_CRASHED, 4L);
    }

    @Test
    void aCallWhoseWorkerDiedBeforeReadingSucceedsOnAnother() {
        ready(config(2));
        Fake dying = fakes.spawned.get(0);
        dying.dies = true;
        for (long i = 0; i < 10; i++) {
            assertThat(pool.call("echo", i)).isEqualTo(i);
        }
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.SUCCESS, 10L)
                .containsEntry(CallOutcome.WORKER_CRASHED, 0L);
    }

    @Test
    void aWorkerThatExitsWhileIdleIsReplaced() {
        ready(config(1));
        Fake worker = onlyLive();
        pool.call("echo", 1);
        worker.exit(0, 9);
        awaitExits(ExitReason.CRASH, 1);
        assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).isTrue();
        assertThat(pool.lastFailure()).contains("exited while idle");
    }

    // ---------------------------------------------------------------------------------------
    // Boots, back-off, BROKEN
    // ---------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} failed boots, threshold {1}")
    @MethodSource("bootFailureCounts")
    void failedBootsBackOffAndMarkThePoolBrokenUntilOneSucceeds(int failures, int threshold) {
        List<PoolState> states = new CopyOnWriteArrayList<>();
        PoolConfig c = config(1).brokenThreshold(threshold).build();
        fakes = new FakeWorkers(c.maxFrameLength());
        fakes.boots = n -> n < failures ? Boot.EXIT : Boot.READY;
        pool = fakes.pool(c);
        pool.addListener(new PoolListener() {
            @Override
            public void stateChanged(WorkerPool p, PoolState from, PoolState to) {
                states.add(to);
            }
        });
        pool.start();
        await("ready after " + failures + " failures", () -> pool.readyCount() == 1);
        assertThat(pool.snapshot().bootFailures()).isEqualTo(failures);
        awaitExits(ExitReason.BOOT_FAILURE, failures);
        if (failures >= threshold) {
            assertThat(states).containsExactly(PoolState.STARTING, PoolState.BROKEN, PoolState.RUNNING);
        } else {
            assertThat(states).containsExactly(PoolState.STARTING, PoolState.RUNNING);
        }
        if (failures > 0) {
            assertThat(pool.lastBootFailure().output()).anyMatch(l -> l.contains("Parse error"));
            assertThat(pool.lastBootFailure().message()).contains("ended before control.ready", "exit 1");
        }
    }

    static Stream<Arguments> bootFailureCounts() {
        return Stream.of(Arguments.of(0, 1), Arguments.of(1, 2), Arguments.of(2, 2), Arguments.of(4, 5),
                Arguments.of(5, 5), Arguments.of(8, 3));
    }

    @Test
    void awaitReadyGivesUpOnceEveryBootFailsAlike() {
        start(config(1).backoffInitial(Duration.ofMillis(1)), n -> Boot.EXIT);
        long t0 = System.nanoTime();
        assertThat(pool.awaitReady(1, Duration.ofSeconds(30))).isFalse();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(5000);
        assertThat(pool.snapshot().bootFailures()).isGreaterThanOrEqualTo(WorkerPool.FAIL_FAST_AFTER);
    }

    @Test
    void awaitReadyReturnsAtOnceWhenTheSupervisorShutsDownWhileWorkersBoot() throws Exception {
        start(config(2), n -> Boot.HANG);
        CompletableFuture<Boolean> ready = CompletableFuture.supplyAsync(() -> pool.awaitReady(2, Duration.ofSeconds(30)));
        FakeWorkers.await("two booting workers", () -> fakes.alive() == 2);
        assertThat(pool.stopped()).isFalse();
        assertThat(ready).isNotDone();

        // What Supervisor.killAndReapAll does (a JVM shutdown hook during start-up): no spawn succeeds any more.
        fakes.closed = true;
        fakes.spawned.forEach(f -> f.exit(0, 9));

        // Not after the 30 s without progress: nothing can become ready now.
        assertThat(ready.get(3, TimeUnit.SECONDS)).isFalse();
        assertThat(pool.stopped()).isTrue();
    }

    @Test
    void anInterruptedAwaitReadyReturnsAtOnceAndKeepsTheInterrupt() throws Exception {
        start(config(2), n -> Boot.HANG);
        FakeWorkers.await("two booting workers", () -> fakes.alive() == 2);
        CompletableFuture<String> waited = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            long t0 = System.nanoTime();
            boolean ready = pool.awaitReady(2, Duration.ofSeconds(30));
            waited.complete(ready + " after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms, interrupted "
                    + Thread.currentThread().isInterrupted());
        });
        waiter.start();
        FakeWorkers.await("the waiter parked", () -> waiter.getState() == Thread.State.TIMED_WAITING);
        waiter.interrupt();

        // Before: park returned at once for the rest of the 30 s, a core spinning.
        String result = waited.get(3, TimeUnit.SECONDS);
        assertThat(result).startsWith("false after ").endsWith("interrupted true");
        assertThat(pool.stopped()).isFalse();
    }

    @Test
    void aSpawnThatFailsIsABootFailure() {
        try (LogCapture logs = LogCapture.of(WorkerPool.class)) {
            start(config(1), n -> n < 2 ? Boot.SPAWN_FAILS : Boot.READY);
            assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).isTrue();
            assertThat(pool.snapshot().bootFailures()).isEqualTo(2);
            assertThat(pool.snapshot().spawns()).isEqualTo(1);
            await("both failures logged", () -> logs.warningsContaining("next attempt in").size() == 2);
            assertThat(logs.warningsContaining("next attempt in")).first().asString()
                    .as("the failure's own sentence, then the attempt: no '.;'").contains("Install it; next attempt in");
        }
    }

    @Test
    void aWrongFirstMessageIsABootFailure() {
        start(config(1), n -> n == 0 ? Boot.WRONG_MESSAGE : Boot.READY);
        assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).isTrue();
        awaitExits(ExitReason.BOOT_FAILURE, 1);
        assertThat(pool.lastBootFailure().message()).contains("failed its handshake", "control.ready");
    }

    @Test
    void aWorkerKilledFromOutsideWhileStartingIsReplacedWithoutCountingABootFailure() {
        start(config(1), n -> n == 0 ? Boot.KILLED : Boot.READY);
        assertThat(pool.awaitReady(1, Duration.ofSeconds(5))).isTrue();
        awaitExits(ExitReason.CRASH, 1);
        assertThat(pool.snapshot().bootFailures()).isZero();
    }

    // ---------------------------------------------------------------------------------------
    // Close
    // ---------------------------------------------------------------------------------------

    @Test
    void closeFailsCallsStillQueuedAndKillsCallsStillRunningWhenTheDrainTimeoutEnds() {
        ready(config(1));
        CompletableFuture<Object> hang = pool.callAsync("hang", null);
        awaitSent();
        CompletableFuture<Object> waiting = pool.callAsync("echo", 1);
        pool.close(Duration.ofMillis(20));
        assertThat(failure(waiting)).isInstanceOf(PoolClosedException.class)
                .hasMessageContaining("drain-timeout 20ms ended before a worker was free");
        assertThat(failure(hang)).isInstanceOf(PoolClosedException.class)
                .as("the drain timeout close() was given, not the configured one")
                .hasMessageContaining("ran past drain-timeout 20ms");
        assertThrows(PoolClosedException.class, () -> pool.call("echo", 2));
        assertThat(pool.snapshot().exits()).containsEntry(ExitReason.SHUTDOWN, 1L);
    }

    @Test
    void closeLetsABusyCallFinishWithinTheDrainTimeout() throws Exception {
        ready(config(2));
        CompletableFuture<Object> call = pool.callAsync("wait", null);
        await("the call sent", () -> fakes.spawned.stream().anyMatch(f -> !f.served.isEmpty()));
        Fake busy = fakes.spawned.stream().filter(f -> !f.served.isEmpty()).findFirst().orElseThrow();
        CompletableFuture<Void> closed = CompletableFuture.runAsync(() -> pool.close(Duration.ofSeconds(5)));
        await("draining", () -> pool.state() == PoolState.DRAINING);
        assertThat(closed).isNotDone();
        busy.answer("done");
        assertThat(call.get(5, TimeUnit.SECONDS)).isEqualTo("done");
        closed.get(5, TimeUnit.SECONDS);
        assertThat(pool.snapshot().exits()).containsEntry(ExitReason.SHUTDOWN, 2L);
        assertThat(fakes.spawned).allMatch(f -> f.status().exitCode() == 0 && !f.status().killedBySignal());
    }

    /** As ExecutorService.shutdown() runs the tasks submitted before it: the queued calls run, in order, on the worker given back. */
    @Test
    void closeRunsTheCallsQueuedBeforeItOnTheWorkerGivenBackAndThenStopsIt() throws Exception {
        ready(config(1));
        CompletableFuture<Object> call = pool.callAsync("wait", null);
        Fake busy = awaitSent();
        CompletableFuture<Object> first = pool.callAsync("echo", 1L);
        CompletableFuture<Object> second = pool.callAsync("echo", 2L);
        await("two calls queued", () -> pool.queueLength() == 2);
        CompletableFuture<Void> closed = CompletableFuture.runAsync(() -> pool.close(Duration.ofSeconds(5)));
        await("draining", () -> pool.state() == PoolState.DRAINING);
        assertThrows(PoolClosedException.class, () -> pool.call("echo", 3L));
        assertThat(first).isNotDone();
        assertThat(closed).isNotDone();
        busy.answer("done");
        assertThat(call.get(5, TimeUnit.SECONDS)).isEqualTo("done");
        assertThat(first.get(5, TimeUnit.SECONDS)).isEqualTo(1L);
        assertThat(second.get(5, TimeUnit.SECONDS)).isEqualTo(2L);
        closed.get(5, TimeUnit.SECONDS);
        assertThat(busy.served).containsExactly("null", 1L, 2L);
        assertThat(fakes.spawned).hasSize(1);
        assertThat(pool.snapshot().exits()).containsEntry(ExitReason.SHUTDOWN, 1L);
        assertThat(busy.status().exitCode()).isZero(); // stopped gracefully once nothing was queued
    }

    /**
     * A call that holds its worker but has not sent anything when the drain timeout passes (an async
     * call whose thread is slow to run it): close stops the worker at once instead of waiting for a
     * call that, the pool closed, nothing would ever time out, and the call fails without sending.
     */
    @Test
    void closeStopsAWorkerHeldByACallNotYetSentAndTheCallFailsWithoutSending() throws Exception {
        ready(config(1));
        CompletableFuture<Object> held = pool.callAsync("held-unsent", "x");
        assertThat(fakes.unsentHeld.await(5, TimeUnit.SECONDS)).as("the call holds the worker, unsent").isTrue();
        Fake worker = fakes.spawned.get(0);
        CompletableFuture<Void> closed = CompletableFuture.runAsync(() -> pool.close(Duration.ofMillis(20)));
        // Bounded well below the 3 s (plus stop-grace and close-wait) close would wait for a worker still busy.
        closed.get(2, TimeUnit.SECONDS);
        await("the held worker stopped by close, before its call went on", worker::exited);
        fakes.releaseUnsent();
        assertThat(failure(held)).isInstanceOf(PoolClosedException.class).hasMessageContaining("drain-timeout");
        assertThat(worker.served).as("requests the held worker read").isEmpty();
        assertThat(pool.snapshot().exits()).containsEntry(ExitReason.SHUTDOWN, 1L);
    }

    // ---------------------------------------------------------------------------------------
    // Randomised schedules
    // ---------------------------------------------------------------------------------------

    @Test
    void randomSchedulesKeepEveryPromise() {
        for (long seed = 1; seed <= RandomSchedule.SEEDS; seed++) {
            try {
                new RandomSchedule(seed).run();
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("random schedule failed with seed " + seed
                        + " (rerun it: new RandomSchedule(" + seed + ").run()): " + e.getMessage(), e);
            }
        }
        pool = null; // each schedule closed and checked its own pool
    }
}
