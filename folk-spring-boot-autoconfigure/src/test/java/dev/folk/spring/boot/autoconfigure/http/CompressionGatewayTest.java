package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

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
 * PHP's answers under Spring Boot's response compression ({@code server.compression.enabled}): compressed
 * as Tomcat compresses any answer, except a range PHP answered itself, whose {@code Content-Range}
 * counts the bytes PHP sent (nginx's gzip never compresses a 206 either).
 */
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.pools.main.size=1",
    "folk.shutdown.signal-handler=false",
    "folk.http.mappings[0].path=/php/**",
    "folk.http.mappings[0].pool=main",
    "server.compression.enabled=true",
    "server.compression.min-response-size=1"
})
@DirtiesContext
class CompressionGatewayTest {

    private static final String TAG = Workers.newTag();

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        TestWorkers.use(registry, TestWorkers.HTTP, TAG);
    }

    @LocalServerPort
    int port;

    private final HttpClient client = HttpClient.newHttpClient();

    private HttpResponse<byte[]> gzipGet(String path) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void aPageIsCompressedButARangePhpAnsweredGoesOutAsPhpSentIt() throws Exception {
        HttpResponse<byte[]> page = gzipGet("/php/large?kb=4");
        assertThat(page.headers().firstValue("Content-Encoding")).as("compression is on").hasValue("gzip");
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(page.body()))) {
            assertThat(in.readAllBytes()).hasSize(4096);
        }

        HttpResponse<byte[]> range = gzipGet("/php/range?from=1000&to=1099");
        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(range.headers().firstValue("Content-Encoding")).as("no gzip of a range").isEmpty();
        assertThat(range.headers().firstValue("Content-Range")).hasValue("bytes 1000-1099/5120");
        assertThat(range.headers().firstValue("Content-Length")).hasValue("100");
        assertThat(new String(range.body(), StandardCharsets.US_ASCII))
                .isEqualTo("0123456789abcdef".repeat(320).substring(1000, 1100));

        HttpResponse<byte[]> after = gzipGet("/php/large?kb=4");
        assertThat(after.headers().firstValue("Content-Encoding")).as("the next request is compressed again")
                .hasValue("gzip");
    }
}
