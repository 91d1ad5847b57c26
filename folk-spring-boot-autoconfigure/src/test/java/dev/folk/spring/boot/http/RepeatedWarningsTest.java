package dev.folk.spring.boot.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.Procs;

/**
 * Warnings that come once per request: the first of an episode logged in full, the others summed
 * up once per interval while they go on, and a quiet interval ending the episode. A pool's 503s
 * are one episode whatever their paths; what PHP gets wrong is one per kind and request path.
 */
@ExtendWith(OutputCaptureExtension.class)
class RepeatedWarningsTest {

    private static final String REASON = "Call main.http.handle rejected: all 1 workers are busy";

    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    @Test
    void aBurstOf503sIsOneLineThenOneSummaryAndAnEpisodeEndsWithAQuietInterval(CapturedOutput output) {
        RepeatedWarnings log = new RepeatedWarnings(timer, Duration.ofMillis(300));
        for (int i = 0; i < 500; i++) {
            log.busy("main", REASON, "GET /php/" + i);
        }
        log.busy("other", REASON.replace("main", "other"), "GET /other/x");
        assertThat(count(output.getOut(), "rejected: all 1 workers are busy \\(GET /php/0\\): 503. More like it from "
                + "pool 'main' are counted and summed up every 300 ms")).isEqualTo(1);
        assertThat(count(output.getOut(), "\\(GET /php/\\d+\\): 503\\. More")).as("one full line for the burst")
                .isEqualTo(1);
        assertThat(count(output.getOut(), "\\(GET /other/x\\): 503\\. More")).as("a pool of its own").isEqualTo(1);

        Procs.await(Duration.ofSeconds(10), "the burst summed up", () -> output.getOut().contains(
                "Pool 'main', requests answered 503 (no worker was free): 499 more in the last"));
        assertThat(output.getOut()).contains("(the latest: GET /php/499). Raise the pool's size");
        assertThat(output.getOut()).doesNotContain("Pool 'other', ");

        // The episode goes on: one more 503 is counted, not logged in full, and summed up next.
        log.busy("main", REASON, "GET /php/late");
        Procs.await(Duration.ofSeconds(10), "the late one summed up",
                () -> output.getOut().contains("Pool 'main', requests answered 503 (no worker was free): 1 more in the last"));
        assertThat(count(output.getOut(), "\\): 503\\. More like it from pool 'main'")).isEqualTo(1);

        // A quiet interval ends it: the next 503 is a new episode, logged in full.
        Procs.await(Duration.ofSeconds(10), "the episode over", () -> !log.inEpisode(RepeatedWarnings.Kind.BUSY, "main"));
        log.busy("main", REASON, "GET /php/new");
        assertThat(output.getOut()).contains("(GET /php/new): 503. More like it from pool 'main'");
        assertThat(count(output.getOut(), "\\): 503\\. More like it from pool 'main'")).isEqualTo(2);
    }

    @Test
    void whatPhpGetsWrongOnEveryRequestIsSummedUpByKindAndPath(CapturedOutput output) {
        RepeatedWarnings log = new RepeatedWarnings(timer, Duration.ofMillis(300));
        for (int i = 0; i < 50; i++) {
            log.answerFixed(RepeatedWarnings.Kind.HEADER_NAME, "main", "Dropped response header \"X Bad\" (" + i + ")",
                    "GET /php/page?i=" + i);
        }
        log.answerFixed(RepeatedWarnings.Kind.HEADER_NAME, "main", "Dropped response header \"X Bad\" (other path)",
                "GET /php/other");
        log.answerFixed(RepeatedWarnings.Kind.CONTENT_LENGTH, "main", "Content-Length 9 and a body of 5 bytes",
                "GET /php/page");
        assertThat(count(output.getOut(), "Dropped response header \"X Bad\" \\(\\d+\\)\\. More like it")).as("the route's")
                .isEqualTo(1);
        assertThat(output.getOut()).contains("Dropped response header \"X Bad\" (other path). More like it",
                "Content-Length 9 and a body of 5 bytes. More like it");
        Procs.await(Duration.ofSeconds(10), "the route's summed up", () -> output.getOut().contains(
                "Pool 'main', response headers dropped (not valid header names): 49 more in the last"));
        assertThat(output.getOut()).contains("(the latest: GET /php/page?i=49). Fix the header() call");
        assertThat(count(output.getOut(), "Pool 'main', .*: \\d+ more")).as("one summary").isEqualTo(1);
    }

    /**
     * When the application stops (or a test framework pauses it), what the episodes counted is
     * logged then, once: a summary due later would be lost with the gateway's timer, or land in
     * whatever the JVM runs next. After it, a warning begins a new episode.
     */
    @Test
    void stoppingTheGatewaySumsUpWhatItCountedAtOnce(CapturedOutput output) {
        Supervisor supervisor = new Supervisor();
        WorkerPool pool = new WorkerPool(PoolConfig.builder("main", WorkerSpec.builder("php").build()).size(1).build(),
                supervisor); // never started: the gateway only reads its name and timeouts here
        FolkHttpGateway gateway = new FolkHttpGateway(List.of(new HttpRoute("/php", pool, false, 1024)),
                new GatewayOptions(null, null, null, Duration.ofSeconds(1), Duration.ofSeconds(5), 8192, 1 << 20));
        try {
            gateway.start();
            for (int i = 0; i < 3; i++) {
                gateway.warnings.busy("main", REASON, "GET /php/" + i);
            }
            assertThat(output.getOut()).doesNotContain(" more in the last");
            gateway.stop();
            assertThat(gateway.isRunning()).isFalse();
            assertThat(output.getOut()).as("summed up at stop, not 10 s later").contains(
                    "Pool 'main', requests answered 503 (no worker was free): 2 more in the last", "(the latest: GET /php/2)");

            gateway.stop(); // again (a second pause, then destroy): nothing more to say
            gateway.destroy();
            assertThat(count(output.getOut(), " more in the last")).isEqualTo(1);
            gateway.warnings.busy("main", REASON, "GET /php/after");
            assertThat(output.getOut()).as("a new episode, logged in full").contains(
                    "(GET /php/after): 503. More like it from pool 'main'");
        } finally {
            gateway.destroy();
            supervisor.close();
        }
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
