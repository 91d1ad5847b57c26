package dev.folk.spring.boot.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

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
}
