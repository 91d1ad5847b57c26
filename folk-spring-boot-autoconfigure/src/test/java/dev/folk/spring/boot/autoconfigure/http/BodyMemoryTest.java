package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;
import dev.folk.spring.boot.http.FolkHttpGateway;

/**
 * Request bodies share {@code folk.http.body-memory}: a body with no room left is answered 503
 * (Retry-After, its connection closed, PHP not called) instead of growing the heap until it runs
 * out, and every body's memory comes back, whether its call ended or its client went away; the
 * {@code folk.http.body.memory.*} meters show both.
 */
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.pools.main.size=1",
    "folk.shutdown.signal-handler=false",
    "folk.http.mappings[0].path=/php/**",
    "folk.http.mappings[0].pool=main",
    "folk.http.max-body-size=1MB",
    "folk.http.body-memory=100KB",
    "folk.http.retry-after=2s"
})
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
class BodyMemoryTest {

    private static final String TAG = Workers.newTag();

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        TestWorkers.use(registry, TestWorkers.HTTP, TAG);
    }

    @LocalServerPort
    int port;

    @Autowired
    FolkHttpGateway gateway;

    @Autowired
    MeterRegistry registry;

    private double meter(String name) {
        return registry.get(name).meter().measure().iterator().next().getValue();
    }

    private static byte[] head(int length) {
        return ("POST /php/dump HTTP/1.1\r\nHost: a\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                + length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] body(int length) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) 'x');
        return b;
    }

    private static String answer(Socket s) throws IOException {
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    private String post(int length) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(head(length));
            s.getOutputStream().write(body(length));
            return answer(s);
        }
    }

    /**
     * A body larger than all the memory for bodies could never be taken: 413, not a 503 that asks
     * to try again (start-up warns of the configuration); one just under it is served. A chunked
     * body grows its buffer up to that memory, not past it.
     */
    @Test
    void aBodyLargerThanAllTheMemoryForBodiesIs413() throws Exception {
        assertThat(post(100 * 1024 + 1)).startsWith("HTTP/1.1 413")
                .contains("over the 102400 bytes this server keeps for request bodies");
        String chunked = "POST /php/dump HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + Integer.toHexString(90_000) + "\r\n" + "x".repeat(90_000) + "\r\n0\r\n\r\n";
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(chunked.getBytes(StandardCharsets.ISO_8859_1));
            assertThat(answer(s)).as("90000 chunked bytes, buffer capped at 102400").startsWith("HTTP/1.1 200");
        }
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(chunked.replace("15f90", Integer.toHexString(110_000)).replace("x".repeat(90_000),
                    "x".repeat(110_000)).getBytes(StandardCharsets.ISO_8859_1));
            assertThat(answer(s)).startsWith("HTTP/1.1 413");
        }
        Procs.await(Duration.ofSeconds(10), "every body's memory back", () -> gateway.bodyBytes() == 0);
    }

    @Test
    void aBodyWithNoRoomLeftIs503AndEveryBodysMemoryComesBack(CapturedOutput output) throws Exception {
        assertThat(gateway.options().bodyMemory()).isEqualTo(100 * 1024);
        try (Socket first = new Socket("127.0.0.1", port)) {
            first.setSoTimeout(20_000);
            OutputStream out = first.getOutputStream();
            // 90000 of the 102400 bytes, held while the last byte has not arrived.
            out.write(head(90_000));
            out.write(body(89_999));
            out.flush();
            Procs.await(Duration.ofSeconds(10), "the first body counted", () -> gateway.bodyBytes() == 90_000,
                    () -> gateway.bodyBytes() + " bytes counted");
            assertThat(meter("folk.http.body.memory.used")).isEqualTo(90_000);
            assertThat(meter("folk.http.body.memory.max")).isEqualTo(100 * 1024);
            assertThat(meter("folk.http.body.memory.refused")).isZero();

            // The next body's first 16 KB do not fit: 503 at once, without waiting for the body.
            try (Socket second = new Socket("127.0.0.1", port)) {
                second.setSoTimeout(20_000);
                second.getOutputStream().write(head(20_000));
                String refused = answer(second);
                assertThat(refused).startsWith("HTTP/1.1 503").contains("Retry-After: 2")
                        .contains("Connection: close").contains("busy receiving other request bodies");
            }
            assertThat(meter("folk.http.body.memory.refused")).isEqualTo(1);
            assertThat(output.getOut()).contains("Request body of POST /php/dump answered 503")
                    .contains("folk.http.body-memory (102400 bytes)");

            out.write('x');
            assertThat(answer(first)).startsWith("HTTP/1.1 200").contains("\"REQUEST_METHOD\":\"POST\"");
        }
        Procs.await(Duration.ofSeconds(10), "the first body's memory back", () -> gateway.bodyBytes() == 0,
                () -> gateway.bodyBytes() + " bytes counted");
        assertThat(post(20_000)).startsWith("HTTP/1.1 200");

        // A client that leaves halfway through its body gives its memory back too.
        try (Socket leaving = new Socket("127.0.0.1", port)) {
            leaving.getOutputStream().write(head(60_000));
            leaving.getOutputStream().write(body(40_000));
            leaving.getOutputStream().flush();
            Procs.await(Duration.ofSeconds(10), "the body counted", () -> gateway.bodyBytes() > 0);
        }
        Procs.await(Duration.ofSeconds(10), "the memory of a body whose client left back", () -> gateway.bodyBytes() == 0,
                () -> gateway.bodyBytes() + " bytes counted");
        assertThat(post(90_000)).startsWith("HTTP/1.1 200");
        assertThat(gateway.bodyBytes()).isZero();
        assertThat(meter("folk.http.body.memory.used")).isZero();
    }
}
