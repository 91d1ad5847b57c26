package dev.folk.spring.boot.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.folk.core.pool.CallException;
import dev.folk.core.pool.PoolClosedException;
import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.Procs;

/**
 * How a failed call is answered. A JVM short of heap is a 503 that says so: the client may try
 * again, and nobody reading the answer or the log is sent looking for busy workers.
 */
@ExtendWith(OutputCaptureExtension.class)
class GatewayReplyTest {

    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    @Test
    void aCallThatFoundNoHeapIs503SayingSoNotThatWorkersAreBusy(CapturedOutput output) {
        GatewayReply reply = GatewayReply.fromFailure(new CompletionException(new OutOfMemoryError("Java heap space")),
                GatewayOptions.defaults(), "POST /php/upload", new RepeatedWarnings(timer, RepeatedWarnings.DEFAULT_INTERVAL));

        assertThat(reply.status()).isEqualTo(503);
        assertThat(reply.headers()).containsExactly("Retry-After", "1");
        assertThat(new String(reply.body(), StandardCharsets.UTF_8))
                .isEqualTo("The server has no memory for this request now; try again shortly.\n");
        assertThat(output).contains("The JVM had no heap left for the call of POST /php/upload")
                .contains("Give the JVM more heap (-Xmx)").doesNotContain("busy");
    }

    /** A call the closing pool refused (the application stops) is a 503 that says so, not that workers are busy. */
    @Test
    void aCallTheClosedPoolRefusedIs503SayingTheServerIsShuttingDown(CapturedOutput output) {
        Supervisor supervisor = new Supervisor();
        WorkerPool pool = new WorkerPool(PoolConfig.builder("main", WorkerSpec.builder("php").build()).size(1).build(),
                supervisor); // never started: closed at once
        try {
            pool.close();
            Throwable refused = catchThrowable(() -> pool.call("http.handle", null));
            assertThat(refused).isInstanceOf(PoolClosedException.class);
            GatewayReply reply = GatewayReply.fromFailure(new CompletionException(refused), GatewayOptions.defaults(),
                    "GET /php/hello", new RepeatedWarnings(timer, RepeatedWarnings.DEFAULT_INTERVAL));
            assertThat(reply.status()).isEqualTo(503);
            assertThat(reply.headers()).containsExactly("Retry-After", "1");
            assertThat(new String(reply.body(), StandardCharsets.UTF_8))
                    .isEqualTo("The server is shutting down; try again shortly.\n");
            assertThat(output).contains("the pool is closed", "(GET /php/hello)");
        } finally {
            supervisor.close();
        }
    }

    /** A BROKEN pool with no worker left refuses at once: its 503 does not say the workers are busy. */
    @Test
    void aCallToAPoolWithNoWorkerRunningIs503SayingSoNotThatWorkersAreBusy() {
        Supervisor supervisor = new Supervisor();
        WorkerPool pool = new WorkerPool(PoolConfig.builder("broken", WorkerSpec.builder("sh").args("-c", "exit 3")
                .build()).size(1).brokenThreshold(1).backoffInitial(java.time.Duration.ofSeconds(30))
                .backoffMax(java.time.Duration.ofSeconds(30)).build(), supervisor);
        try {
            pool.start();
            Procs.await(java.time.Duration.ofSeconds(10), "the pool BROKEN with no worker left",
                    () -> pool.state() == dev.folk.core.pool.PoolState.BROKEN && pool.snapshot().workers().isEmpty());
            Throwable refused = catchThrowable(() -> pool.call("http.handle", null));
            assertThat(refused).isInstanceOf(dev.folk.core.pool.NoWorkerAvailableException.class);
            GatewayReply reply = GatewayReply.fromFailure(new CompletionException(refused), GatewayOptions.defaults(),
                    "GET /php/hello", new RepeatedWarnings(timer, RepeatedWarnings.DEFAULT_INTERVAL));
            assertThat(reply.status()).isEqualTo(503);
            assertThat(new String(reply.body(), StandardCharsets.UTF_8)).isEqualTo("No PHP worker is running; try again later.\n");
        } finally {
            pool.close();
            supervisor.close();
        }
    }

    @Test
    void aCallNoThreadCouldStartForIs503NamingTheLimitNotTheHeap(CapturedOutput output) {
        GatewayReply reply = GatewayReply.fromFailure(new CompletionException(new OutOfMemoryError(
                "unable to create native thread: possibly out of memory or process/resource limits reached")),
                GatewayOptions.defaults(), "GET /php/hello", new RepeatedWarnings(timer, RepeatedWarnings.DEFAULT_INTERVAL));

        assertThat(reply.status()).isEqualTo(503);
        assertThat(reply.headers()).containsExactly("Retry-After", "1");
        assertThat(output).contains("could not start a thread for the call of GET /php/hello")
                .contains("ulimit -u", "pids.max").doesNotContain("-Xmx");
    }

    @Test
    void aFailedCallIs502NamingItsWorkerAndACallNoWorkerHadNamesNone(CapturedOutput output) {
        RepeatedWarnings warnings = new RepeatedWarnings(timer, RepeatedWarnings.DEFAULT_INTERVAL);
        GatewayReply crashed = GatewayReply.fromFailure(new CompletionException(
                new Failed(4242, "Worker 4242 of pool 'main' crashed")),
                GatewayOptions.defaults(), "GET /php/crash", warnings);
        GatewayReply unsent = GatewayReply.fromFailure(new CompletionException(
                new Failed(0, "Call main.http.handle rejected, nothing was sent")),
                GatewayOptions.defaults(), "GET /php/odd", warnings);

        assertThat(crashed.status()).isEqualTo(502);
        assertThat(new String(crashed.body(), StandardCharsets.UTF_8))
                .isEqualTo("PHP failed to answer (worker 4242). See the log.\n");
        assertThat(unsent.status()).isEqualTo(502);
        assertThat(new String(unsent.body(), StandardCharsets.UTF_8))
                .isEqualTo("The request could not be passed to PHP. See the log.\n");
        assertThat(output).contains("Worker 4242 of pool 'main' crashed (GET /php/crash)")
                .contains("rejected, nothing was sent (GET /php/odd)");
    }

    /** A failed call of pool 'main': worker {@code pid}, 0 if it reached none. */
    private static final class Failed extends CallException {
        private static final long serialVersionUID = 1L;

        Failed(int pid, String message) {
            super("main", "http.handle", pid, message, null);
        }

        @Override
        public boolean retryable() {
            return false;
        }
    }

    /** A malformed answer's warning says which part of it is wrong: the operator looks at PHP's status, not at the map. */
    @Test
    void aMalformedAnswerIs502NamingThePartThatIsWrong(CapturedOutput output) {
        RepeatedWarnings warnings = new RepeatedWarnings(timer, RepeatedWarnings.DEFAULT_INTERVAL);
        GatewayReply reply = GatewayReply.fromPhp(java.util.Map.of("status", "200", "body", "x"), "main", 4242,
                "GET /php/odd", false, GatewayOptions.defaults(), warnings);

        assertThat(reply.status()).isEqualTo(502);
        assertThat(output).contains("Worker 4242 of pool 'main' answered GET /php/odd with something that is not an HTTP "
                + "response (its 'status': ");
    }
}
