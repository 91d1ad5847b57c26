package dev.folk.spring.boot.autoconfigure.http;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;

/**
 * Streamed answers over HTTP/2 (cleartext): a large one ends with the stream's close, which Tomcat
 * made wait for the flow-control window blocking, missing its wake-up (5 s each time, 20 s for an
 * 8 MB answer beside small ones); what the container holds is now flushed without blocking first.
 */
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.size=2",
    "folk.shutdown.signal-handler=false",
    "server.http2.enabled=true",
    "folk.http.mappings[0].path=/s/**",
})
@DirtiesContext
class Http2StreamedAnswerTest {

    private static final String TAG = Workers.newTag();

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        TestWorkers.use(registry, TestWorkers.STREAM, TAG);
    }

    @LocalServerPort
    int port;

    @Test
    void aLargeStreamedAnswerBesideSmallOnesOnOneConnectionEndsWithoutWaitingForTheWindow() throws Exception {
        // 128 parts of 64 KiB: 8 MiB in parts, streamed as PHP sends them, then ten small streamed answers.
        Http2GatewayTest.largeAndSmallAnswersOnOneConnection(port, "/s/big?size=65536&parts=128", "/s/big?size=100&parts=1");
    }
}
