package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.CountingOs;
import dev.folk.core.testing.LogCapture;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/**
 * The slow-call log and the exec-timeout kill with real PHP workers: the log line names the PHP
 * function and the file:line the worker is stuck at, the worker survives the request, the stack
 * lines stay out of the worker's ordinary output, and a worker that did not declare the feature is
 * never signalled. Each test runs one one-worker pool; a call lasts well under a second.
 */
class SlowCallBacktraceTest {

    private static final CountingOs os = new CountingOs();
    private static Supervisor supervisor;
    /** Lines of sleep_until() in the test worker: where a call of sleep_in_function is stuck. */
    private static int firstLine;
    private static int lastLine;
    private static final Pattern STUCK_AT = Pattern.compile("test-worker\\.php:(\\d+) sleep_until\\(\\)");

    private WorkerPool pool;
    private LogCapture log;
    private LogCapture workerOutput;

    @BeforeAll
    static void start() throws IOException {
        supervisor = new Supervisor(os, true);
        List<String> lines = Files.readAllLines(PhpWorkers.TEST_WORKER);
        firstLine = lines.indexOf("function sleep_until(float $deadline): void") + 1;
        lastLine = firstLine + lines.subList(firstLine, lines.size()).indexOf("}") + 1;
        assertThat(firstLine).as("sleep_until() in the test worker").isPositive();
    }

    /**
     * The text contains "test-worker.php:<n> sleep_until()" with n inside that function: PHP names
     * the line it reached when it ran the signal handler, just after the interrupted usleep().
     */
    private static void assertStuckInSleepUntil(String text) {
        Matcher m = STUCK_AT.matcher(text);
        assertThat(m.find()).as("a sleep_until() frame in: %s", text).isTrue();
        assertThat(Integer.parseInt(m.group(1))).as("its line").isBetween(firstLine, lastLine);
    }

    @AfterAll
    static void stop() {
        supervisor.close();
    }

    @BeforeEach
    void capture() {
        log = LogCapture.of(WorkerPool.class);
    }

    @AfterEach
    void close() {
        if (pool != null) {
            pool.close();
        }
        log.close();
        if (workerOutput != null) {
            workerOutput.close();
        }
    }

    private void ready(PoolConfig.Builder config) {
        PoolConfig c = config.build();
        workerOutput = LogCapture.of("dev.folk.worker." + c.worker().name()); // the worker's stdout and stderr
        pool = PoolTesting.ready(c, supervisor);
    }

    private static PoolConfig.Builder config(String name, WorkerSpec.Builder spec) {
        return PoolConfig.builder(name, spec.build()).size(1);
    }

    @Test
    void aSlowCallIsLoggedWithThePhpFunctionAndLineItIsStuckAtAndTheWorkerGoesOn() {
        WorkerSpec.Builder spec = PhpWorkers.testWorker(Workers.newTag());
        ready(config("slow", spec).slowCallThreshold(Duration.ofMillis(150)));
        int pid = pool.snapshot().workers().get(0).pid();
        long signalsBefore = os.count("pidfdSendSignal");
        long groupSignalsBefore = os.count("kill:" + pid); // its group's id is its pid; other pools stop theirs meanwhile

        assertThat(pool.call("sleep_in_function", 600L)).isEqualTo(600L);

        Procs.await(Duration.ofSeconds(5), "the slow call logged", () -> !log.containing("Slow call").isEmpty());
        String slow = log.containing("Slow call").get(0);
        assertThat(log.containing("Slow call")).hasSize(1);
        assertThat(slow).contains("pool 'slow'", "worker " + pid, "'sleep_in_function'", "PHP backtrace",
                "{closure}()", "Folk\\Worker\\Worker->call()", "{main}");
        assertStuckInSleepUntil(slow.substring(slow.indexOf("#0 ")));
        assertThat(pool.snapshot().slowCalls()).isEqualTo(1);
        assertThat(os.count("pidfdSendSignal") - signalsBefore).as("one signal, to the worker process (pidfd)")
                .isEqualTo(1);
        assertThat(os.count("kill:" + pid) - groupSignalsBefore).as("no signal to its group").isZero();
        assertThat(workerOutput.containing("folk-backtrace")).as("the block is not ordinary output").isEmpty();
        assertThat(pool.call("pid", null, Long.class)).as("the same worker serves on").isEqualTo((long) pid);
        assertThat(pool.snapshot().exits().values()).allMatch(n -> n == 0);
    }

    /**
     * PHP runs the signal handler only once a blocking read returns (a database query, here a
     * child's output): the slow call's line goes after the wait without the stack, and the stack,
     * when it comes, is logged as that call's, not passed off as the worker's ordinary output.
     */
    @Test
    void aStackThatComesAfterTheWaitIsLoggedAsTheSlowCallsWhenItComes() throws IOException {
        ready(config("late", PhpWorkers.testWorker(Workers.newTag())).slowCallThreshold(Duration.ofMillis(150)));
        int pid = pool.snapshot().workers().get(0).pid();

        assertThat(pool.call("shell_sleep", 1500L)).isEqualTo(1500L);

        Procs.await(Duration.ofSeconds(5), "the slow call and its late stack logged",
                () -> log.containing("Slow call").size() == 2);
        List<String> slow = log.containing("Slow call");
        assertThat(slow.get(0)).contains("worker " + pid, "'shell_sleep'", "no PHP backtrace within 500 ms",
                "writes it only when that returns; it is logged then.");
        assertThat(slow.get(1)).contains("worker " + pid, "'shell_sleep'", "PHP backtrace (taken in ",
                " ms (came after the wait, when PHP's blocking call returned)):", "{main}");
        int line = Files.readAllLines(PhpWorkers.TEST_WORKER).indexOf("    shell_exec('sleep ' . ((int) $ms / 1000));") + 1;
        assertThat(slow.get(1)).as("PHP at the shell_exec(), or just past it, when the handler ran")
                .containsAnyOf("test-worker.php:" + line + " {closure}()", "test-worker.php:" + (line + 1) + " {closure}()");
        assertThat(workerOutput.containing("folk-backtrace")).as("the block is not ordinary output").isEmpty();
        assertThat(pool.snapshot().slowCalls()).as("one slow call").isEqualTo(1);
        assertThat(pool.call("pid", null, Long.class)).as("the same worker serves on").isEqualTo((long) pid);
    }

    @Test
    void anExecTimeoutLogsWherePhpWasStuckThenKillsWithinItsBound() {
        WorkerSpec.Builder spec = PhpWorkers.testWorker(Workers.newTag());
        Duration execTimeout = Duration.ofMillis(400);
        ready(config("stuck", spec).execTimeout(execTimeout));
        int pid = pool.snapshot().workers().get(0).pid();

        long t0 = System.nanoTime();
        ExecTimeoutException e = assertThrows(ExecTimeoutException.class,
                () -> pool.call("sleep_in_function", 5000L));
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertThat(e.getMessage()).contains("the worker was at ");
        assertStuckInSleepUntil(e.getMessage());
        assertThat(log.containing("exceeded exec-timeout")).singleElement().asString()
                .contains("Worker " + pid, "'sleep_in_function'", "killing its group", "PHP backtrace");
        assertStuckInSleepUntil(log.containing("exceeded exec-timeout").get(0));
        // exec-timeout + one tick + the capture's wait, with headroom for a busy machine
        long bound = execTimeout.toMillis() + 3 * (WorkerPool.TICK_MILLIS + SlowCalls.KILL_TRACE_WAIT.toMillis());
        assertThat(elapsed).as("ms until the timeout failed the call").isBetween(execTimeout.toMillis(), bound);
        Procs.await(Duration.ofSeconds(5), "the stuck worker is gone", () -> !Procs.alive(pid));

        // A plain usleep() returns early on the signal, so the worker answers while its stack is
        // being taken: still an exec timeout, and the failure still says where PHP was.
        ExecTimeoutException woken = assertThrows(ExecTimeoutException.class, () -> pool.call("sleep", 5000L));
        assertThat(woken.getMessage()).containsPattern("the worker was at \\S*test-worker\\.php:\\d+ \\{closure\\}\\(\\)");
        assertThat(pool.snapshot().calls()).containsEntry(CallOutcome.EXEC_TIMEOUT, 2L)
                .containsEntry(CallOutcome.SUCCESS, 0L);
    }

    @Test
    void aStoppedWorkersMissingBacktraceIsSaidToBeItsStopNotABlockingRead() throws Exception {
        WorkerSpec.Builder spec = PhpWorkers.testWorker(Workers.newTag());
        ready(config("stopped", spec).slowCallThreshold(Duration.ofMillis(150)).execTimeout(Duration.ofMillis(1500)));
        int pid = pool.snapshot().workers().get(0).pid();
        CompletableFuture<Object> call = pool.callAsync("sleep_in_function", 5000L);
        Procs.await(Duration.ofSeconds(5), "the call running", () -> pool.snapshot().count(WorkerState.BUSY) == 1);
        assertThat(new ProcessBuilder("kill", "-STOP", String.valueOf(pid)).start().waitFor()).isZero();

        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS));
        assertThat(e.getCause()).isInstanceOf(ExecTimeoutException.class);
        Procs.await(Duration.ofSeconds(5), "the slow call logged", () -> !log.containing("Slow call").isEmpty());
        assertThat(log.containing("Slow call").get(0)).contains("worker " + pid, "process is stopped", "SIGCONT")
                .doesNotContain("socket or pipe read");
        assertThat(log.containing("exceeded exec-timeout")).singleElement().asString().contains("process is stopped");
        Procs.await(Duration.ofSeconds(5), "the stopped worker killed", () -> !Procs.alive(pid));
    }

    @Test
    void aWorkerWithoutTheFeatureIsNotSignalledSurvivesAndTheLogSaysWhy() {
        // ext-pcntl's functions disabled: the worker library declares no backtrace feature.
        WorkerSpec.Builder spec = WorkerSpec.builder("php").name("php-no-pcntl")
                .args("-d", "disable_functions=pcntl_signal", PhpWorkers.TEST_WORKER.toString())
                .environment(Workers.RUN_TAG, Workers.newTag());
        ready(config("no-pcntl", spec).slowCallThreshold(Duration.ofMillis(100)));
        int pid = pool.snapshot().workers().get(0).pid();
        long signalsBefore = os.count("pidfdSendSignal");

        assertThat(pool.call("sleep_in_function", 300L)).isEqualTo(300L);

        Procs.await(Duration.ofSeconds(5), "the slow call logged", () -> !log.containing("Slow call").isEmpty());
        assertThat(log.containing("Slow call")).singleElement().asString()
                .contains("worker " + pid, "no PHP backtrace", "did not declare the backtrace feature");
        assertThat(os.count("pidfdSendSignal") - signalsBefore).as("signals sent to a worker").isZero();
        assertThat(pool.call("pid", null, Long.class)).as("the worker survived").isEqualTo((long) pid);
    }
}
