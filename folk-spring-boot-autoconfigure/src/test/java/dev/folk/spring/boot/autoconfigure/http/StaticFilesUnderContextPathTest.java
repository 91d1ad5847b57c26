package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/**
 * {@link StaticFilesIntegrationTest} in an application under a servlet context path
 * ({@code server.servlet.context-path}): every request's path starts with it, and the files are
 * named by the path below it, as without one. PHP, for the paths that are not files, gets the
 * context path in {@code SCRIPT_NAME} with the mapping's prefix.
 */
@TestPropertySource(properties = "server.servlet.context-path=/ctx")
class StaticFilesUnderContextPathTest extends StaticFilesIntegrationTest {

    @Test
    void theContextPathIsNoPartOfAFilesName() throws Exception {
        assertThat(contextPath).isEqualTo("/ctx");
        Response css = send("GET", "/app/css/site.css");
        assertThat(css.status()).isEqualTo(200);
        assertThat(css.fromPhp()).isFalse();
        assertThat(css.body()).asString().isEqualTo("body { color: #123; }\n");
        // The container matches the context path decoded: so does the file's lookup.
        assertThat(sendRequestTarget("GET", "/%63tx/app/css/site.css").body()).asString()
                .isEqualTo("body { color: #123; }\n");

        // A missing file is PHP's, which routes below the context path and the prefix.
        Response missing = send("GET", "/app/nothing.css");
        assertThat(missing.fromPhp()).as("%s %s", missing.status(), missing.head()).isTrue();
        assertThat(new String(missing.body(), StandardCharsets.UTF_8))
                .contains("\"SCRIPT_NAME\":\"\\/ctx\\/app\"", "\"PATH_INFO\":\"\\/nothing.css\"");
        // The context path spelled otherwise: PHP still gets it as deployed, the prefix stripped.
        for (String target : new String[] {"/%63tx/app/nothing.css", "/ctx;a=b/app/nothing.css",
                "/ctx/app/../app/nothing.css"}) {
            Response spelled = sendRequestTarget("GET", target);
            assertThat(new String(spelled.body(), StandardCharsets.UTF_8)).as(target)
                    .contains("\"SCRIPT_NAME\":\"\\/ctx\\/app\"", "\"PATH_INFO\":\"\\/nothing.css\"");
        }
    }
}
