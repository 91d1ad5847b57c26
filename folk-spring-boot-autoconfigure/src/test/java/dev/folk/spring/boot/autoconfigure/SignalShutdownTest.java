package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.app.SignalTestApplication;
import dev.folk.spring.boot.autoconfigure.app.StartedDuringShutdownApplication;
import dev.folk.spring.boot.autoconfigure.app.WebSignalTestApplication;

/**
 * A real application in a child JVM, ended by signals: one SIGTERM shuts it down gracefully; a
 * second one during a shutdown stuck on a TERM-ignoring worker kills everything and exits at once.
 */
class SignalShutdownTest {

    private final String tag = Workers.newTag();
    private ChildJvm jvm;
    private Process child;

    @AfterEach
    void killChild() {
        if (jvm != null) {
            jvm.destroy();
        }
    }

    @Test
    void oneSigtermShutsDownGracefullyWithEveryWorkerGone() throws Exception {
        // A call is in flight when the signal arrives: the graceful shutdown lets it finish (the JVM
        // shutdown hook must not kill the workers while Spring's close is still draining).
        assertThat(endedGracefullyBy(143, "TERM")).contains("SIGTERM received: shutting down gracefully");
    }

    /** SIGHUP (a closed terminal; some service managers' reload) stops the application as SIGTERM does, saying so. */
    @Test
    void oneSighupShutsDownGracefullyAndSaysSo() throws Exception {
        assertThat(endedGracefullyBy(129, "HUP")).contains("SIGHUP received: shutting down gracefully");
    }

    /**
     * SIGTERM to a process group (timeout, a CI job's cancel, kill -- -PGID) reaches the application
     * and its parent at once, and a parent that forwards its own (Maven's spring-boot:run) sends it
     * again milliseconds later. One request to stop: the shutdown stays graceful. It used to be taken
     * as an operator's second signal, which kills every worker mid-call.
     */
    @Test
    void theSameSigtermSentTwiceAMomentApartShutsDownGracefully() throws Exception {
        assertThat(endedGracefullyBy(143, "TERM", "TERM")).contains("taken as the same request to stop");
    }

    /**
     * Starts two workers with a call in flight, sends {@code signals} in a row, and checks a graceful
     * end with exit {@code code}: the call answered, every worker gone. Returns the child's output.
     */
    private String endedGracefullyBy(int code, String... signals) throws Exception {
        start("--folk.size=2", "--test.in-flight-ms=1500");
        List<Integer> pids = awaitReady();
        assertThat(pids).hasSize(2).allMatch(Procs::alive);
        jvm.awaitLine("BUSY ", Duration.ofSeconds(5));

        for (String signal : signals) {
            jvm.signal(signal);
        }
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("exit after %s; output:%n%s", List.of(signals), log())
                .isTrue();

        assertThat(child.exitValue()).as("exit code; output:\n%s", log()).isEqualTo(code);
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
        assertThat(pids).noneMatch(Procs::alive);
        assertThat(log()).contains("CALL-RESULT ").doesNotContain("CALL-FAILED").doesNotContain("Second signal");
        return log();
    }

    @Test
    void aSecondSigtermKillsATermIgnoringWorkerMidCallAndExitsWithinTwoSeconds() throws Exception {
        start("--folk.size=2", "--folk.env.FOLK_TEST_IGNORE_TERM=1", "--folk.stop-grace=30s",
                "--folk.drain-timeout=30s", "--folk.exec-timeout=2m", "--spring.lifecycle.timeout-per-shutdown-phase=90s",
                "--test.in-flight-ms=60000");
        List<Integer> pids = awaitReady();
        assertThat(pids).hasSize(2);
        String busyLine = jvm.awaitLine("BUSY ", Duration.ofSeconds(5));
        int busy = Integer.parseInt(busyLine.substring(busyLine.indexOf("BUSY ") + 5).trim());
        for (int pid : pids) {
            // SigIgn is a hex mask; SIGTERM (15) is bit 14.
            long ignored = Long.parseLong(Procs.status(pid, "SigIgn"), 16);
            assertThat(ignored & (1L << 14)).as("worker %d ignores SIGTERM", pid).isNotZero();
        }

        jvm.signal("TERM");
        jvm.awaitLine("Pool 'default' RUNNING -> DRAINING", Duration.ofSeconds(15));
        // Without a second signal this shutdown would wait for the call (30 s drain), then 30 s of grace.
        assertThat(child.isAlive()).isTrue();
        assertThat(Procs.alive(busy)).isTrue();

        jvm.signalAgain("TERM"); // an operator's second signal, not the same one sent twice (see the test above)
        long sent = System.nanoTime();
        boolean exited = child.waitFor(10, TimeUnit.SECONDS);
        Duration took = Duration.ofNanos(System.nanoTime() - sent);
        System.out.println("exit " + took.toMillis() + " ms after the second SIGTERM");

        assertThat(exited).as("exit after the second SIGTERM; output:\n%s", log()).isTrue();
        assertThat(took).as("time from the second SIGTERM to exit").isLessThan(Duration.ofSeconds(2));
        assertThat(child.exitValue()).isEqualTo(143);
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
        assertThat(pids).noneMatch(Procs::alive);
        assertThat(log()).contains("Second signal (SIGTERM) during shutdown").doesNotContain("CALL-RESULT");
    }

    /**
     * SIGTERM while the context is still being made, before any worker started: the start-up ends
     * with words that say so. Before, it ended with Spring's "Error creating bean with name
     * 'folkShutdownHook'" and the JVM's bare "Shutdown in progress", which read as a bug of ours.
     */
    @Test
    void aShutdownBeforeAnyWorkerStartedEndsTheStartUpSayingSo() throws Exception {
        start(StartedDuringShutdownApplication.class, "--folk.size=1");
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("exit; output:\n%s", log()).isTrue();
        assertThat(log()).contains("START-FAILED", "Start-up stopped by the application's shutdown (SIGTERM, SIGINT from Ctrl-C, or SIGHUP)"
                        + " before any worker started").doesNotContain("Shutdown in progress", "STARTED\n");
        assertThat(Procs.withEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @ParameterizedTest(name = "jvm-hook={0}")
    @ValueSource(booleans = {true, false})
    void aSigtermDuringStartUpEndsTheWaitForWorkersAtOnceAndTheJvmExitsNotAfterTheBootTimeout(boolean jvmHook)
            throws Exception {
        // Workers that take 20 s to boot, inside a 30 s boot-timeout: start-up is still waiting for them.
        start("--folk.size=2", "--folk.env.FOLK_TEST_BOOT_SLEEP_MS=20000", "--folk.boot-timeout=30s",
                "--folk.shutdown.jvm-hook=" + jvmHook);
        jvm.awaitLine("Pool 'default' NEW -> STARTING", Duration.ofSeconds(30));
        Procs.await(Duration.ofSeconds(10), "two booting workers",
                () -> Procs.aliveWithEnv(Workers.RUN_TAG, tag).size() == 2);

        long sent = System.nanoTime();
        jvm.signal("TERM");
        boolean exited = child.waitFor(40, TimeUnit.SECONDS);
        Duration took = Duration.ofNanos(System.nanoTime() - sent);
        System.out.println("jvm-hook=" + jvmHook + ": exit " + took.toMillis() + " ms after SIGTERM");

        assertThat(exited).as("exit after SIGTERM; output:\n%s", log()).isTrue();
        // Before: the wait went on until the JVM hook killed the workers 2 s later, and without the
        // hook until the boot-timeout (31.9 s). Now the context closes the pool at once (about a
        // second); 3x that, far from either.
        assertThat(took).as("time from SIGTERM to the JVM's exit; output:\n%s", log())
                .isLessThan(Duration.ofSeconds(3));
        assertThat(child.exitValue()).isEqualTo(143);
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
        assertThat(log()).contains("Pool 'default': start-up stopped by the application's shutdown")
                .doesNotContain("FolkStartupException").doesNotContain("Pool 'default' had 0 of 2 required workers");
    }

    @Test
    @EnabledIfSystemProperty(named = "folk.slow-scenarios", matches = "true", disabledReason = "about 40 s: "
            + "-Preliability-long runs it; FolkAutoConfigurationTests checks the wait it relies on")
    void theJvmHookWaitsForTheWebServersShutdownAndThePoolsWholeDrain() throws Exception {
        // A 16 s shutdown phase, and a pool stop that fits in it (14.5 s drain + 0.5 s close-wait +
        // 0.5 s stop-grace). A 60 s request in flight: the web server's graceful shutdown gives up
        // after 16 s, Tomcat waits ~5 s for its thread (blocked in the pool call), then the pool
        // drains 14.5 s and kills the call: ~36 s in all, more than the former hook wait of phase + 15 s.
        start(WebSignalTestApplication.class, "--server.port=0", "--folk.size=2", "--folk.exec-timeout=2m",
                "--folk.drain-timeout=14500ms", "--folk.stop-grace=500ms",
                "--spring.lifecycle.timeout-per-shutdown-phase=16s");
        String started = jvm.awaitLine("started on port ", Duration.ofSeconds(60));
        Matcher port = Pattern.compile("started on port (\\d+)").matcher(started);
        assertThat(port.find()).as(started).isTrue();
        List<Integer> pids = Procs.aliveWithEnv(Workers.RUN_TAG, tag);
        assertThat(pids).hasSize(2);
        CompletableFuture<HttpResponse<String>> request = HttpClient.newHttpClient().sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.group(1) + "/sleep?ms=60000")).build(),
                HttpResponse.BodyHandlers.ofString());
        jvm.awaitLine("REQUEST-IN-FLIGHT", Duration.ofSeconds(10));

        jvm.signal("TERM");
        jvm.awaitLine("Pool 'default' RUNNING -> DRAINING", Duration.ofSeconds(3 * 21));
        long draining = System.nanoTime();
        boolean exited = child.waitFor(3 * 16, TimeUnit.SECONDS);
        Duration took = Duration.ofNanos(System.nanoTime() - draining);
        System.out.println("exit " + took.toMillis() + " ms after the pool began to drain");

        assertThat(exited).as("exit after SIGTERM; output:\n%s", log()).isTrue();
        assertThat(child.exitValue()).isEqualTo(143);
        // The pool's drain ran its whole drain-timeout and the pool itself killed the call: the JVM
        // hook did not cut it short.
        assertThat(log()).contains("still running after drain-timeout 14500ms: killing it")
                .doesNotContain("graceful close did not finish");
        assertThat(took).as("drain-timeout 14.5 s").isGreaterThan(Duration.ofSeconds(12));
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
        assertThat(pids).noneMatch(Procs::alive);
        assertThat(request).failsWithin(Duration.ofSeconds(5));
    }

    private void start(String... args) throws IOException {
        start(SignalTestApplication.class, args);
    }

    private void start(Class<?> main, String... args) throws IOException {
        List<String> all = new ArrayList<>(List.of("--folk.args=" + TestWorkers.TEST, "--folk.env.FOLK_TEST_RUN=" + tag,
                "--spring.main.banner-mode=off"));
        all.addAll(List.of(args));
        jvm = ChildJvm.start(System.getProperty("java.class.path"), main, all);
        child = jvm.process();
    }

    private List<Integer> awaitReady() {
        String line = jvm.awaitLine("READY ", Duration.ofSeconds(60));
        String pids = line.substring(line.indexOf("READY ") + 6).trim();
        return Arrays.stream(pids.split(",")).map(Integer::parseInt).toList();
    }

    private String log() {
        return jvm == null ? "" : jvm.log();
    }
}
