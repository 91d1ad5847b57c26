package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;

/**
 * Streamed answers through the gateway (docs/PROTOCOL.md, "Streamed answers"), over raw sockets:
 * a body larger than the frame limit arrives whole, a part reaches the client while PHP still
 * works, and an answer whose worker dies after its head went out ends as a cut connection, never
 * as a complete response. Each on both of the gateway's paths: a GET answered on the container
 * thread before the request goes asynchronous, and a POST, read and answered asynchronously.
 */
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.size=1",
    "folk.exec-timeout=30s",
    "folk.max-frame-length=64KB",
    "folk.shutdown.signal-handler=false",
    "folk.http.mappings[0].path=/s/**",
    "folk.http.max-body-size=1KB",
    "folk.http.body-timeout=2s",
})
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
class StreamedAnswerTest {

    private static final String TAG = Workers.newTag();

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        TestWorkers.use(registry, TestWorkers.STREAM, TAG);
    }

    @LocalServerPort
    int port;

    @Autowired
    WorkerPool pool;

    @TempDir
    Path dir;

    @BeforeEach
    void workerIsIdle() {
        Procs.await(Duration.ofSeconds(15), "the worker idle", () -> pool.snapshot().count(WorkerState.IDLE) == 1);
    }

    /** The request's bytes: a GET, or a POST with a small body (the gateway's asynchronous path). */
    private byte[] request(String method, String target) {
        String body = method.equals("POST") ? "a=b" : "";
        String head = method + " " + target + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
                + (body.isEmpty() ? "" : "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                + body.length() + "\r\n") + "\r\n";
        return (head + body).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    /** Reads into {@code got} until {@code enough} says so; fails if the connection ends first. */
    private static void readUntil(InputStream in, ByteArrayOutputStream got, Predicate<byte[]> enough) throws IOException {
        byte[] buffer = new byte[8192];
        while (!enough.test(got.toByteArray())) {
            int n = in.read(buffer);
            assertThat(n).as("the connection ended after: %s", text(got.toByteArray())).isPositive();
            got.write(buffer, 0, n);
        }
    }

    /** Whether {@code raw} holds a whole response: its last chunk, or as many bytes as its Content-Length says. */
    private static boolean complete(byte[] raw) {
        String all = text(raw);
        int end = all.indexOf("\r\n\r\n");
        if (end < 0) {
            return false;
        }
        Matcher length = Pattern.compile("(?i)\r\nContent-Length: (\\d+)\r\n")
                .matcher(all.substring(0, end + 2));
        return length.find() ? raw.length - end - 4 >= Integer.parseInt(length.group(1)) : all.endsWith("0\r\n\r\n");
    }


    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void anAnswerLargerThanTheFrameLimitArrivesWholeInParts(String method) throws IOException {
        // 40 parts of up to 60 000 bytes: 2.4 MB through a 64 KiB frame limit.
        byte[] raw;
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request(method, "/s/big?parts=40&size=60000"));
            raw = s.getInputStream().readAllBytes();
        }
        String head = text(raw).substring(0, text(raw).indexOf("\r\n\r\n"));
        assertThat(head).startsWith("HTTP/1.1 200").contains("X-Streamed: yes", "Transfer-Encoding: chunked")
                .doesNotContain("Content-Length");
        byte[] body = ChunkedBody.of(raw);
        int part = Math.min(60_000, 64 * 1024 - 64);
        assertThat(body).hasSize(40 * part + "tail".length());
        for (int k = 0; k < 40; k++) {
            assertThat(body[k * part]).as("part %d", k).isEqualTo((byte) ('A' + k % 26));
            assertThat(body[k * part + part - 1]).as("end of part %d", k).isEqualTo((byte) ('A' + k % 26));
        }
        assertThat(text(body)).endsWith("tail");
    }

    /** The raw response to one request on its own connection, read until the server closes it. */
    private byte[] exchange(String method, String target) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request(method, target));
            return s.getInputStream().readAllBytes();
        }
    }

    /**
     * The raw response to a request whose PHP waits for file {@code go}: read until {@code seen}
     * says PHP's first part arrived, checked by {@code atPause} while PHP still waits, then {@code go}
     * is created and the rest read until the server closes the connection.
     */
    private byte[] pausedExchange(String method, String target, Path go, Predicate<byte[]> seen,
                                  Consumer<String> atPause) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request(method, target + (target.contains("?") ? "&" : "?") + "file=" + go));
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            readUntil(in, got, seen);
            atPause.accept(text(got.toByteArray()));
            Files.createFile(go);
            got.write(in.readAllBytes());
            return got.toByteArray();
        }
    }

    /**
     * A download whose size PHP declares (Symfony's BinaryFileResponse, a script's
     * {@code header('Content-Length: ...')}) goes out with that Content-Length, not chunked, as
     * nginx passes PHP-FPM's: the client knows its size before the body.
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void aStreamedAnswerGoesOutWithTheContentLengthPhpDeclared(String method) throws IOException {
        int part = Math.min(60_000, 64 * 1024 - 64);
        int total = 5 * part + "tail".length();
        byte[] raw = exchange(method, "/s/big?parts=5&size=60000&length=" + total);
        String all = text(raw);
        String head = all.substring(0, all.indexOf("\r\n\r\n"));
        assertThat(head).startsWith("HTTP/1.1 200").contains("X-Streamed: yes", "Content-Length: " + total)
                .doesNotContain("Transfer-Encoding");
        byte[] body = Arrays.copyOfRange(raw, head.length() + 4, raw.length);
        assertThat(body).hasSize(total);
        assertThat(text(body)).startsWith("AAAA").contains("EEEE").endsWith("tail");
    }

    /**
     * PHP sends fewer bytes than it declared: a client would wait for the rest, or take the next
     * response's bytes for them, so the connection is cut, as nginx cuts it when PHP-FPM's answer
     * ends short. Bytes past the declared length are dropped, as nginx drops them.
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void anAnswerShortOfItsContentLengthIsCutAndOneOverItIsKeptToIt(String method, CapturedOutput output)
            throws IOException {
        // Read until the first part: the head went out before PHP's answer ended short.
        String shortOne = text(pausedExchange(method, "/s/wait?length=1000", dir.resolve("short-" + method),
                bytes -> text(bytes).contains("first\n"), atPause -> { }));
        // What was held when PHP's answer ended short is dropped with the cut, as when a worker dies mid-stream.
        assertThat(shortOne).startsWith("HTTP/1.1 200").contains("Content-Length: 1000\r\n", "\r\n\r\nfirst\n");
        assertThat(shortOne.length() - shortOne.indexOf("\r\n\r\n") - 4).as("body bytes before the cut")
                .isLessThan(1000);
        Procs.await(Duration.ofSeconds(15), "the log line",
                () -> output.getOut().contains("bytes its Content-Length declared"));

        byte[] over = exchange(method, "/s/big?parts=3&size=60000&length=100000");
        String overHead = text(over).substring(0, text(over).indexOf("\r\n\r\n"));
        assertThat(overHead).contains("Content-Length: 100000");
        assertThat(over.length - overHead.length() - 4).as("the declared length, no more").isEqualTo(100_000);
        Procs.await(Duration.ofSeconds(15), "the log line",
                () -> output.getOut().contains("bytes past the Content-Length (100000)"));
        assertThat(output.getOut() + output.getErr()).doesNotContain("Servlet.service()");
    }

    /** An invalid Content-Length: nobody could tell where the body ends, so 502, as nginx answers it. */
    @Test
    void anInvalidContentLengthIs502() throws IOException {
        assertThat(text(exchange("GET", "/s/big?parts=1&size=10&length=12abc"))).startsWith("HTTP/1.1 502");
        assertThat(text(exchange("GET", "/s/big?parts=1&size=10&length=14"))).startsWith("HTTP/1.1 200");
    }

    /**
     * A body part before the head: 502, never the rest of the answer alone as if it were all of it
     * (the part that came first would be lost without a trace).
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void aPartBeforeTheHeadIs502(String method, CapturedOutput output) throws IOException {
        assertThat(text(exchange(method, "/s/body-first"))).startsWith("HTTP/1.1 502")
                .doesNotContain("early", "later", "rest");
        Procs.await(Duration.ofSeconds(15), "the log line", () -> output.getOut().contains("before the head ('http.head')"));
        workerIsIdle();
        assertThat(text(exchange(method, "/s/big?parts=1&size=10"))).startsWith("HTTP/1.1 200");
    }

    /**
     * A second head: once the first went out the status cannot change any more, so the connection
     * is cut (no last chunk); if nothing went out yet, a 502. Never a complete-looking answer.
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void aSecondHeadCutsTheConnection(String method, CapturedOutput output) throws IOException {
        String all = text(exchange(method, "/s/two-heads"));
        assertThat(all).doesNotContain("second", "rest");
        if (!all.startsWith("HTTP/1.1 502")) {
            assertThat(all).startsWith("HTTP/1.1 200").doesNotEndWith("0\r\n\r\n");
        }
        Procs.await(Duration.ofSeconds(15), "the log line", () -> output.getOut().contains("a second head"));
        workerIsIdle();
    }

    /** A head with more headers than the container can write: 502, as for a whole answer, not its 500. */
    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void aHeadPastWhatTheServerCanWriteIs502(String method, CapturedOutput output) throws IOException {
        assertThat(text(exchange(method, "/s/big?parts=1&size=10&header=20000"))).startsWith("HTTP/1.1 502")
                .doesNotContain("hhhhhhhh");
        assertThat(text(exchange(method, "/s/big?parts=1&size=10&header=2000"))).startsWith("HTTP/1.1 200")
                .contains("hhhhhhhh");
        assertThat(output.getOut()).contains("more than the server's limit of 8192 bytes")
                .doesNotContain("cut after its head went out");
        assertThat(output.getOut() + output.getErr()).doesNotContain("HeadersTooLargeException");
        workerIsIdle();
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void aPartReachesTheClientWhilePhpStillWorks(String method) throws IOException {
        // PHP waits for the file before it goes on: the first part must arrive without the rest.
        byte[] all = pausedExchange(method, "/s/wait", dir.resolve("go-" + method),
                bytes -> text(bytes).contains("first\n"), atPause -> assertThat(atPause).doesNotContain("second"));
        assertThat(text(ChunkedBody.of(all))).isEqualTo("first\nsecond\nend\n");
    }

    /**
     * Server-sent events as legacy PHP writes them: every output buffer closed, each event echoed
     * and flush()ed. PHP hands those bytes to its SAPI past all buffers, which PHP-FPM sends at
     * once and a CLI process writes to its stdout (folk-worker-php's UnbufferedOutput sends them
     * on): the first event reaches the client while PHP waits, with the script's header.
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void eventsPrintedPastEveryOutputBufferReachTheClientWhilePhpStillWorks(String method) throws IOException {
        byte[] all = pausedExchange(method, "/s/cycle/events", dir.resolve("events-" + method),
                bytes -> text(bytes).contains("data: first"), atPause -> assertThat(atPause)
                        .contains("Content-Type: text/event-stream").doesNotContain("data: second"));
        assertThat(text(ChunkedBody.of(all))).isEqualTo("data: first\n\ndata: second\n\n");
    }

    /**
     * A client that goes away from a stream that would go on (a closed tab on server-sent events):
     * PHP-FPM ends such a script at its next output, unless it set ignore_user_abort(), where
     * connection_aborted() tells the script instead. The pool tells the worker (call.abort), which
     * does the same: either way the worker is free long before the script's 20 s, and the next call
     * goes to a worker whose connection_aborted() is clear.
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET", "GET ignore_user_abort", "POST", "POST ignore_user_abort"})
    void aClientThatGoesAwayEndsTheScriptAtItsNextOutputAsUnderPhpFpm(String variant, CapturedOutput output) throws IOException {
        String method = variant.split(" ")[0];
        boolean ignore = variant.contains("ignore");
        Path noticed = dir.resolve("noticed-" + method);
        int first = pool.snapshot().workers().get(0).pid();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request(method, "/s/cycle/ticks" + (ignore ? "?ignore=1&file=" + noticed : "")));
            readUntil(s.getInputStream(), new ByteArrayOutputStream(), bytes -> text(bytes).contains("data: tick 1\n"));
        }
        Procs.await(Duration.ofSeconds(5), "another worker, idle", () -> pool.snapshot().workers().stream()
                .anyMatch(w -> w.pid() != first && w.state() == WorkerState.IDLE));
        assertThat(Files.exists(noticed)).as("connection_aborted() told the script").isEqualTo(ignore);
        Procs.await(Duration.ofSeconds(5), "the pool's line", () -> output.getOut().contains(
                "Worker " + first + " of pool '" + pool.name() + "' exited after the client of its last call went away"));
        assertThat(output.getOut()).as("a client going away is no fault: no warning from the worker")
                .doesNotContain("[pid " + first + "]");
    }

    /**
     * A plain http() handler that echoes far more than its PHP may hold (64 MiB under a 32 MB
     * memory_limit): its answer waits in a temporary file until the handler returns its status and
     * headers, then arrives whole, in parts through the 64 KiB frame limit; the worker serves on.
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void whatAPlainHandlerPrintsPastItsMemoryLimitArrivesWhole(String method) throws Exception {
        int mb = 64;
        MessageDigest expected = MessageDigest.getInstance("MD5");
        expected.update("returned:".getBytes(StandardCharsets.ISO_8859_1));
        for (int k = 0; k < mb; k++) {
            byte[] mib = new byte[1 << 20];
            Arrays.fill(mib, (byte) ('A' + k % 26));
            expected.update(mib);
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/s/printed?mb=" + mb))
                .timeout(Duration.ofSeconds(60));
        HttpResponse<InputStream> response = HttpClient.newHttpClient().send(method.equals("POST")
                ? request.header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString("a=b")).build()
                : request.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(203);
        assertThat(response.headers().firstValue("X-Printed")).hasValue("yes");
        MessageDigest got = MessageDigest.getInstance("MD5");
        long length = 0;
        try (InputStream in = response.body()) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0; length += n) {
                got.update(buffer, 0, n);
            }
        }
        assertThat(length).isEqualTo("returned:".length() + ((long) mb << 20));
        assertThat(HexFormat.of().formatHex(got.digest())).as("the body, byte for byte")
                .isEqualTo(HexFormat.of().formatHex(expected.digest()));
        workerIsIdle();
        assertThat(text(exchange(method, "/s/big?parts=1&size=10"))).startsWith("HTTP/1.1 200").contains("AAAAAAAAAA");
    }

    /**
     * An exception a plain http() handler does not catch, after it printed 2 MiB: what PHP-FPM
     * answers (the output, 500, PHP's "Uncaught ..." in the log), streamed from its temporary
     * file, not the gateway's 502; the worker serves on.
     */
    @Test
    void aPlainHandlersUncaughtExceptionIsPhpsOwn500WithItsOutput(CapturedOutput output) throws Exception {
        HttpResponse<byte[]> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/s/printed?mb=2&throw=1"))
                        .timeout(Duration.ofSeconds(60)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).isEqualTo(500);
        byte[] expected = new byte[2 << 20];
        Arrays.fill(expected, 0, 1 << 20, (byte) 'A');
        Arrays.fill(expected, 1 << 20, 2 << 20, (byte) 'B');
        assertThat(response.body().length).isEqualTo(expected.length);
        assertThat(Arrays.equals(response.body(), expected)).as("the output, byte for byte").isTrue();
        Procs.await(Duration.ofSeconds(5), "PHP's log line", () -> output.getAll()
                .contains("PHP Fatal error:  Uncaught RuntimeException: failed after printing"));
        workerIsIdle();
        assertThat(text(exchange("GET", "/s/big?parts=1&size=10"))).startsWith("HTTP/1.1 200").contains("AAAAAAAAAA");
    }

    /** Output discarded with ob_clean() is never sent, however much of it the buffer had passed on. */
    @Test
    void outputDiscardedWithObCleanIsNotSent() throws IOException {
        String all = text(exchange("GET", "/s/cycle/cleaned"));
        assertThat(all).startsWith("HTTP/1.1 200").endsWith("\r\n\r\nkept");
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void aWorkerThatDiesAfterItsHeadWentOutCutsTheConnection(String method, CapturedOutput output) throws IOException {
        // The client has the part: then the worker dies.
        String all = text(pausedExchange(method, "/s/die", dir.resolve("die-" + method),
                bytes -> text(bytes).contains("partial\n"), atPause -> { }));
        assertThat(all).startsWith("HTTP/1.1 200").contains("partial");
        // No last chunk: the client can tell the answer is incomplete (curl says "transfer closed").
        assertThat(all).doesNotEndWith("0\r\n\r\n");
        Procs.await(Duration.ofSeconds(15), "the log line", () -> output.getOut().contains("is cut after its head went out"));
        assertThat(output.getOut() + output.getErr()).as("one warning of ours, no container error or error page")
                .doesNotContain("Servlet.service()", "DefaultHandlerExceptionResolver");
    }

    /**
     * fastcgi_finish_request() (http.end): the client has the whole answer, ended, while PHP still
     * works; what PHP sends after it goes nowhere; the worker is busy until it returns.
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void anAnswerEndedEarlyReachesTheClientWhilePhpGoesOn(String method) throws IOException {
        Path go = dir.resolve("finish-" + method);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request(method, "/s/finish?file=" + go));
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            // The whole answer arrives while PHP waits for the file: its last chunk, or all its
            // Content-Length (the container sets one if the answer ends before its head went out).
            readUntil(in, got, StreamedAnswerTest::complete);
            String all = text(got.toByteArray());
            String body = all.contains("Transfer-Encoding: chunked") ? text(ChunkedBody.of(got.toByteArray()))
                    : all.substring(all.indexOf("\r\n\r\n") + 4);
            assertThat(body).isEqualTo("answered\n");
            assertThat(pool.snapshot().count(WorkerState.BUSY)).as("PHP still at work").isEqualTo(1);
            Files.createFile(go);
        }
        workerIsIdle();
    }

    /**
     * A client that reads slowly does not hold the worker: the gateway keeps what the client has not
     * taken (in memory, then in a temporary file, as nginx keeps a FastCGI answer), and the worker
     * is free as soon as PHP has answered. A small receive buffer keeps the kernel from taking the
     * answer in the client's place.
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void aSlowClientDoesNotHoldTheWorker(String method) throws IOException {
        int part = 64 * 1024 - 64;
        int parts = 300; // about 20 MB
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request(method, "/s/big?parts=" + parts + "&size=" + part));
            InputStream in = s.getInputStream();
            byte[] head = new byte[16];
            assertThat(in.readNBytes(head, 0, head.length)).isEqualTo(head.length);
            // The client reads nothing more until the worker is free again.
            Procs.await(Duration.ofSeconds(15), "the worker idle while its answer is still being sent",
                    () -> pool.snapshot().count(WorkerState.IDLE) == 1);
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.write(head);
            all.write(in.readAllBytes());
            byte[] body = ChunkedBody.of(all.toByteArray());
            assertThat(body).hasSize(parts * part + "tail".length());
            assertThat(body[(parts - 1) * part]).isEqualTo((byte) ('A' + (parts - 1) % 26));
        }
    }

    /**
     * Slow clients of answers that streamed from the direct path (GETs that found the worker idle,
     * called on the container's thread) hold a writer thread only while their call runs: once PHP
     * has answered, what is left goes out through a write listener. So clients that read a little
     * and pause leave no thread writing for them, however much is left, and each gets its answer whole.
     */
    @Test
    void slowClientsHoldNoWriterThreadOnceTheirCallsAreOver() throws IOException {
        int part = 64 * 1024 - 64;
        int parts = 300; // about 20 MB each: far past what the kernel's buffers take in the client's place
        java.util.List<Socket> clients = new java.util.ArrayList<>();
        java.util.List<ByteArrayOutputStream> received = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Socket s = new Socket();
                clients.add(s);
                s.setReceiveBufferSize(4096);
                s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
                s.setSoTimeout(30_000);
                s.getOutputStream().write(request("GET", "/s/big?parts=" + parts + "&size=" + part));
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                received.add(got);
                got.write(s.getInputStream().readNBytes(16));
                workerIsIdle(); // its call is over: the next GET finds the worker idle too
            }
            // Some of it, so that a write blocked on each client returns; most is still to come. In turns,
            // so that none of them takes nothing for the 2 s body-timeout while the others are read.
            for (int read = 0; read < 8 * 1024 * 1024; read += 256 * 1024) {
                for (int i = 0; i < clients.size(); i++) {
                    received.get(i).write(clients.get(i).getInputStream().readNBytes(256 * 1024));
                }
            }
            Procs.await(Duration.ofSeconds(10), "no thread writing for the slow clients", () -> Thread.getAllStackTraces()
                    .values().stream().noneMatch(stack -> Arrays.stream(stack)
                            .anyMatch(f -> f.getClassName().startsWith("dev.folk.spring.boot.http.DirectStream"))));
            boolean[] ended = new boolean[clients.size()];
            for (int open = clients.size(); open > 0; ) { // the rest, in turns again
                for (int i = 0; i < clients.size(); i++) {
                    if (!ended[i]) {
                        byte[] some = clients.get(i).getInputStream().readNBytes(256 * 1024);
                        received.get(i).write(some);
                        if (some.length < 256 * 1024) {
                            ended[i] = true;
                            open--;
                        }
                    }
                }
            }
            for (int i = 0; i < clients.size(); i++) {
                byte[] body = ChunkedBody.of(received.get(i).toByteArray());
                assertThat(body).hasSize(parts * part + "tail".length());
                assertThat(body[(parts - 1) * part]).isEqualTo((byte) ('A' + (parts - 1) % 26));
            }
        } finally {
            for (Socket s : clients) {
                s.close();
            }
        }
    }

    /**
     * The same once a write listener has the rest of a direct-path answer: a client that reads part
     * of it, then stops, is cut after body-timeout, without the last chunk.
     */
    @Test
    void aClientThatStopsReadingOnceItsCallIsOverIsCutAfterTheBodyTimeout(CapturedOutput output) throws IOException {
        int part = 64 * 1024 - 64;
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request("GET", "/s/big?parts=300&size=" + part));
            InputStream in = s.getInputStream();
            in.readNBytes(16);
            workerIsIdle(); // the call is over
            in.readNBytes(8 * 1024 * 1024); // the writer's blocked write returns: the write listener takes over
            Procs.await(Duration.ofSeconds(20), "the cut", () -> output.getOut().contains("its client took nothing"));
            byte[] rest = in.readAllBytes();
            assertThat(text(rest)).doesNotEndWith("0\r\n\r\n");
            assertThat(16 + 8 * 1024 * 1024 + rest.length).isLessThan(300 * part);
        }
        workerIsIdle();
        assertThat(text(exchange("GET", "/s/big?parts=1&size=10"))).startsWith("HTTP/1.1 200").contains("AAAAAAAAAA");
    }

    /** A client that takes nothing for body-timeout (2 s here) once PHP has answered is cut, as nginx's send_timeout does. */
    @Test
    void aClientThatStopsReadingIsCutAfterTheBodyTimeout(CapturedOutput output) throws IOException {
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request("GET", "/s/big?parts=300&size=" + (64 * 1024 - 64)));
            Procs.await(Duration.ofSeconds(20), "the cut", () -> output.getOut().contains("its client took nothing"));
            byte[] raw = s.getInputStream().readAllBytes();
            assertThat(text(raw)).startsWith("HTTP/1.1 200").doesNotEndWith("0\r\n\r\n");
            assertThat(raw.length).isLessThan(300 * (64 * 1024 - 64));
        }
        workerIsIdle();
    }

    /**
     * A client that resets the connection while a large streamed answer is written to it (a
     * download cancelled): the container reports the failed write as an error of the request, and
     * unless the gateway ends the request then, runs Spring Boot's error page for it, which logs a
     * warning per client ("No converter ... with preset Content-Type"). Nothing of that, on both
     * paths; the worker serves on. Several clients: the error races the writer's own end.
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void aClientThatResetsAStreamedAnswerEndsItQuietly(String method, CapturedOutput output) throws IOException {
        for (int i = 0; i < 8; i++) {
            try (Socket s = new Socket()) {
                s.setReceiveBufferSize(4096);
                s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
                s.setSoTimeout(30_000);
                s.getOutputStream().write(request(method, "/s/big?parts=64&size=" + (64 * 1024 - 64)));
                readUntil(s.getInputStream(), new ByteArrayOutputStream(), bytes -> text(bytes).contains("\r\n\r\n"));
                s.setSoLinger(true, 0); // close with a reset, as a cancelled download does with bytes unread
            }
            workerIsIdle();
        }
        assertThat(text(exchange(method, "/s/big?parts=1&size=10"))).startsWith("HTTP/1.1 200").contains("AAAAAAAAAA");
        assertThat(output.getOut() + output.getErr()).as("no error page, no container error for clients that left")
                .doesNotContain("DefaultHandlerExceptionResolver", "Servlet.service()", "o.a.c.c.C.");
    }

    @Test
    void aMalformedHeadIs502AndTheWorkerServesOn() throws IOException {
        byte[] raw;
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request("GET", "/s/bad-head"));
            raw = s.getInputStream().readAllBytes();
        }
        assertThat(text(raw)).startsWith("HTTP/1.1 502").doesNotContain("ignored");
        workerIsIdle();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request("GET", "/s/big?parts=1&size=10"));
            assertThat(text(s.getInputStream().readAllBytes())).startsWith("HTTP/1.1 200").contains("AAAAAAAAAA");
        }
    }
}
