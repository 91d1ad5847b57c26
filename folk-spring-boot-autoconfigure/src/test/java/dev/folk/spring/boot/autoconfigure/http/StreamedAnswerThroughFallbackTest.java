package dev.folk.spring.boot.autoconfigure.http;

import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.test.annotation.DirtiesContext;

import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;

/**
 * {@link StreamedAnswerTest}'s answers through a fallback mapping, whose requests the servlet
 * container maps to Spring MVC's servlet and the gateway's fallback filter answers: parts, slow
 * clients, cuts. The asynchronous dispatch that cuts a failed answer must come back to the gateway,
 * not go to Spring MVC as a new request (its tests find no Spring MVC error handling in the log).
 */
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.size=1",
    "folk.exec-timeout=30s",
    "folk.max-frame-length=64KB",
    "folk.shutdown.signal-handler=false",
    "folk.http.mappings[0].path=/s/**",
    "folk.http.mappings[0].fallback=true",
    "folk.http.max-body-size=1KB",
    "folk.http.body-timeout=2s",
})
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
class StreamedAnswerThroughFallbackTest extends StreamedAnswerTest {
}
