package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The sample app under a servlet context path: its PHP pages are below it, as its Java ones are.
 * They answered 404 "No PHP page" there, routing on the whole path.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "server.servlet.context-path=/app", "folk.size=1", "folk.pools.slim.size=1",
        "folk.env.FOLK_TEST_RUN=" + SampleAppTest.TAG})
class UnderContextPathTest {

    @LocalServerPort
    int port;

    @Test
    void thePhpPagesAreServedBelowTheContextPath() throws Exception {
        HttpResponse<byte[]> hello = new Http(port).get("/app/php/hello");
        assertThat(hello.statusCode()).isEqualTo(200);
        assertThat(new String(hello.body(), StandardCharsets.UTF_8)).startsWith("Hello from PHP 8.");
        HttpResponse<byte[]> echoed = new Http(port).post("/app/php/echo", "x=1".getBytes(StandardCharsets.UTF_8),
                "application/x-www-form-urlencoded");
        assertThat(new String(echoed.body(), StandardCharsets.UTF_8)).isEqualTo("x=1");
    }

    /** The live page names its pages and endpoints relative to itself: each one it links to is there. */
    @Test
    void theLivePagesLinksStayBelowTheContextPath() throws Exception {
        HttpResponse<byte[]> page = new Http(port).get("/app/");
        assertThat(page.statusCode()).isEqualTo(200);
        String html = new String(page.body(), StandardCharsets.UTF_8);
        java.util.regex.Matcher links = java.util.regex.Pattern.compile("(?:href|src)=\"([^\"]+)\"").matcher(html);
        int seen = 0;
        while (links.find()) {
            String link = links.group(1);
            assertThat(link).as("relative to the page").doesNotStartWith("/");
            assertThat(new Http(port).get("/app/" + link).statusCode()).as(link).isLessThan(400);
            seen++;
        }
        assertThat(seen).as("links and scripts").isGreaterThan(5);
    }
}
