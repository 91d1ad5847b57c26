package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.folk.core.os.Os;
import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.LogCapture;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/** Workers that break the protocol, hang, crash or die: each call fails cleanly and the pool recovers. */
class PoolFaultTest {

    private static Supervisor supervisor;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        supervisor = new Supervisor();
    }

    @AfterAll
    static void stop() {
        supervisor.close();
    }

    /** A one-worker pool whose first worker misbehaves in {@code mode}; replacements behave. */
    private WorkerPool misbehavingOnce(String mode, PoolConfig.Builder extra) {
        WorkerSpec spec = PhpWorkers.rawWorker(Workers.newTag(), mode, tmp.resolve(mode + ".marker").toString())
                .build();
        PoolConfig.Builder b = extra != null ? extra : PoolConfig.builder(mode, spec);
        WorkerPool pool = WorkerPool.start(b.size(1).build(), supervisor);
        return pool;
    }

    private static long elapsedMs(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    private static void assertBackToFullSize(WorkerPool pool) {
        Procs.await(Duration.ofSeconds(10), "pool '" + pool.name() + "' back to full size",
                () -> pool.snapshot().ready() == pool.config().size());
        assertThat(pool.call("echo", "after")).isEqualTo("after");
    }

    @Test
    void aWrongMsgidFailsTheCallAsAProtocolErrorAndTheWorkerIsReplaced() {
        WorkerPool pool = misbehavingOnce("wrong-msgid", null);
        try {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            int pid = pool.snapshot().workers().get(0).pid();
            long t0 = System.nanoTime();
            WorkerProtocolException e = assertThrows(WorkerProtocolException.class, () -> pool.call("echo", "x"));
            assertThat(elapsedMs(t0)).isLessThan(1000);
            assertThat(e.pid()).isEqualTo(pid);
            assertThat(e.getMessage()).contains("msgid", "'wrong-msgid'", "worker " + pid);
            assertBackToFullSize(pool);
            Procs.await(Duration.ofSeconds(5), "exit recorded as protocol-error",
                    () -> pool.snapshot().exits().get(ExitReason.PROTOCOL_ERROR) == 1L);
            Procs.await(Duration.ofSeconds(5), "the bad worker is reaped", () -> !Procs.alive(pid));
        } finally {
            pool.close();
        }
    }

    @Test
    void announcedTwoGigabyteFrameIsRefusedWithoutAllocatingIt() {
        WorkerPool pool = misbehavingOnce("huge-frame", null);
        try {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = threads.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            WorkerProtocolException e = assertThrows(WorkerProtocolException.class, () -> pool.call("echo", "x"));
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertThat(elapsedMs(t0)).isLessThan(1000);
            assertThat(e.getCause()).hasMessageContaining("2147483647");
            assertThat(allocated).as("bytes allocated by the failing call").isLessThan(8L * 1024 * 1024);
            assertBackToFullSize(pool);
        } finally {
            pool.close();
        }
    }

    /**
     * An Error while the params are encoded (a large frame finding no heap is the one callers meet):
     * the worker, which saw nothing, goes back to the pool, through every way of calling. Kept, it
     * would stay acquired for good, with no call and no deadline to end it.
     */
    @Test
    void anErrorWhileEncodingTheParamsGivesTheWorkerBack() throws Exception {
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("encode-error", PhpWorkers.rawWorker(Workers.newTag(), "echo")
                .build()).size(1).build(), supervisor);
        try {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            Map<String, Object> unencodable = new java.util.AbstractMap<>() {
                @Override
                public java.util.Set<Entry<String, Object>> entrySet() {
                    throw new OutOfMemoryError("no heap for this frame (test)");
                }

                @Override
                public int size() {
                    return 1;
                }
            };
            assertThrows(OutOfMemoryError.class, () -> pool.call("echo", unencodable));
            assertThrows(OutOfMemoryError.class, () -> pool.tryCall("echo", unencodable, null));
            assertThat(assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> pool.callAsync("echo", unencodable).get(10, TimeUnit.SECONDS)).getCause())
                    .isInstanceOf(OutOfMemoryError.class);
            assertThat(pool.snapshot().count(WorkerState.IDLE)).as("idle workers after three failed encodings").isEqualTo(1);
            assertThat(pool.call("echo", "after")).isEqualTo("after");
            assertThat(pool.snapshot().exits().values().stream().mapToLong(Long::longValue).sum()).isZero();
        } finally {
            pool.close();
        }
    }

    @Test
    void zeroLengthFrameAndGarbageAreProtocolErrors() {
        for (String mode : List.of("zero-frame", "garbage")) {
            WorkerPool pool = misbehavingOnce(mode, null);
            try {
                assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
                long t0 = System.nanoTime();
                assertThrows(WorkerProtocolException.class, () -> pool.call("echo", "x"), mode);
                assertThat(elapsedMs(t0)).as(mode).isLessThan(1000);
                assertBackToFullSize(pool);
            } finally {
                pool.close();
            }
        }
    }

    @Test
    void aWorkerThatDiesMidCallFailsItWithItsExitStatus() {
        WorkerPool pool = misbehavingOnce("die-mid-call", null);
        try {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            long t0 = System.nanoTime();
            WorkerCrashedException e = assertThrows(WorkerCrashedException.class, () -> pool.call("echo", "x"));
            assertThat(elapsedMs(t0)).isLessThan(1000);
            assertThat(e.exit()).isEqualTo("exit 9");
            assertThat(e.getMessage()).contains("crashed", "exit 9", "'die-mid-call'");
            assertBackToFullSize(pool);
            assertThat(pool.snapshot().exits()).containsEntry(ExitReason.CRASH, 1L);
        } finally {
            pool.close();
        }
    }

    /**
     * A background job the worker started (PHP's {@code exec('job &')}) holds its ends of both
     * sockets after it dies: its death, seen through its pidfd, must still end the call at once,
     * with how it ended, not at exec-timeout; the job goes with the worker's group.
     */
    @Test
    void aWorkerThatDiesMidCallLeavingAJobThatHoldsItsSocketsFailsTheCallAtOnce() {
        String tag = Workers.newTag();
        WorkerSpec spec = PhpWorkers.rawWorker(tag, "die-mid-call-with-child", tmp.resolve("marker").toString()).build();
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("job-holds-socket", spec).size(1)
                .execTimeout(Duration.ofSeconds(30)).build(), supervisor);
        try {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            long t0 = System.nanoTime();
            WorkerCrashedException e = assertThrows(WorkerCrashedException.class, () -> pool.call("echo", "x"));
            assertThat(elapsedMs(t0)).as("ended by the worker's exit, not by exec-timeout (30 s)").isLessThan(5000);
            assertThat(e.exit()).isEqualTo("exit 9");
            assertBackToFullSize(pool);
            Procs.await(Duration.ofSeconds(10), "the job gone with the dead worker's group, the new worker alone",
                    () -> Procs.aliveWithEnv(Workers.RUN_TAG, tag).size() == 1);
        } finally {
            pool.close();
        }
    }

    /** The same job started before the handshake: the failed boot is seen at once, not at boot-timeout. */
    @Test
    void aWorkerThatDiesBootingLeavingAJobThatHoldsItsSocketsIsAFailedBootAtOnce() {
        String tag = Workers.newTag();
        WorkerSpec spec = PhpWorkers.rawWorker(tag, "die-booting-with-child", tmp.resolve("marker").toString()).build();
        long t0 = System.nanoTime();
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("job-holds-control", spec).size(1)
                .bootTimeout(Duration.ofSeconds(30)).build(), supervisor);
        try {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).as("the replacement ready").isTrue();
            assertThat(elapsedMs(t0)).as("the failed boot seen at the exit, not at boot-timeout (30 s)").isLessThan(5000);
            assertThat(pool.call("echo", "after")).isEqualTo("after");
            Procs.await(Duration.ofSeconds(10), "the job gone with the dead worker's group, the new worker alone",
                    () -> Procs.aliveWithEnv(Workers.RUN_TAG, tag).size() == 1);
        } finally {
            pool.close();
        }
    }

    /**
     * A worker that answers a request twice: the next call, which did nothing wrong, still gets its
     * own answer (the stale one is dropped), and the worker is replaced after it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"answer-twice", "answer-twice-late"})
    void aSecondAnswerToAnEarlierRequestIsDroppedAndTheWorkerReplaced(String mode) {
        WorkerPool pool = misbehavingOnce(mode, null);
        try {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            int pid = pool.snapshot().workers().get(0).pid();
            assertThat(pool.call("echo", "one")).isEqualTo("one");
            assertThat(pool.call("echo", "two")).as("the call after the repeated answer").isEqualTo("two");
            assertThat(pool.call("echo", "three")).isEqualTo("three");
            Procs.await(Duration.ofSeconds(5), "exit recorded as protocol-error",
                    () -> pool.snapshot().exits().get(ExitReason.PROTOCOL_ERROR) == 1L);
            Procs.await(Duration.ofSeconds(5), "the worker out of sync is reaped", () -> !Procs.alive(pid));
            assertBackToFullSize(pool);
        } finally {
            pool.close();
        }
    }

    @Test
    void aWorkerThatNeverSaysReadyIsStoppedAtTheBootTimeoutAndReplaced() {
        WorkerSpec spec = PhpWorkers.rawWorker(Workers.newTag(), "never-ready", tmp.resolve("nr.marker").toString())
                .build();
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("never-ready", spec).size(1)
                .bootTimeout(Duration.ofMillis(800)).acquireTimeout(Duration.ofMillis(300)).build(), supervisor);
        try {
            long t0 = System.nanoTime();
            NoWorkerAvailableException e = assertThrows(NoWorkerAvailableException.class, () -> pool.call("echo", "x"));
            assertThat(elapsedMs(t0)).isBetween(290L, 1300L);
            assertThat(e.getMessage()).contains("1 starting");
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            assertThat(elapsedMs(t0)).as("replaced after the 800 ms boot timeout").isGreaterThanOrEqualTo(800);
            assertThat(pool.snapshot().bootFailures()).isEqualTo(1);
            assertThat(pool.snapshot().lastFailure()).contains("boot-timeout");
            assertBackToFullSize(pool);
        } finally {
            pool.close();
        }
    }

    /**
     * folk-worker-php answers a call whose handler ends with a fatal error, with PHP's message, and says
     * the worker exits: the caller gets the cause, not a crash, and the pool replaces the worker.
     */
    @Test
    void aPhpFatalErrorIsAnsweredWithItsMessageAndTheNextCallSucceeds() {
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("fatal", PhpWorkers.testWorker(Workers.newTag()).build())
                .size(1).build(), supervisor);
        try (LogCapture logs = LogCapture.of(WorkerPool.class)) {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            int pid = PoolTesting.pids(pool).iterator().next();
            // Labelled as the gateway labels a call: the exit's warning names the request, as nginx's error log would.
            WorkerErrorException e = assertThrows(WorkerErrorException.class, () -> pool.tryCall("fatal", null, "GET /w/oom"));
            assertThat(e.code()).isEqualTo(WorkerErrorException.INTERNAL_ERROR);
            assertThat(e.getMessage()).contains("'fatal'", "ended the PHP process with a fatal error: Allowed memory size "
                    + "of 33554432 bytes exhausted", "test-worker.php on line");
            assertThat(pool.call("echo", "next")).isEqualTo("next");
            Procs.await(Duration.ofSeconds(5), "the worker's exit recorded as exited",
                    () -> pool.snapshot().exits().get(ExitReason.EXITED) == 1);
            assertThat(pool.snapshot().exits().get(ExitReason.CRASH)).isZero();
            Procs.await(Duration.ofSeconds(5), "the exit logged", () -> !logs.warningsContaining("Worker " + pid).isEmpty());
            assertThat(logs.warningsContaining("Worker " + pid)).singleElement().asString()
                    .contains("exited after an answer to GET /w/oom that said it would (a PHP fatal error");
        } finally {
            pool.close();
        }
    }

    /**
     * A result nested deeper than the master reads fails its call, but the frame was whole and the
     * worker is in step: it serves on (it used to be killed as a protocol breaker, with advice
     * about fd 3 that had nothing to do with it).
     */
    @Test
    void aResultNestedDeeperThanTheMasterReadsFailsItsCallAndTheWorkerServesOn() {
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("deep", PhpWorkers.testWorker(Workers.newTag()).build())
                .size(1).build(), supervisor);
        try {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            int pid = pool.call("pid", null, Integer.class);
            Object deepest = pool.call("nest", 255); // 256 levels with the message array: the most read
            for (int level = 0; level < 255; level++) {
                deepest = ((List<?>) deepest).get(0);
            }
            assertThat(deepest).isEqualTo("bottom");
            for (int levels : new int[] {256, 300, 3000}) {
                WorkerErrorException e = assertThrows(WorkerErrorException.class, () -> pool.call("nest", levels));
                assertThat(e.code()).isEqualTo(WorkerErrorException.INTERNAL_ERROR);
                assertThat(e.getMessage()).contains("'nest'", "'deep'", String.valueOf(pid),
                        "nested deeper than 256 levels", "return a flatter value");
            }
            assertThat(pool.call("pid", null, Integer.class)).as("the same worker").isEqualTo(pid);
            assertThat(pool.snapshot().exits().values().stream().mapToLong(Long::longValue).sum()).isZero();
            assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.APPLICATION_ERROR, 3L);
        } finally {
            pool.close();
        }
    }

    @Test
    void execTimeoutKillsTheWorkerAndItsChildAndTheNextCallSucceeds() {
        String tag = Workers.newTag();
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("timeout", PhpWorkers.testWorker(tag).build()).size(1)
                .execTimeout(Duration.ofSeconds(1)).build(), supervisor);
        try {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            int pid = pool.snapshot().workers().get(0).pid();
            long t0 = System.nanoTime();
            ExecTimeoutException e = assertThrows(ExecTimeoutException.class,
                    () -> pool.call("sleep_with_child", 60L));
            long ms = elapsedMs(t0);
            assertThat(ms).as("exec-timeout 1 s, plus at most 1 s").isBetween(1000L, 2000L);
            assertThat(e.pid()).isEqualTo(pid);
            assertThat(e.getMessage()).contains("exec-timeout", "'sleep_with_child'", "'timeout'");
            assertThat(pool.call("echo", "next")).isEqualTo("next");
            Procs.await(Duration.ofSeconds(5), "worker and its sleep child gone",
                    () -> !Procs.alive(pid) && Procs.aliveWithEnv(Workers.RUN_TAG, tag).size() == 1);
            Procs.await(Duration.ofSeconds(5), "exit recorded as exec-timeout",
                    () -> pool.snapshot().exits().get(ExitReason.EXEC_TIMEOUT) == 1L);
        } finally {
            pool.close();
        }
    }

    /**
     * The warning for a worker's exit quotes its last output; a long-lived worker may have printed
     * it for an earlier request (a fatal error of another page), and the warning must not pass it
     * off as the words of the call that ended it.
     */
    @Test
    void anExitsWarningSaysWhenTheWorkersLastOutputCameBeforeItsLastCall() {
        String tag = Workers.newTag();
        Path output = tmp.resolve("worker-output.log");
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("last-words", PhpWorkers.testWorker(tag)
                .output(OutputPolicy.appendTo(output)).build()).size(1).execTimeout(Duration.ofSeconds(1)).build(),
                supervisor);
        try (LogCapture log = LogCapture.of(WorkerPool.class)) {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            assertThat(pool.call("say", List.of("an earlier request's warning", 0L))).isEqualTo("said");
            awaitInFile(output, "an earlier request's warning");
            assertThrows(ExecTimeoutException.class, () -> pool.call("sleep", 60_000L));
            Procs.await(Duration.ofSeconds(10), "the first exit's warning",
                    () -> log.warningsContaining("exited: exec-timeout").size() == 1);
            assertThat(log.warningsContaining("exited: exec-timeout").get(0))
                    .contains("its last output, printed before its last call began (",
                            " before this), so not about that call:", "an earlier request's warning");

            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            assertThrows(ExecTimeoutException.class, () -> pool.call("say", List.of("this call's warning", 60_000L)));
            Procs.await(Duration.ofSeconds(10), "the second exit's warning",
                    () -> log.warningsContaining("exited: exec-timeout").size() == 2);
            assertThat(log.warningsContaining("exited: exec-timeout").get(1))
                    .contains("; its last output:", "this call's warning").doesNotContain("before its last call");
        } finally {
            pool.close();
        }
    }

    /**
     * Output a call leaves without a newline is its own line once the call is answered, as PHP-FPM
     * logs a request's, not glued to what the next call writes (within the I/O loop's quiet time).
     */
    @Test
    void outputACallLeftWithoutANewlineIsALineOfItsOwnBeforeTheNextCallWrites() throws IOException {
        String tag = Workers.newTag();
        Path output = tmp.resolve("partial-output.log");
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("partial", PhpWorkers.testWorker(tag)
                .output(OutputPolicy.appendTo(output)).build()).size(1).build(), supervisor);
        try {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            // 50 ms: the I/O loop has the fragment before the answer comes, well within its 200 ms quiet time.
            assertThat(pool.call("say_partial", List.of("PARTIAL-A", 50L))).isEqualTo("said");
            assertThat(pool.call("say", List.of("the next call's line", 0L))).isEqualTo("said");
            awaitInFile(output, "the next call's line");
            List<String> lines = Files.readAllLines(output);
            assertThat(lines).anyMatch(l -> l.endsWith("stderr: PARTIAL-A"))
                    .anyMatch(l -> l.endsWith("stderr: the next call's line"))
                    .noneMatch(l -> l.contains("PARTIAL-Athe next"));
        } finally {
            pool.close();
        }
    }

    /**
     * A line a worker writes during a call names the call in the MDC ({@code folk.worker.call}: its
     * label, the HTTP request line for the gateway, else its method), so that an operator finds the
     * PHP lines of one request; {@code folk.worker.pid} names the worker.
     */
    @Test
    void aLineWrittenDuringACallNamesTheCallInTheMdc() {
        WorkerPool pool = readyTestPool("named");
        try (LogCapture logs = LogCapture.of("dev.folk.worker.php-test")) { // the worker spec's name
            // 300 ms: the I/O loop reads the line while the call is still under way.
            assertThat(pool.tryCall("say", List.of("during the labelled call", 300L), "GET /orders/7")).isEqualTo("said");
            assertThat(pool.call("say", List.of("during the plain call", 300L))).isEqualTo("said");
            Procs.await(Duration.ofSeconds(10), "both lines logged", () -> logs.containing("during the plain call").size() == 1);
            int pid = PoolTesting.pids(pool).iterator().next();
            assertThat(logs.mdcContaining("during the labelled call")).singleElement()
                    .isEqualTo(Map.of("folk.worker.pid", Integer.toString(pid), "folk.worker.call", "GET /orders/7"));
            assertThat(logs.mdcContaining("during the plain call")).singleElement()
                    .isEqualTo(Map.of("folk.worker.pid", Integer.toString(pid), "folk.worker.call", "say"));
        } finally {
            pool.close();
        }
    }

    /** A pool of one test worker, started and ready (closed again if it does not become ready). */
    private WorkerPool readyTestPool(String name) {
        WorkerPool pool = WorkerPool.start(PoolConfig.builder(name, PhpWorkers.testWorker(Workers.newTag()).build())
                .size(1).build(), supervisor);
        if (!pool.awaitReady(1, Duration.ofSeconds(10))) {
            pool.close();
            throw new AssertionError("pool '" + name + "' not ready within 10 s");
        }
        return pool;
    }

    private static void awaitInFile(Path file, String text) {
        Procs.await(Duration.ofSeconds(5), "'" + text + "' in " + file, () -> {
            try {
                return Files.exists(file) && Files.readString(file).contains(text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** A SIGTERM from outside (systemd's default KillMode at a stop signals every process): the warning says where it came from. */
    @Test
    void anIdleWorkerEndedBySigtermFromOutsideIsWarnedOfWithTheServiceManagersSetting() throws Exception {
        WorkerPool pool = readyTestPool("termed-idle");
        try (LogCapture logs = LogCapture.of(WorkerPool.class)) {
            int pid = pool.snapshot().workers().get(0).pid();
            new ProcessBuilder("kill", "-TERM", Integer.toString(pid)).inheritIO().start().waitFor();
            Procs.await(Duration.ofSeconds(10), "the exit's warning", () -> !logs.warningsContaining(
                    "Worker " + pid + " of pool").isEmpty());
            assertThat(logs.warningsContaining("Worker " + pid + " of pool").get(0))
                    .contains("killed by SIGTERM while idle", "KillMode=mixed");
        } finally {
            pool.close();
        }
    }

    @Test
    void anIdleWorkerKilledFromOutsideIsTheLastFailureAsKilledWhileIdleWithItsSignal() throws Exception {
        WorkerPool pool = readyTestPool("killed-idle");
        try (LogCapture logs = LogCapture.of(WorkerPool.class)) {
            assertThat(pool.snapshot().lastFailureAt()).as("no failure yet").isNull();
            int unserved = pool.snapshot().workers().get(0).pid();
            Instant beforeKill = Instant.now();
            new ProcessBuilder("kill", "-KILL", Integer.toString(unserved)).inheritIO().start().waitFor();
            Procs.await(Duration.ofSeconds(10), "the kill of a worker that served nothing recorded",
                    () -> String.valueOf(pool.snapshot().lastFailure()).contains("worker " + unserved + " "));
            assertThat(pool.snapshot().lastFailure()).as("it was ready, not starting")
                    .contains("killed by SIGKILL while idle, before its first call").doesNotContain("starting");
            Procs.await(Duration.ofSeconds(5), "the exit's warning", () -> !logs.warningsContaining(
                    "Worker " + unserved + " of pool").isEmpty());
            assertThat(logs.warningsContaining("Worker " + unserved + " of pool").get(0)).as("the log says when too")
                    .contains("crash (killed by SIGKILL while idle, before its first call, 0 jobs)");
            Instant firstAt = pool.snapshot().lastFailureAt();
            assertThat(firstAt).as("when it happened, so that an old failure is not taken for a new one")
                    .isBetween(beforeKill, Instant.now());

            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            assertThat(pool.call("echo", 1)).isEqualTo(1L);
            int served = pool.snapshot().workers().get(0).pid();
            new ProcessBuilder("kill", "-KILL", Integer.toString(served)).inheritIO().start().waitFor();
            Procs.await(Duration.ofSeconds(10), "the kill of a worker that served a call recorded",
                    () -> String.valueOf(pool.snapshot().lastFailure()).contains("worker " + served + " "));
            assertThat(pool.snapshot().lastFailure()).contains("exited while idle (killed by SIGKILL)");
            Procs.await(Duration.ofSeconds(5), "the second exit's warning", () -> !logs.warningsContaining(
                    "Worker " + served + " of pool").isEmpty());
            assertThat(logs.warningsContaining("Worker " + served + " of pool").get(0))
                    .contains("crash (killed by SIGKILL while idle, 1 job)");
            assertThat(pool.snapshot().lastFailureAt()).as("the newer failure's time").isAfter(firstAt);
        } finally {
            pool.close();
        }
    }

    @Test
    void anIdleWorkerKilledBehindThePoolsBackIsReplacedAndCallsStillSucceed() {
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("killed", PhpWorkers.testWorker(Workers.newTag()).build())
                .size(2).build(), supervisor);
        try {
            assertThat(pool.awaitReady(2, Duration.ofSeconds(10))).isTrue();
            for (int round = 0; round < 10; round++) {
                List<WorkerInfo> workers = pool.snapshot().workers();
                int victim = workers.get(round % workers.size()).pid();
                assertThat(Procs.alive(victim)).isTrue();
                new ProcessBuilder("kill", "-KILL", Integer.toString(victim)).inheritIO().start().waitFor();
                // Calls right after the kill must not fail: a dead idle worker is dropped, and a request
                // that could not be delivered is retried on another worker.
                for (int i = 0; i < 20; i++) {
                    assertThat(pool.call("echo", i)).isEqualTo((long) i);
                }
                long crashes = round + 1;
                // The replacement may be ready before the killed worker's reap is recorded.
                Procs.await(Duration.ofSeconds(10), "back to 2, and kill " + crashes + " recorded as a crash", () -> {
                    PoolSnapshot now = pool.snapshot();
                    return now.ready() == 2 && now.workers().size() == 2
                            && now.exits().getOrDefault(ExitReason.CRASH, 0L) == crashes;
                });
            }
            assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.WORKER_CRASHED, 0L);
            assertThat(pool.snapshot().exits()).as("exits").containsEntry(ExitReason.CRASH, 10L);
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            pool.close();
        }
    }

    @Test
    void idleWorkersKillSignalIsRecordedAsTheirExit() throws Exception {
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("exit-status", PhpWorkers.testWorker(Workers.newTag())
                .build()).size(1).build(), supervisor);
        try {
            assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
            int pid = pool.snapshot().workers().get(0).pid();
            supervisor.workers().stream().filter(w -> w.pid() == pid).findFirst()
                    .ifPresent(w -> supervisor.signal(w, Os.SIGKILL));
            Procs.await(Duration.ofSeconds(5), "exit recorded", () -> !pool.snapshot().recentExits().isEmpty());
            ExitRecord exit = pool.snapshot().recentExits().get(0);
            assertThat(exit.pid()).isEqualTo(pid);
            assertThat(exit.reason()).isEqualTo(ExitReason.CRASH);
            assertThat(exit.status()).isEqualTo("killed by SIGKILL");
        } finally {
            pool.close();
        }
    }
}
