package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.folk.spring.boot.http.FolkHttpGateway;

/**
 * {@link StreamedAnswerTest}'s answers through a fallback mapping, whose requests the servlet
 * container maps to Spring MVC's servlet and the gateway's fallback filter answers: parts, slow
 * clients, cuts. The asynchronous dispatch that cuts a failed answer must come back to the gateway,
 * not go to Spring MVC as a new request (its tests find no Spring MVC error handling in the log).
 */
@TestPropertySource(properties = "folk.http.mappings[0].fallback=true")
class StreamedAnswerThroughFallbackTest extends StreamedAnswerTest {

    @Autowired
    FolkHttpGateway gateway;

    @Test
    void theMappingIsAFallbackOne() {
        assertThat(gateway.fallbackRoutes()).hasSize(1);
        assertThat(gateway.servletPatterns()).isEmpty();
    }
}
