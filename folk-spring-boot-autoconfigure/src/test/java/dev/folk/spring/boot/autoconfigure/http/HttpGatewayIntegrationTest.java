package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import com.jayway.jsonpath.JsonPath;

import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
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
 * The gateway in a real web application, with real PHP workers, over raw sockets: what PHP is
 * given (raw URI, headers as sent, FastCGI server facts, the stripped prefix), what goes back
 * (statuses, repeated headers, bytes), and the answers of its own (413, 502, 503, 504).
 */
@SpringBootTest(classes = {WebTestApplication.class, HttpGatewayIntegrationTest.SignedIn.class}, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.pools.main.size=1",
    "folk.pools.main.exec-timeout=6s",
    "folk.pools.main.acquire-timeout=300ms",
    "folk.pools.other.size=1",
    "folk.shutdown.signal-handler=false",
    "folk.http.mappings[0].path=/php/**",
    "folk.http.mappings[0].pool=main",
    "folk.http.mappings[1].path=/other",
    "folk.http.mappings[1].pool=other",
    "folk.http.mappings[1].strip-prefix=true",
    "folk.http.server-name=folk.test",
    "folk.http.document-root=/srv/www",
    "folk.http.script-filename=/srv/www/index.php",
    "folk.http.retry-after=3s",
    "folk.http.max-body-size=1KB",
    "folk.http.body-timeout=2s",
    "server.tomcat.uri-encoding=ISO-8859-1",
    "management.endpoints.web.exposure.include=health,workers",
    "management.endpoint.health.show-details=always",
    "server.compression.enabled=true", // for clients that accept gzip: none here but the compression test's
    "server.compression.min-response-size=1"
})
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
class HttpGatewayIntegrationTest {

    private static final String TAG = Workers.newTag();

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        TestWorkers.use(registry, TestWorkers.HTTP, TAG);
    }

    @LocalServerPort
    int port;

    @Autowired
    @Qualifier("main")
    WorkerPool main;

    @Autowired
    @Qualifier("other")
    WorkerPool other;

    /** An HTTP/1.1 exchange on its own connection: the request's bytes in, the response parsed. */
    record Response(int status, Map<String, List<String>> headers, byte[] body, int clientPort) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        List<String> header(String name) {
            return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
        }
    }

    private Response exchange(String head, byte[] body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write((head + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().write(body);
            s.getOutputStream().flush();
            byte[] all = s.getInputStream().readAllBytes();
            return parse(all, s.getLocalPort());
        }
    }

    private Response get(String target, String... headerLines) throws IOException {
        StringBuilder head = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: h.example:8080\r\n");
        for (String h : headerLines) {
            head.append(h).append("\r\n");
        }
        return exchange(head.toString(), new byte[0]);
    }

    private static Response parse(byte[] all, int clientPort) {
        String text = new String(all, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        assertThat(end).as("a complete response head in %s", text).isPositive();
        String[] lines = text.substring(0, end).split("\r\n");
        Map<String, List<String>> headers = headers(lines);
        byte[] body = Arrays.copyOfRange(all, end + 4, all.length);
        if (headers.getOrDefault("transfer-encoding", List.of()).contains("chunked")) {
            body = dechunk(body);
        }
        return new Response(Integer.parseInt(lines[0].substring(9, 12)), headers, body, clientPort);
    }

    /** Spring MVC's answers (the actuator's) come chunked. */
    private static byte[] dechunk(byte[] chunked) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (true) {
            int lineEnd = i;
            while (chunked[lineEnd] != '\r') {
                lineEnd++;
            }
            int size = Integer.parseInt(new String(chunked, i, lineEnd - i, StandardCharsets.US_ASCII).trim(), 16);
            if (size == 0) {
                return out.toByteArray();
            }
            out.write(chunked, lineEnd + 2, size);
            i = lineEnd + 2 + size + 2;
        }
    }

    @BeforeEach
    void mainIsIdle() {
        // A test may end with the worker still replaced (504 kills it): each starts with one idle worker.
        Procs.await(Duration.ofSeconds(15), "pool main with its worker idle",
                () -> main.snapshot().count(WorkerState.IDLE) == 1);
    }

    @Test
    void phpIsGivenTheRawUriTheHeadersAsSentAndTheServerFactsOfAFastCgiServer() throws Exception {
        Response r = get("/other/a%20b/c?x=1&y=%C3%A9", "X-Multi: one", "X-Multi: two", "Cookie: a=1",
                "Cookie: b=2");
        assertThat(r.status()).isEqualTo(200);
        String json = r.text();
        assertThat((String) JsonPath.read(json, "$.method")).isEqualTo("GET");
        assertThat((String) JsonPath.read(json, "$.uri")).isEqualTo("/other/a%20b/c?x=1&y=%C3%A9");
        assertThat((String) JsonPath.read(json, "$.headers.X-Multi")).isEqualTo("one, two");
        assertThat((String) JsonPath.read(json, "$.headers.Cookie")).isEqualTo("a=1; b=2");
        assertThat(JsonPath.<List<List<String>>>read(json, "$.header_list")).contains(List.of("X-Multi", "one"),
                List.of("X-Multi", "two"), List.of("Cookie", "a=1"), List.of("Cookie", "b=2"),
                List.of("Host", "h.example:8080"));
        Map<String, String> server = JsonPath.read(json, "$.server");
        assertThat(server).containsEntry("REQUEST_METHOD", "GET")
                .containsEntry("REQUEST_URI", "/other/a%20b/c?x=1&y=%C3%A9")
                .containsEntry("QUERY_STRING", "x=1&y=%C3%A9")
                .containsEntry("SCRIPT_NAME", "/other")
                .containsEntry("PATH_INFO", "/a%20b/c")
                .containsEntry("SERVER_NAME", "folk.test")
                .containsEntry("SERVER_PORT", "8080")
                .containsEntry("SERVER_ADDR", "127.0.0.1")
                .containsEntry("REMOTE_ADDR", "127.0.0.1")
                .containsEntry("REMOTE_PORT", Integer.toString(r.clientPort()))
                .containsEntry("SERVER_PROTOCOL", "HTTP/1.1")
                .containsEntry("REQUEST_SCHEME", "http")
                .containsEntry("DOCUMENT_ROOT", "/srv/www")
                .containsEntry("SCRIPT_FILENAME", "/srv/www/index.php")
                .containsEntry("GATEWAY_INTERFACE", "folk/1").containsEntry("SERVER_SOFTWARE", "Folk")
                .doesNotContainKeys("HTTPS", "CONTENT_TYPE", "CONTENT_LENGTH", "REMOTE_USER", "AUTH_TYPE");
        // The Folk SDK's Request reads the same params, unbothered by the keys it does not know.
        assertThat(JsonPath.<Map<String, String>>read(json, "$.sdk")).containsEntry("method", "GET")
                .containsEntry("uri", "/other/a%20b/c?x=1&y=%C3%A9").containsEntry("path", "/other/a%20b/c")
                .containsEntry("x-multi", "one, two");
    }

    /**
     * Tomcat routes on the path decoded and normalized, as nginx matches a location: a path that
     * spells the stripped prefix otherwise still has it stripped, and PHP still gets the raw URI.
     */
    @Test
    void aPrefixSpelledOtherwiseIsStrippedAsTheMappingMatchedIt() throws Exception {
        for (String uri : List.of("//other/a%20b/c", "/%6Fther/a%20b/c", "/x/../other/a%20b/c", "/other;p=1/a%20b/c",
                "/other/../other/a%20b/c", "/other/%2e%2e/other/a%20b/c", "/other/x/../../other/a%20b/c")) {
            Response r = get(uri + "?q=1");
            assertThat(r.status()).as(uri).isEqualTo(200);
            Map<String, String> server = JsonPath.read(r.text(), "$.server");
            assertThat(server).as(uri).containsEntry("REQUEST_URI", uri + "?q=1").containsEntry("SCRIPT_NAME", "/other")
                    .containsEntry("PATH_INFO", "/a%20b/c");
        }
    }

    /**
     * Stands for the application's security as Spring Security does it: a request with
     * {@code X-Test-User} (URL-encoded UTF-8) is one whose user the application authenticated, and
     * the request wrapper reads that user from the thread the filter chain runs on (Spring
     * Security's SecurityContextHolder), so that it is gone once the chain has returned.
     */
    @Configuration(proxyBeanMethods = false)
    static class SignedIn {
        private static final ThreadLocal<String> USER = new ThreadLocal<>();

        @Bean
        FilterRegistrationBean<Filter> signedIn() {
            FilterRegistrationBean<Filter> registration = new FilterRegistrationBean<>((request, response, chain) -> {
                HttpServletRequest http = (HttpServletRequest) request;
                String header = http.getHeader("X-Test-User");
                if (header == null) {
                    chain.doFilter(request, response);
                    return;
                }
                USER.set(URLDecoder.decode(header, StandardCharsets.UTF_8));
                try {
                    chain.doFilter(new HttpServletRequestWrapper(http) {
                        @Override
                        public String getRemoteUser() {
                            return USER.get();
                        }

                        @Override
                        public String getAuthType() {
                            return USER.get() == null ? null : "TEST";
                        }
                    }, response);
                } finally {
                    USER.remove();
                }
            });
            registration.addUrlPatterns("/php/*", "/other/*");
            return registration;
        }
    }

    /**
     * The user the application authenticated reaches PHP as REMOTE_USER (and how, as AUTH_TYPE), as
     * a web server that checked the credentials passes it; never a user the client only claims. Also
     * for a request whose body is read, and one that waits for a worker, after the filter chain
     * returned: the user is taken while the application's security still tells it.
     */
    @Test
    void theUserTheApplicationAuthenticatedIsRemoteUser() throws Exception {
        Map<String, String> claimed = JsonPath.read(get("/php/dump", "Authorization: Basic "
                + Base64.getEncoder().encodeToString("mallory:x".getBytes(StandardCharsets.UTF_8))).text(), "$.server");
        assertThat(claimed).doesNotContainKeys("REMOTE_USER", "AUTH_TYPE");

        Map<String, String> server = JsonPath.read(get("/php/dump", "X-Test-User: zo%C3%AB").text(), "$.server");
        // A name beyond ASCII goes as UTF-8, as PHP reads text.
        assertThat(server).containsEntry("REMOTE_USER", "zo\u00eb").containsEntry("AUTH_TYPE", "TEST");

        byte[] body = "a=1".getBytes(StandardCharsets.US_ASCII);
        Response posted = exchange("POST /php/dump HTTP/1.1\r\nHost: a\r\nX-Test-User: zo%C3%AB\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + body.length + "\r\n", body);
        assertThat(JsonPath.<Map<String, String>>read(posted.text(), "$.server")).containsEntry("REMOTE_USER", "zo\u00eb")
                .containsEntry("AUTH_TYPE", "TEST");

        // Pool 'other''s only worker busy: the request waits for it, and is called from another thread.
        CompletableFuture<Response> slow = CompletableFuture.supplyAsync(() -> {
            try {
                return get("/other/sleep?ms=1500");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Procs.await(Duration.ofSeconds(10), "the worker busy", () -> other.snapshot().count(WorkerState.BUSY) == 1);
        Response queued = get("/other/dump", "X-Test-User: zo%C3%AB");
        assertThat(JsonPath.<Map<String, String>>read(queued.text(), "$.server")).containsEntry("REMOTE_USER", "zo\u00eb");
        assertThat(slow.join().status()).isEqualTo(200);
    }

    /**
     * One keep-alive connection serves answers of every size, with and without a request body, as
     * nginx keeps it: only an answer given before the request's body was read closes it.
     */
    @Test
    void answersOfAnySizeKeepTheConnectionOpen() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            InputStream in = s.getInputStream();
            for (int kb : new int[] {1, 31, 33, 100, 1500, 2}) {
                String post = kb == 100 ? "POST" : "GET";
                String body = kb == 100 ? "x=1" : "";
                s.getOutputStream().write((post + " /php/large?kb=" + kb + " HTTP/1.1\r\nHost: h\r\n"
                        + (body.isEmpty() ? "" : "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                        + body.length() + "\r\n") + "\r\n" + body).getBytes(StandardCharsets.ISO_8859_1));
                Map<String, List<String>> headers = new LinkedHashMap<>();
                byte[] answer = readOne(in, headers);
                assertThat(answer.length).as("%s %d KiB", post, kb).isEqualTo(kb * 1024);
                assertThat(headers.getOrDefault("connection", List.of())).as("%s %d KiB", post, kb).doesNotContain("close");
            }
        }
    }

    /** One response off a keep-alive connection: its head into {@code headers}, its Content-Length body returned. */
    private static byte[] readOne(InputStream in, Map<String, List<String>> headers) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            assertThat(b).as("a complete response head, not the end of the connection").isNotNegative();
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        assertThat(lines[0]).startsWith("HTTP/1.1 200");
        headers.putAll(headers(lines));
        return in.readNBytes(Integer.parseInt(headers.get("content-length").get(0)));
    }

    /** The header lines after a response's status line, by lower-case name, values in order. */
    private static Map<String, List<String>> headers(String[] lines) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.computeIfAbsent(lines[i].substring(0, colon).toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(lines[i].substring(colon + 1).trim());
        }
        return headers;
    }

    @Test
    void withoutStripPrefixTheWholePathIsPathInfoAndABodyComesWithItsTypeAndLength() throws Exception {
        byte[] body = "a=1&b=two".getBytes(StandardCharsets.US_ASCII);
        Response r = exchange("POST /php/dump HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: " + body.length + "\r\n", body);
        assertThat(r.status()).isEqualTo(200);
        Map<String, String> server = JsonPath.read(r.text(), "$.server");
        assertThat(server).containsEntry("SCRIPT_NAME", "").containsEntry("PATH_INFO", "/php/dump")
                .containsEntry("QUERY_STRING", "").containsEntry("CONTENT_TYPE", "application/x-www-form-urlencoded")
                .containsEntry("CONTENT_LENGTH", "9").containsEntry("REQUEST_METHOD", "POST")
                .containsEntry("SERVER_NAME", "folk.test");
        assertThat((String) JsonPath.read(r.text(), "$.body")).isEqualTo("a=1&b=two");
        assertThat((String) JsonPath.read(r.text(), "$.sdk.body")).isEqualTo("a=1&b=two");
    }

    @Test
    void headerBytesReachPhpAndComeBackAsSent() throws Exception {
        Response r = get("/php/header?name=X-Latin", "X-Latin: caf\u00e9 \u00ff");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).containsExactly('c', 'a', 'f', 0xe9, ' ', 0xff);

        Response cookies = get("/php/cookies");
        assertThat(cookies.status()).isEqualTo(201);
        assertThat(cookies.header("Set-Cookie")).containsExactly("a=1", "b=2");
        assertThat(cookies.header("X-Latin")).containsExactly("caf\u00e9"); // the byte 0xE9, read as ISO-8859-1
        // PHP's default, spelled as PHP-FPM sends it (Tomcat's setContentType would write "text/html;charset=UTF-8").
        assertThat(cookies.header("Content-Type")).containsExactly("text/html; charset=UTF-8");
        assertThat(cookies.body()).containsExactly(0, 0xff);
    }

    /**
     * A header value that is a list or a map inside the answer (PROTOCOL.md: a string, or a list of
     * strings) has no header line to become: dropped and logged, as a value with control characters
     * is, not sent as Java's rendering of it. A number is its digits, as PHP would print it.
     */
    @Test
    void headerValuesThatAreNoStringsAreDroppedAndLogged(CapturedOutput output) throws Exception {
        Response r = get("/php/odd-headers");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("X-Nested")).containsExactly("kept");
        assertThat(r.header("X-Map")).isEmpty();
        assertThat(r.header("X-Number")).containsExactly("5");
        assertThat(r.text()).isEqualTo("odd");
        Procs.await(Duration.ofSeconds(10), "the log line",
                () -> output.getOut().contains("Dropped response header X-Nested from pool 'main'"));
    }

    /**
     * CGI's {@code Status} header is never a header of the response: nginx takes PHP-FPM's as the
     * status and does not pass it on (fastcgi_hide_header's default). Here it is the status while
     * PHP's is 200, as folk-worker-php decides it for a framework's response.
     */
    @Test
    void aStatusHeaderFromPhpIsTheStatusAt200AndNeverSent() throws Exception {
        Response notFound = get("/php/cgi-status?code=200&line=404%20Not%20Found");
        assertThat(notFound.status()).isEqualTo(404);
        assertThat(notFound.header("Status")).isEmpty();
        assertThat(notFound.header("X-Fine")).containsExactly("ok");
        assertThat(notFound.text()).isEqualTo("cgi");
        Response created = get("/php/cgi-status?code=201&line=404");
        assertThat(created.status()).as("PHP's own status, not 200, stays").isEqualTo(201);
        assertThat(created.header("Status")).isEmpty();
        Response informational = get("/php/cgi-status?code=200&line=103");
        assertThat(informational.status()).as("no final status in it").isEqualTo(200);
        assertThat(informational.header("Status")).isEmpty();
    }

    /** Each 502 is logged with the worker that answered so, besides the pool and the request. */
    @Test
    void statusesThatCannotEndAResponseAre502AndOthersPassThrough(CapturedOutput output) throws Exception {
        for (int code : new int[] {100, 101, 103, 199, 0, 600, 999}) {
            Response r = get("/php/status?code=" + code);
            assertThat(r.status()).as("PHP's %d", code).isEqualTo(502);
            assertThat(r.text()).contains("invalid HTTP status");
        }
        int pid = main.snapshot().workers().get(0).pid(); // its only worker, which answered each
        assertThat(output.getOut()).contains("Worker " + pid + " of pool 'main' answered GET /php/status?code=600"
                + " with HTTP status 600, which cannot end a response: 502");
        for (int code : new int[] {200, 204, 302, 404, 418, 500, 503, 599}) {
            assertThat(get("/php/status?code=" + code).status()).as("PHP's %d", code).isEqualTo(code);
        }
    }

    /**
     * PHP's Content-Length and hop-by-hop headers: the server frames the response and writes its
     * own connection headers, so PHP's are dropped without a warning (legacy code sets them on
     * every download), as are nginx's X-Accel ones; a Content-Length that is not the body's is
     * logged, a body past it cut to it (as nginx does), a shorter body sent with its own length,
     * except for a HEAD, which has PHP's length or none, as nginx passes it; one that is no number
     * is a 502, as nginx answers it.
     */
    @Test
    void phpsContentLengthAndHopByHopHeadersAreTheServersToWrite(CapturedOutput output) throws Exception {
        Response right = get("/php/length?declared=5");
        assertThat(right.status()).isEqualTo(200);
        assertThat(right.text()).isEqualTo("12345");
        assertThat(right.header("Content-Length")).containsExactly("5");
        assertThat(right.header("X-Fine")).containsExactly("ok");
        assertThat(right.header("Keep-Alive")).isEmpty();
        assertThat(right.header("X-Accel-Buffering")).as("nginx's, as nginx drops it").isEmpty();
        assertThat(output.getOut()).doesNotContain("Dropped response header");

        // Bytes past the length PHP declared are dropped, as nginx drops them.
        Response shorter = get("/php/length?declared=3");
        assertThat(shorter.text()).isEqualTo("123");
        assertThat(shorter.header("Content-Length")).containsExactly("3");
        assertThat(output.getOut()).contains("with Content-Length 3 and a body of 5 bytes; the 2 bytes past it were dropped");

        Response wrong = get("/php/length?declared=9");
        assertThat(wrong.status()).isEqualTo(200);
        assertThat(wrong.text()).isEqualTo("12345");
        assertThat(wrong.header("Content-Length")).containsExactly("5");
        assertThat(output.getOut()).contains("with Content-Length 9 and a body of 5 bytes");
        // The same mistake on every request is summed up, not logged a line each.
        for (int i = 0; i < 5; i++) {
            assertThat(get("/php/length?declared=" + (10 + i)).text()).isEqualTo("12345");
        }
        assertThat(Pattern.compile("with Content-Length \\d+ and a body of 5 bytes; sent with").matcher(output.getOut()).results()
                .count()).as("lines for 6 answers with a wrong Content-Length").isEqualTo(1);

        // A HEAD answered without its body (Symfony's prepare() does so) keeps the size of the GET's, as nginx passes it.
        Response head = exchange("HEAD /php/length?declared=3145728&empty HTTP/1.1\r\nHost: a\r\n", new byte[0]);
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("Content-Length")).containsExactly("3145728");
        assertThat(head.body()).isEmpty();
        assertThat(output.getOut()).doesNotContain("Content-Length 3145728");
        // One without a length declared (a framework's HEAD, its body left out): none, as nginx sends none for
        // PHP-FPM's, not a 0 that is not the GET's length (RFC 9110 9.3.2); nor chunked, for a HEAD has no body.
        Response undeclared = exchange("HEAD /php/length?empty HTTP/1.1\r\nHost: a\r\n", new byte[0]);
        assertThat(undeclared.status()).isEqualTo(200);
        assertThat(undeclared.header("Content-Length")).isEmpty();
        assertThat(undeclared.header("Transfer-Encoding")).isEmpty();
        assertThat(undeclared.header("X-Fine")).containsExactly("ok");
        assertThat(undeclared.body()).isEmpty();
        // Nor with a body PHP printed for the HEAD: it need not be the GET's, and nginx sends no length for it.
        Response printed = exchange("HEAD /php/length HTTP/1.1\r\nHost: a\r\n", new byte[0]);
        assertThat(printed.status()).isEqualTo(200);
        assertThat(printed.header("Content-Length")).isEmpty();
        assertThat(printed.header("Transfer-Encoding")).isEmpty();
        assertThat(printed.body()).isEmpty();
        assertThat(get("/php/length?empty").header("Content-Length")).as("a GET's empty body has its length")
                .containsExactly("0");

        assertThat(get("/php/length?declared=5x").status()).isEqualTo(502);
        assertThat(get("/php/length?declared=").status()).isEqualTo(502);
        assertThat(output.getOut()).contains("invalid Content-Length");
    }

    /**
     * PHP's headers past what the container can write in a response's head (Tomcat's
     * max-http-response-header-size, 8 KB by default): a 502 of ours, as nginx answers headers past
     * its buffer, never the container's 500 and its stack trace. Right under the gateway's limit,
     * the answer goes out whole, with the server's own headers of a connection kept alive.
     */
    @Test
    void headersPastWhatTheServerCanWriteAre502(CapturedOutput output) throws Exception {
        // PHP's lines beside X-Big's value: "Content-Type: text/plain\r\n" (26) and "X-Big: \r\n" (9).
        int fits = 8192 - 256 - 26 - 9;
        String both;
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("GET /php/big-header?bytes=" + fits + " HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /php/big-header?bytes=" + (fits + 1) + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            both = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
        int second = both.indexOf("HTTP/1.1 ", 1);
        assertThat(second).as("two answers in %s", both.length() > 500 ? both.substring(0, 500) : both).isPositive();
        Response whole = parse(both.substring(0, second).getBytes(StandardCharsets.ISO_8859_1), 0);
        assertThat(whole.status()).isEqualTo(200);
        assertThat(whole.header("X-Big")).containsExactly("b".repeat(fits));
        assertThat(whole.text()).isEqualTo("big");
        Response refused = parse(both.substring(second).getBytes(StandardCharsets.ISO_8859_1), 0);
        assertThat(refused.status()).isEqualTo(502);
        assertThat(refused.header("X-Big")).isEmpty();
        assertThat(refused.text()).contains("more headers than the server can send");

        for (int bytes : new int[] {8192, 64 * 1024}) {
            assertThat(get("/php/big-header?bytes=" + bytes).status()).as("%d bytes", bytes).isEqualTo(502);
        }
        assertThat(output.getOut()).contains("answered GET /php/big-header?bytes=" + (fits + 1) + " with "
                + (8192 - 256 + 1) + " bytes of headers, more than the server's limit of 8192 bytes")
                .contains("server.tomcat.max-http-response-header-size");
        assertThat(output.getOut() + output.getErr()).doesNotContain("HeadersTooLargeException")
                .doesNotContain("Servlet.service()");
        assertThat(get("/php/big-header?bytes=10").status()).isEqualTo(200);
    }

    @Test
    void aBodyOverTheLimitIs413BeforeOrWhileItIsRead() throws Exception {
        Response known = exchange("POST /php/dump HTTP/1.1\r\nHost: a\r\nContent-Length: 1025\r\n", new byte[1025]);
        assertThat(known.status()).isEqualTo(413);
        assertThat(known.text()).contains("1024-byte limit");
        ByteArrayOutputStream chunked = new ByteArrayOutputStream();
        for (int i = 0; i < 3; i++) {
            chunked.write("200\r\n".getBytes(StandardCharsets.US_ASCII));
            chunked.write(new byte[0x200]);
            chunked.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        chunked.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        Response whileRead = exchange("POST /php/dump HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n",
                chunked.toByteArray());
        assertThat(whileRead.status()).isEqualTo(413);
        Response atTheLimit = exchange("POST /php/dump HTTP/1.1\r\nHost: a\r\nContent-Length: 1024\r\n",
                new byte[1024]);
        assertThat(atTheLimit.status()).isEqualTo(200);
    }

    @Test
    void aBusyWorkerShowsItsRequestLineThenNoFreeWorkerIs503WithRetryAfterAndASlowAnswer504(CapturedOutput output)
            throws Exception {
        // Both endpoints answered once first: a cold first answer could outlast the busy window.
        assertThat(get("/actuator/health").status()).isEqualTo(200);
        assertThat(get("/actuator/workers/main").status()).isEqualTo(200);
        CompletableFuture<Response> slow = CompletableFuture.supplyAsync(() -> {
            try {
                return get("/php/sleep?ms=4000");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        Procs.await(Duration.ofSeconds(15), "the request line shown for the busy worker", () -> {
            String workers;
            String health;
            try {
                workers = get("/actuator/workers/main").text();
                health = get("/actuator/health").text();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return JsonPath.<List<String>>read(workers, "$.workers[?(@.state == 'busy')].currentCall")
                    .equals(List.of("GET /php/sleep?ms=4000"))
                    && JsonPath.<List<String>>read(health, "$.components.folk.components.main.details.currentCalls[*].call")
                    .equals(List.of("GET /php/sleep?ms=4000"));
        });
        assertThat(slow).as("the worker still busy").isNotDone();
        Response busy = get("/php/dump");
        assertThat(busy.status()).isEqualTo(503);
        assertThat(busy.header("Retry-After")).containsExactly("3");
        // An overloaded pool's 503s are counted and summed up, not logged a line each.
        List<CompletableFuture<Response>> burst = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(20);
        for (int i = 0; i < 20; i++) {
            String path = "/php/dump?burst=" + i;
            burst.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return get(path);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, clients));
        }
        clients.shutdown();
        for (CompletableFuture<Response> r : burst) {
            assertThat(r.get(20, TimeUnit.SECONDS).status()).isEqualTo(503);
        }
        assertThat(slow).as("the worker still busy").isNotDone();
        assertThat(Pattern.compile("\\(GET /php/dump\\?burst=\\d+\\): 503").matcher(output.getOut()).results().count())
                .as("lines for 20 requests answered 503").isLessThanOrEqualTo(1);
        assertThat(slow.get(20, TimeUnit.SECONDS).status()).isEqualTo(200);

        Response timedOut = get("/php/sleep?ms=20000");
        assertThat(timedOut.status()).isEqualTo(504);
        // The 504 is logged with where PHP was stuck (the worker library's backtrace feature).
        assertThat(output.getAll()).containsPattern("did not answer within exec-timeout 6s "
                + "\\(the worker was at \\S*http-worker\\.php:\\d+ \\{closure\\}\\(\\)\\).*\\(GET /php/sleep\\?ms=20000\\)");
        Procs.await(Duration.ofSeconds(15), "the pool back to one idle worker",
                () -> main.snapshot().count(WorkerState.IDLE) == 1);
        assertThat(get("/php/dump").status()).isEqualTo(200);
    }

    /**
     * A client that sends its whole body before it reads gets the 413 of a body refused before or
     * while it was read: the rest of the body is read and dropped before the connection closes.
     * Closed with the body unread, the connection would be reset, and the answer lost with it.
     */
    @Test
    void aClientThatSendsItsWholeBodyFirstStillGetsThe413() throws Exception {
        int size = 8 * 1024 * 1024;
        ByteArrayOutputStream chunked = new ByteArrayOutputStream();
        for (int i = 0; i < size / 0x10000; i++) {
            chunked.write("10000\r\n".getBytes(StandardCharsets.US_ASCII));
            chunked.write(new byte[0x10000]);
            chunked.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        chunked.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        for (String framing : new String[] {"Content-Length: " + size, "Transfer-Encoding: chunked"}) {
            byte[] body = framing.startsWith("Content") ? new byte[size] : chunked.toByteArray();
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setSoTimeout(20_000);
                s.getOutputStream().write(("POST /php/dump HTTP/1.1\r\nHost: a\r\n" + framing + "\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().write(body);
                s.getOutputStream().flush();
                String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertThat(answer).as(framing).startsWith("HTTP/1.1 413").contains("1024-byte limit");
            }
        }
    }

    @Test
    void aBodyThatDoesNotArriveInTimeIs408AndTheConnectionClosedWithoutCallingPhp() throws Exception {
        long callsBefore = main.snapshot().workers().stream().mapToLong(w -> w.jobs()).sum();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            long start = System.nanoTime();
            s.getOutputStream().write("POST /php/dump HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"
                    .getBytes(StandardCharsets.US_ASCII));
            Response r = parse(s.getInputStream().readAllBytes(), s.getLocalPort()); // to EOF: closed by the server
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(r.status()).isEqualTo(408);
            assertThat(r.header("Connection")).containsExactly("close");
            assertThat(ms).isBetween(1900L, 15_000L);
        }
        assertThat(main.snapshot().workers().stream().mapToLong(w -> w.jobs()).sum()).isEqualTo(callsBefore);
    }

    /**
     * body-timeout (2 s here) counts a pause, as nginx's client_body_timeout: an upload over a slow
     * link that keeps coming, one byte every 500 ms for 5 s, reaches PHP whole.
     */
    @Test
    void aBodyThatKeepsComingLongerThanBodyTimeoutReachesPhpWhole() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write("POST /php/dump HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 10\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            for (char c : "0123456789".toCharArray()) {
                out.write(c);
                out.flush();
                if (c != '9') {
                    Thread.sleep(500); // the client's pace, not a synchronisation
                }
            }
            Response r = parse(s.getInputStream().readAllBytes(), s.getLocalPort());
            assertThat(System.nanoTime() - start).as("the upload took longer than body-timeout")
                    .isGreaterThan(TimeUnit.SECONDS.toNanos(4));
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            assertThat((String) JsonPath.read(r.text(), "$.body")).isEqualTo("0123456789");
        }
    }

    @Test
    void bodiesRefusedBeforePhpSeesThemAreWarnedOfWithThePoolAndTheRequestLine(CapturedOutput output) throws Exception {
        // Pool 'other' only: no other test has its bodies refused, so each kind's first warning is this test's
        // (the next ones of an episode are counted, RepeatedWarningsTest).
        assertThat(exchange("POST /other/known HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n", new byte[2000])
                .status()).isEqualTo(413);
        assertThat(exchange("POST /other/chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n",
                "zz\r\nabc\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)).status()).isEqualTo(400);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write("POST /other/late HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(parse(s.getInputStream().readAllBytes(), s.getLocalPort()).status()).isEqualTo(408);
        }
        assertThat(warning(output, "POST /other/known")).contains("Pool 'other'", "(Content-Length 2000)",
                "max-body-size (1024 bytes): 413");
        assertThat(warning(output, "POST /other/chunked")).contains("Pool 'other'", "could not be read", ": 400");
        assertThat(warning(output, "POST /other/late")).contains("Pool 'other'",
                "paused for folk.http.body-timeout (2s) after 3 of 10 bytes: 408");
    }

    /** The WARN line of the log that names {@code request}. */
    private static String warning(CapturedOutput output, String request) {
        String log = output.getOut() + output.getErr();
        return log.lines().filter(l -> l.contains(" WARN ") && l.contains(request)).findFirst()
                .orElseThrow(() -> new AssertionError("no WARN line names " + request + " in:\n" + log));
    }

    @Test
    void pathsOutsideTheMappingsStayWithSpringMvc() throws Exception {
        assertThat(get("/actuator/health").status()).isEqualTo(200);
        assertThat(get("/phpx").status()).isEqualTo(404);
        assertThat(get("/other").status()).isEqualTo(200);
        Response exact = get("/php");
        assertThat(exact.status()).isEqualTo(200);
        assertThat((String) JsonPath.read(exact.text(), "$.uri")).isEqualTo("/php");
    }

    private HttpResponse<byte[]> gzipGet(String path) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /**
     * Under Spring Boot's response compression, PHP's answers are compressed as Tomcat compresses any,
     * except a range PHP answered itself, whose Content-Range counts the bytes PHP sent (nginx's gzip
     * never compresses a 206 either).
     */
    @Test
    void underCompressionAPageIsGzippedButARangePhpAnsweredGoesOutAsPhpSentIt() throws Exception {
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
