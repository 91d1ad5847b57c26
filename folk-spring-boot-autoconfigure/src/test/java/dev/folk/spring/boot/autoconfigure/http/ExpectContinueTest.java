package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import com.jayway.jsonpath.JsonPath;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;

/**
 * {@code Expect: 100-continue} answered as nginx answers it in front of PHP-FPM: a client whose body
 * the gateway refuses by its Content-Length gets the 413 without a {@code 100 Continue}, so it never
 * sends the body (curl expects a 100 before any upload over 1MB); every other client that expects
 * one gets it before its body is read, through the gateway and through Spring MVC alike. Raw
 * sockets: each test reads the interim answer before it sends a body, as such a client does, and a
 * 100 that never came would fail it by the read's time-out.
 */
@SpringBootTest(classes = {WebTestApplication.class, ExpectContinueTest.Echo.class},
        webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.size=1",
    "folk.shutdown.signal-handler=false",
    "folk.http.mappings[0].path=/php/**",
    "folk.http.max-body-size=1KB",
})
@DirtiesContext
class ExpectContinueTest {

    private static final String TAG = Workers.newTag();

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        TestWorkers.use(registry, TestWorkers.HTTP, TAG);
    }

    @LocalServerPort
    int port;

    /** A Spring MVC endpoint beside the gateway, which reads its body through a message converter. */
    @RestController
    static class Echo {
        @PostMapping("/mvc/echo")
        String echo(@RequestBody String body) {
            return "mvc:" + body;
        }
    }

    @Test
    void aBodyOverTheLimitIs413WithoutA100AndTheAnswerEndsWithoutWaitingForTheBody() throws Exception {
        try (Socket s = connect()) {
            send(s, "POST /php/dump HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
            // To the end: the server closes the connection once the answer is out, without reading a body.
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(answer).startsWith("HTTP/1.1 413").contains("1024-byte limit").doesNotContain("100 Continue");
            // Its length is given (a refusal that waits for the body to be dropped is close-delimited).
            assertThat(answer.toLowerCase()).contains("content-length:").contains("connection: close");
        }
    }

    @Test
    void aBodyWithinTheLimitGetsA100ThenReachesPhp() throws Exception {
        String answer = continued("POST /php/dump HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n",
                "hello");
        assertThat(answer).startsWith("HTTP/1.1 200");
        assertThat((String) JsonPath.read(answer.substring(answer.indexOf("\r\n\r\n") + 4), "$.body")).isEqualTo("hello");
    }

    @Test
    void aChunkedBodyOfUnknownLengthGetsA100ThenIsReadToTheLimit() throws Exception {
        String answer = continued("POST /php/dump HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n",
                "5\r\nhello\r\n0\r\n\r\n");
        assertThat(answer).startsWith("HTTP/1.1 200").contains("\"body\":\"hello\"");
    }

    @Test
    void springMvcsRequestsGetTheir100AsBefore() throws Exception {
        String body = "x".repeat(5000); // no gateway limit outside its mappings
        String answer = continued("POST /mvc/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n"
                + "Content-Type: text/plain\r\n", body);
        assertThat(answer).startsWith("HTTP/1.1 200").endsWith("mvc:" + body);
    }

    /**
     * Sends {@code head} (its lines, without the blank one) expecting a 100, waits for the 100 before
     * it sends {@code body}, as a client that expects one does, and returns the final answer.
     */
    private String continued(String head, String body) throws IOException {
        try (Socket s = connect()) {
            send(s, head + "Expect: 100-continue\r\nConnection: close\r\n\r\n");
            assertThat(head(s.getInputStream())).startsWith("HTTP/1.1 100");
            send(s, body);
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10_000); // a 100 that never comes fails the read
        return s;
    }

    private static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    /** The next response head, up to its blank line, read byte by byte so that nothing after it is taken. */
    private static String head(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
