package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Hostile HTTP against the bridge, and hostile answers from PHP: never a 500 from Java, never a
 * crashed worker, never a header PHP should not be able to inject.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "folk.args=classpath:php/hostile-app.php", "folk.size=2", "folk.max-frame-length=1MB"})
@ExtendWith(OutputCaptureExtension.class)
class HostileHttpTest {

    @LocalServerPort
    int port;

    /**
     * Sends raw bytes and returns the status code of the answer. Sends from another thread while
     * this one reads, as a client must: a server may answer (413) and close before the body is
     * all sent, and the rest of the write then fails with a broken pipe, which is not the point.
     */
    private int raw(byte[] request) throws Exception {
        String statusLine = statusLine(request);
        assertThat(statusLine).startsWith("HTTP/1.1 ");
        return Integer.parseInt(statusLine.substring(9, 12));
    }

    /** The first line the server answers {@code request} with, empty if it closed without answering. */
    private String statusLine(byte[] request) throws Exception {
        CompletableFuture<Void> sent;
        String statusLine;
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            sent = CompletableFuture.runAsync(() -> {
                try {
                    out.write(request);
                    out.flush();
                } catch (IOException answeredEarly) {
                    // the server stopped reading once it had answered
                }
            });
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) != -1 && c != '\n') {
                head.write(c);
            }
            statusLine = head.toString(StandardCharsets.ISO_8859_1);
        }
        sent.get(10, TimeUnit.SECONDS); // closing the socket ends a write still blocked
        return statusLine;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void headerNamesOrValuesWithCrOrLfAreRejectedByTheServerNotByAnError() throws Exception {
        assertThat(raw(ascii("GET /php/x HTTP/1.1\r\nHost: a\r\nX-Bad: one\rtwo\r\n\r\n"))).isEqualTo(400);
        assertThat(raw(ascii("GET /php/x HTTP/1.1\r\nHost: a\r\nX-Bad\n: v\r\n\r\n"))).isEqualTo(400);
        assertThat(raw(ascii("GET /php/x HTTP/1.1\r\nHost: a\r\nX-Ba d: v\r\n\r\n"))).isEqualTo(400);
    }

    @Test
    void aHeaderBlockOverTheLimitIsRefused() throws Exception {
        String big = "X-Filler: " + "f".repeat(100 * 1024) + "\r\n";
        int status = raw(ascii("GET /php/x HTTP/1.1\r\nHost: a\r\n" + big + "\r\n"));
        assertThat(status).isIn(400, 431);
    }

    @Test
    void aBodyOverTheFrameLimitIs413() throws Exception {
        HttpResponse<byte[]> r = new Http(port).post("/php/x", new byte[2 * 1024 * 1024], "application/octet-stream");
        assertThat(r.statusCode()).isEqualTo(413);
        byte[] head = ascii("POST /php/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        ByteArrayOutputStream chunked = new ByteArrayOutputStream();
        chunked.write(head);
        for (int i = 0; i < 40; i++) { // 40 x 64 KiB, no Content-Length: the limit is counted while reading
            chunked.write(ascii("10000\r\n"));
            chunked.write(new byte[0x10000]);
            chunked.write(ascii("\r\n"));
        }
        chunked.write(ascii("0\r\n\r\n"));
        assertThat(raw(chunked.toByteArray())).isEqualTo(413);
    }

    @Test
    void aChunkedBodyWithoutContentLengthReachesPhpAndAnEmptyOneStaysEmpty() throws Exception {
        byte[] request = ascii("POST /php/echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, chunk\r\n0\r\n\r\n");
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\nhello, chunk");
        }
        HttpResponse<byte[]> empty = new Http(port).post("/php/echo", new byte[0], "application/octet-stream");
        assertThat(empty.statusCode()).isEqualTo(200);
        assertThat(empty.body()).isEmpty();
    }

    /**
     * A body that breaks chunked encoding: nginx answers 400 and closes the connection, and so does
     * the gateway (from the read listener's error, before Tomcat's error page could make it a 500).
     * PHP never sees the request.
     */
    @Test
    void aMalformedChunkedBodyIs400AndNeverReachesPhp() throws Exception {
        Http http = new Http(port);
        long before = successfulCalls(http);
        // A chunk size that is no hex number; a chunk without its CRLF.
        String head = "POST /php/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (String body : new String[] {"zz\r\nabc\r\n0\r\n\r\n", "3\r\nabcXX0\r\n\r\n"}) {
            String answer = statusLine(ascii(head + body));
            assertThat(answer).as("answer to a malformed chunked body").isEqualTo("HTTP/1.1 400 \r");
        }
        assertThat(successfulCalls(http)).isEqualTo(before);
        assertThat(http.get("/php/echo").statusCode()).isEqualTo(200);
        assertThat(successfulCalls(http)).isEqualTo(before + 1);
    }

    @SuppressWarnings("unchecked")
    private static long successfulCalls(Http http) throws Exception {
        return ((Number) ((Map<String, Object>) http.pool("default").get("calls")).get("success")).longValue();
    }

    @Test
    void invalidUtf8InThePathAndBodyIsPassedThroughAsBytes() throws Exception {
        Http http = new Http(port);
        byte[] body = {(byte) 0xff, (byte) 0xfe, 'a', (byte) 0xc3, 0x28, 0};
        HttpResponse<byte[]> echoed = http.post("/php/%FF%FE%C3%28", body, "application/octet-stream");
        assertThat(echoed.statusCode()).isEqualTo(200);
        assertThat(echoed.body()).isEqualTo(body);
        assertThat(raw(ascii("GET /php/\u00ff\u00fe HTTP/1.1\r\nHost: a\r\n\r\n"))).isIn(200, 400);
    }

    @Test
    void malformedAnswersFromPhpBecome502OrLoseTheBadHeaderNeverA500(CapturedOutput output) throws Exception {
        Http http = new Http(port);
        HttpResponse<byte[]> split = http.get("/php/split-header");
        assertThat(split.statusCode()).isEqualTo(200);
        assertThat(split.headers().map()).doesNotContainKey("x-evil").doesNotContainKey("set-cookie");
        assertThat(split.headers().firstValue("x-fine")).contains("ok");

        HttpResponse<byte[]> badName = http.get("/php/bad-header-name");
        assertThat(badName.statusCode()).isEqualTo(200);
        assertThat(new String(badName.body())).isEqualTo("body");

        assertThat(http.get("/php/bad-status").statusCode()).isEqualTo(502);
        assertThat(http.get("/php/not-a-response").statusCode()).isEqualTo(502);
        assertThat(output).contains("Dropped response header");
    }

    @Test
    void noneOfThisCrashedAWorker() throws Exception {
        invalidUtf8InThePathAndBodyIsPassedThroughAsBytes();
        aBodyOverTheFrameLimitIs413();
        @SuppressWarnings("unchecked")
        Map<String, Object> exits = (Map<String, Object>) new Http(port).pool("default").get("exits");
        assertThat(exits.get("crash")).isEqualTo(0);
        assertThat(exits.get("protocol-error")).isEqualTo(0);
    }
}
