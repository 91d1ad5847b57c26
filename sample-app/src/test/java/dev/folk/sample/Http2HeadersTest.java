package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The sample app with HTTP/2 on ({@code server.http2.enabled}, h2c on plain HTTP): a request of
 * over 100 header lines reaches PHP as over HTTP/1.1 and as nginx passes it on. Tomcat's HTTP/2
 * default resets its stream.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "server.http2.enabled=true", "folk.size=1", "folk.pools.slim.size=1",
        "folk.env.FOLK_TEST_RUN=" + SampleAppTest.TAG})
class Http2HeadersTest {

    @LocalServerPort
    int port;

    @Test
    void overAHundredHeaderLinesReachPhpOverHttp2() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(10)).build();
        // The first request upgrades the connection to h2c; the second goes over HTTP/2.
        HttpResponse<String> first = client.send(HttpRequest.newBuilder(uri("/php/hello")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(first.statusCode()).isEqualTo(200);
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/php/headers")).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < 150; i++) {
            request.header("X-H" + i, "v");
        }
        HttpResponse<String> answer = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.body().toLowerCase(java.util.Locale.ROOT)).contains("\"x-h149\":\"v\"");
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
