package dev.folk.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/**
 * The HTTP gateway in an application served by Jetty: the module's classpath has Jetty and no
 * Tomcat, as an application that swapped the container has. Streamed answers on both paths (a
 * GET that finds the worker idle is called on Jetty's thread; a POST reads its body first), and
 * a client that stops reading, whose cut Jetty must take quietly: one warning, ours, not Jetty's
 * own report of the exception the gateway ends the request with. A fallback mapping of every other
 * path: Spring MVC's controller first, PHP for the rest.
 */
@SpringBootTest(classes = JettyGatewayTest.App.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.size=1",
    "folk.max-frame-length=64KB",
    "folk.shutdown.signal-handler=false",
    "folk.http.mappings[0].path=/s/**",
    "folk.http.mappings[1].path=/**",
    "folk.http.mappings[1].fallback=true",
    "folk.http.body-timeout=2s",
})
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
class JettyGatewayTest {

    private static final String TAG = Workers.newTag();

    /** The autoconfigure module's streamed-answer worker (its header lists the paths it answers). */
    private static final Path WORKER = Path.of("../folk-spring-boot-autoconfigure/src/test/php/stream-worker.php")
            .toAbsolutePath().normalize();

    /** A part as large as a 64 KB frame allows. */
    private static final int PART = 64 * 1024 - 64;

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(Ping.class)
    static class App {
    }

    @RestController
    static class Ping {

        @GetMapping("/spring/ping")
        String ping() {
            return "pong";
        }
    }

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        assertThat(Files.isRegularFile(WORKER)).as("%s (run the tests from the module directory)", WORKER).isTrue();
        registry.add("folk.args", WORKER::toString);
        registry.add("folk.env.FOLK_TEST_RUN", () -> TAG);
    }

    @LocalServerPort
    int port;

    @Autowired
    WorkerPool pool;

    @Autowired
    WebServerApplicationContext context;

    @Test
    void theApplicationRunsOnJetty() {
        assertThat(context.getWebServer().getClass().getName()).contains("Jetty");
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void aStreamedAnswerOfManyPartsArrivesWhole(String method) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/s/big?parts=40&size=" + PART))
                .timeout(Duration.ofSeconds(30));
        request = method.equals("GET") ? request.GET() : request.POST(HttpRequest.BodyPublishers.ofString("a=b"))
                .header("Content-Type", "application/x-www-form-urlencoded");
        HttpResponse<byte[]> answer = HttpClient.newHttpClient().send(request.build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.headers().firstValue("X-Streamed")).hasValue("yes");
        byte[] body = answer.body();
        assertThat(body).hasSize(40 * PART + 4);
        for (int k = 0; k < 40; k++) {
            assertThat(body[k * PART]).as("part %d", k).isEqualTo((byte) ('A' + k % 26));
            assertThat(body[(k + 1) * PART - 1]).as("part %d", k).isEqualTo((byte) ('A' + k % 26));
        }
        assertThat(new String(body, 40 * PART, 4, StandardCharsets.US_ASCII)).isEqualTo("tail");
        workerIsIdle();
    }

    /** As on Tomcat (FallbackMappingIntegrationTest): Spring MVC's handler answers its path, PHP every other one, bodies whole. */
    @Test
    void aFallbackMappingLeavesSpringItsPathsAndGivesPhpTheRest() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<String> spring = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/spring/ping")).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(spring.body()).isEqualTo("pong");
        for (String method : new String[] {"GET", "POST"}) {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/legacy/page"))
                    .timeout(Duration.ofSeconds(30));
            request = method.equals("GET") ? request.GET() : request.POST(HttpRequest.BodyPublishers.ofString("a=b"))
                    .header("Content-Type", "application/x-www-form-urlencoded");
            HttpResponse<String> php = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(php.statusCode()).as(method).isEqualTo(404);
            assertThat(php.body()).as("%s: the worker's own 404", method).isEqualTo("no such test");
        }
        workerIsIdle();
    }

    /** As on Tomcat (StreamedAnswerTest): cut after body-timeout, without the last chunk, and the worker serves on. */
    @Test
    void aClientThatStopsReadingIsCutAfterTheBodyTimeoutWithOneWarningOurs(CapturedOutput output) throws IOException {
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(new InetSocketAddress("127.0.0.1", port));
            s.setSoTimeout(30_000);
            s.getOutputStream().write(("GET /s/big?parts=300&size=" + PART + " HTTP/1.1\r\nHost: test\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            in.readNBytes(16);
            workerIsIdle(); // PHP has answered: the rest waits for the client in the gateway
            in.readNBytes(4 * 1024 * 1024);
            Procs.await(Duration.ofSeconds(20), "the cut", () -> output.getOut().contains("its client took nothing"));
            byte[] rest = in.readAllBytes();
            assertThat(new String(rest, StandardCharsets.ISO_8859_1)).doesNotEndWith("0\r\n\r\n");
            assertThat(16 + 4 * 1024 * 1024 + rest.length).isLessThan(300 * PART);
        }
        String log = output.getOut() + output.getErr();
        assertThat(log.split("its client took nothing", -1)).as("one warning for the cut").hasSize(2);
        assertThat(log).as("Jetty reports nothing of its own").doesNotContain("handleException")
                .doesNotContain("StreamCutException");
        workerIsIdle();
    }

    /**
     * {@code Expect: 100-continue} as on Tomcat (ExpectContinueTest) and nginx: Jetty sends the 100
     * only when the application first reads the body, and the gateway reads a body it refuses by its
     * Content-Length only after the 413 is out, so that client gets no 100; one within the limit gets
     * the 100 when the gateway starts reading it.
     */
    @Test
    void expectContinueIsAnsweredOnlyForABodyTheGatewayReads() throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /s/cycle/cleaned HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n"
                    + "Expect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(answer).startsWith("HTTP/1.1 413").doesNotContain(" 100 ");
        }
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /s/cycle/cleaned HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n"
                    + "Expect: 100-continue\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] interim = s.getInputStream().readNBytes(12);
            assertThat(new String(interim, StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 100");
            s.getOutputStream().write("a=b".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(answer).contains("HTTP/1.1 200");
        }
        workerIsIdle();
    }

    /** As on Tomcat and as nginx passes PHP-FPM's: a HEAD PHP declared no length for says none, not 0. */
    @Test
    void aHeadWithoutALengthFromPhpSaysNone() throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write("HEAD /s/cycle/cleaned HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(answer).startsWith("HTTP/1.1 200").endsWith("\r\n\r\n");
            assertThat(answer.toLowerCase(java.util.Locale.ROOT)).as(answer).doesNotContain("content-length:")
                    .doesNotContain("transfer-encoding:");
        }
        workerIsIdle();
    }

    /** Jetty adds a Date of its own: PHP's replaces it, one Date as on Tomcat and nginx. */
    @Test
    void phpsDateIsTheOnlyDate() throws IOException {
        String answer = exchange("GET /s/cycle/dated HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        assertThat(answer).startsWith("HTTP/1.1 200").endsWith("dated");
        assertThat(answer.toLowerCase(java.util.Locale.ROOT).split("\r\ndate:", -1)).as(answer).hasSize(2);
        assertThat(answer).contains("\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n");
        workerIsIdle();
    }

    /** RFC 9110 15.4.5: a 304 has no body; nginx passes PHP-FPM's without a Content-Type or a length PHP did not set. */
    @Test
    void aNotModifiedFromPhpHasNoContentTypeOrLengthOfItsOwn() throws IOException {
        String answer = exchange("GET /s/cycle/dated?status=304 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        assertThat(answer).startsWith("HTTP/1.1 304").endsWith("\r\n\r\n").contains("ETag: \"v1\"");
        assertThat(answer.toLowerCase(java.util.Locale.ROOT)).as(answer).doesNotContain("content-type:")
                .doesNotContain("content-length:");
        workerIsIdle();
    }

    private String exchange(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private void workerIsIdle() {
        Procs.await(Duration.ofSeconds(15), "the worker idle", () -> pool.snapshot().count(WorkerState.IDLE) == 1);
    }
}
