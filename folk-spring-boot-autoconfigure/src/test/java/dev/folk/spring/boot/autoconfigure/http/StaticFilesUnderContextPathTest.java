package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/**
 * {@link StaticFilesIntegrationTest} in an application under a servlet context path
 * ({@code server.servlet.context-path}): every request's path starts with it, and the files are
 * named by the path below it, as without one. PHP, for the paths that are not files, gets the
 * context path in {@code SCRIPT_NAME}, with the mapping's prefix if it strips it. Behind Spring's
 * {@code ForwardedHeaderFilter}, an {@code X-Forwarded-Prefix} takes the context path's place.
 */
@TestPropertySource(properties = {"server.servlet.context-path=/ctx", "server.forward-headers-strategy=framework"})
class StaticFilesUnderContextPathTest extends StaticFilesIntegrationTest {

    /**
     * A mapping that does not strip its prefix: the context path is still where the application is
     * mounted, so PHP's path, like a file's name, is below it (a script runner finds its script
     * where the public file of that name would be).
     */
    @Test
    void aMappingThatKeepsItsPrefixGivesPhpTheContextPathAsScriptName() throws Exception {
        assertThat(send("GET", "/php/robots.txt").body()).asString().isEqualTo("User-agent: *\n");
        Response missing = send("GET", "/php/nothing.txt");
        assertThat(missing.fromPhp()).isTrue();
        assertThat(new String(missing.body(), StandardCharsets.UTF_8))
                .contains("\"SCRIPT_NAME\":\"\\/ctx\"", "\"PATH_INFO\":\"\\/php\\/nothing.txt\"");
    }

    /**
     * {@code server.forward-headers-strategy: framework} and a proxy that strips a prefix and says so
     * ({@code X-Forwarded-Prefix}, as Traefik's StripPrefix and Spring Cloud Gateway send it): Spring's
     * filter gives the prefix as the context path and in the request URI, and the gateway follows it,
     * for the files as for PHP. It used to look for the deployed context path there: PHP got the whole
     * path as PATH_INFO, and no file was served.
     */
    @Test
    void aForwardedPrefixTakesTheContextPathsPlaceForFilesAndForPhp() throws Exception {
        Response css = send("GET", "/app/css/site.css", "X-Forwarded-Prefix: /pre");
        assertThat(css.status()).isEqualTo(200);
        assertThat(css.fromPhp()).isFalse();
        assertThat(css.body()).asString().isEqualTo("body { color: #123; }\n");

        Response missing = send("GET", "/app/nothing.css", "X-Forwarded-Prefix: /pre/");
        assertThat(missing.fromPhp()).isTrue();
        assertThat(new String(missing.body(), StandardCharsets.UTF_8)).contains(
                "\"SCRIPT_NAME\":\"\\/pre\\/app\"", "\"PATH_INFO\":\"\\/nothing.css\"",
                "\"REQUEST_URI\":\"\\/pre\\/app\\/nothing.css\"");
        // A prefix that is not ASCII: SCRIPT_NAME in UTF-8, as REQUEST_URI carries it (not one byte per character).
        Response accented = send("GET", "/app/nothing.css", "X-Forwarded-Prefix: /pr\u00e9");
        assertThat(new String(accented.body(), StandardCharsets.UTF_8)).contains(
                "\"SCRIPT_NAME\":\"\\/pr\\u00e9\\/app\"", "\"REQUEST_URI\":\"\\/pr\\u00e9\\/app\\/nothing.css\"");
        Response kept = send("GET", "/php/nothing.txt", "X-Forwarded-Prefix: /pre");
        assertThat(new String(kept.body(), StandardCharsets.UTF_8))
                .contains("\"SCRIPT_NAME\":\"\\/pre\"", "\"PATH_INFO\":\"\\/php\\/nothing.txt\"");
    }

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
