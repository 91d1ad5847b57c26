package dev.folk.spring.boot.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.folk.core.testing.Procs;

/**
 * The gateway's 503s of an overloaded pool: the first of an episode logged in full, the others
 * summed up once per interval while they go on, and a quiet interval ending the episode.
 */
@ExtendWith(OutputCaptureExtension.class)
class RejectionLogTest {

    private static final String REASON = "Call main.http.handle rejected: all 1 workers are busy";

    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    @Test
    void aBurstOf503sIsOneLineThenOneSummaryAndAnEpisodeEndsWithAQuietInterval(CapturedOutput output) {
        RejectionLog log = new RejectionLog(timer, Duration.ofMillis(300));
        for (int i = 0; i < 500; i++) {
            log.rejected("main", REASON, "GET /php/" + i);
        }
        log.rejected("other", REASON.replace("main", "other"), "GET /other/x");
        assertThat(count(output.getOut(), "rejected: all 1 workers are busy \\(GET /php/0\\): 503. Further 503s of "
                + "pool 'main' are counted and summed up every 300 ms")).isEqualTo(1);
        assertThat(count(output.getOut(), "\\(GET /php/\\d+\\): 503\\. Further")).as("one full line for the burst")
                .isEqualTo(1);
        assertThat(count(output.getOut(), "Pool 'other'\\.http\\.handle|\\(GET /other/x\\): 503\\. Further"))
                .as("a pool of its own").isEqualTo(1);

        Procs.await(Duration.ofSeconds(10), "the burst summed up",
                () -> output.getOut().contains("Pool 'main' answered 499 more requests with 503 in the last"));
        assertThat(output.getOut()).contains("no worker was free (the latest: GET /php/499)");
        assertThat(output.getOut()).doesNotContain("Pool 'other' answered");

        // The episode goes on: one more 503 is counted, not logged in full, and summed up next.
        log.rejected("main", REASON, "GET /php/late");
        Procs.await(Duration.ofSeconds(10), "the late one summed up",
                () -> output.getOut().contains("Pool 'main' answered 1 more request with 503"));
        assertThat(count(output.getOut(), "\\): 503\\. Further 503s of pool 'main'")).isEqualTo(1);

        // A quiet interval ends it: the next 503 is a new episode, logged in full.
        Procs.await(Duration.ofSeconds(10), "the episode over", () -> !log.inEpisode("main"));
        log.rejected("main", REASON, "GET /php/new");
        assertThat(output.getOut()).contains("(GET /php/new): 503. Further 503s of pool 'main'");
        assertThat(count(output.getOut(), "\\): 503\\. Further 503s of pool 'main'")).isEqualTo(2);
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
