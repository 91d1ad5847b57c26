package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.boot.test.web.server.LocalServerPort;

import dev.folk.core.pool.ExitReason;
import dev.folk.core.pool.WorkerInfo;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;
import dev.folk.core.testing.Procs;
import dev.folk.spring.boot.pool.FolkPools;

/** PHP served through Spring, end to end, on a real port with real PHP workers. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "folk.max-frame-length=2MB",
        "folk.env.FOLK_TEST_RUN=" + SampleAppTest.TAG})
class SampleAppTest {

    static final String TAG = "sample-app-test-run";

    @LocalServerPort
    int port;

    @Autowired
    FolkPools pools;

    private Http http() {
        return new Http(port);
    }

    @Test
    void getAndPostRoundTrips() throws Exception {
        HttpResponse<byte[]> hello = http().get("/php/hello");
        assertThat(hello.statusCode()).isEqualTo(200);
        assertThat(new String(hello.body(), StandardCharsets.UTF_8)).startsWith("Hello from PHP 8.");
        assertThat(hello.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));

        HttpResponse<byte[]> posted = http().post("/php/echo", "a=1&b=two".getBytes(), "application/x-www-form-urlencoded");
        assertThat(posted.statusCode()).isEqualTo(200);
        assertThat(new String(posted.body())).isEqualTo("a=1&b=two");
        assertThat(posted.headers().firstValue("content-type")).contains("application/x-www-form-urlencoded");
    }

    @Test
    void aRandomOneMebibyteBinaryBodyIsEchoedByteExact() throws Exception {
        byte[] body = new byte[1024 * 1024];
        new Random(42).nextBytes(body);
        HttpResponse<byte[]> echoed = http().post("/php/echo", body, "application/octet-stream");
        assertThat(echoed.statusCode()).isEqualTo(200);
        assertThat(echoed.body()).isEqualTo(body);
    }

    @Test
    void aBodyOverTheFrameLimitIs413AndNoWorkerIsHarmed() throws Exception {
        long crashesBefore = exits("crash");
        HttpResponse<byte[]> tooBig = http().post("/php/echo", new byte[3 * 1024 * 1024], "application/octet-stream");
        assertThat(tooBig.statusCode()).isEqualTo(413);
        assertThat(new String(tooBig.body())).contains("limit");
        assertThat(http().get("/php/hello").statusCode()).isEqualTo(200);
        assertThat(exits("crash")).isEqualTo(crashesBefore);
    }

    /**
     * Request headers nginx takes reach PHP here too (the sample's header size and its connector
     * customizer): a large cookie beside over 8KB of other headers, in over 100 lines, and over 200
     * cookies. Tomcat's defaults answer each 400.
     */
    @Test
    void requestHeadersNginxTakesReachPhp() throws Exception {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 150; i++) {
            lines.append("X-H").append(i).append(": v\r\n");
        }
        StringBuilder cookies = new StringBuilder("Cookie: c=" + "v".repeat(6000));
        for (int i = 0; i < 250; i++) {
            cookies.append("; k").append(i).append("=v");
        }
        String request = "GET /php/headers HTTP/1.1\r\nHost: sample\r\n" + cookies + "\r\n" + lines
                + "X-Last: " + "l".repeat(2000) + "\r\nConnection: close\r\n\r\n";
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(answer).startsWith("HTTP/1.1 200").contains("\"X-H149\":\"v\"").contains("l".repeat(2000))
                    .contains("k249=v");
        }
    }

    /**
     * A client that sends {@code Expect: 100-continue} waits for the 100 before its body. As nginx
     * answers it: a body declared over the limit gets its 413 instead, at once, and is never sent; one
     * under the limit gets its 100 and is answered once sent (the gateway serves PHP's paths from a
     * filter here, ahead of Spring's).
     */
    @Test
    void aClientWaitingFor100ContinueGetsThe413OfABodyOverTheLimitInsteadAndOthersTheir100() throws Exception {
        String head = "POST /php/echo HTTP/1.1\r\nHost: sample\r\nContent-Type: application/octet-stream\r\n"
                + "Expect: 100-continue\r\nContent-Length: ";
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write((head + 3 * 1024 * 1024 + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(answer).startsWith("HTTP/1.1 413").contains("limit").doesNotContain("HTTP/1.1 100");
        }
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write((head + "5\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertThat(new String(in.readNBytes(12), StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 100");
            s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            String rest = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(rest).contains("HTTP/1.1 200").endsWith("\r\n\r\nhello");
        }
    }

    @Test
    void phpStatusesAndMultiValuedHeadersPassThrough() throws Exception {
        HttpResponse<byte[]> missing = http().get("/php/no/such/page");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(new String(missing.body())).contains("No PHP page at /php/no/such/page");

        HttpResponse<byte[]> headers = http().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + "/php/headers?x=1&y=%C3%A9"))
                .header("X-Multi", "one").header("X-Multi", "two").GET());
        assertThat(headers.headers().allValues("x-folk-demo")).containsExactly("one", "two");
        String seen = new String(headers.body(), StandardCharsets.UTF_8);
        assertThat(seen).contains("\"X-Multi\":\"one, two\"").contains("\"uri\":\"/php/headers?x=1&y=%C3%A9\"");
    }

    @Test
    void theSlimApplicationIsServedUnderSlimByItsOwnPool() throws Exception {
        HttpResponse<byte[]> home = http().get("/slim/");
        assertThat(home.statusCode()).isEqualTo(200);
        assertThat(new String(home.body(), StandardCharsets.UTF_8)).contains("<h1>Hello from Slim</h1>")
                .contains("href=\"/slim/hello/Ada\"");
        int slimPid = Integer.parseInt(new String(home.body(), StandardCharsets.UTF_8)
                .replaceFirst("(?s).*\\(pid (\\d+)\\).*", "$1"));
        assertThat(http().workers("slim")).extracting(w -> w.get("pid")).contains(slimPid);
        assertThat(http().workers("default")).extracting(w -> w.get("pid")).doesNotContain(slimPid);

        assertThat(http().text("/slim/hello/Ada?lang=en"))
                .isEqualTo("{\"greeting\":\"Hello, Ada\",\"framework\":\"slim\",\"query\":{\"lang\":\"en\"}}");
        HttpResponse<byte[]> redirect = http().get("/slim/go");
        assertThat(redirect.statusCode()).isEqualTo(302);
        assertThat(redirect.headers().firstValue("location")).contains("/slim/");
        assertThat(http().get("/slim/no/such/route").statusCode()).isEqualTo(404);

        // The PHP session survives two requests (any of the pool's workers may serve either).
        HttpResponse<byte[]> first = http().get("/slim/visits");
        String cookie = first.headers().firstValue("set-cookie").orElseThrow().split(";")[0];
        assertThat(new String(first.body())).isEqualTo("{\"visits\":1}");
        HttpResponse<byte[]> second = http().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + "/slim/visits")).header("Cookie", cookie).GET());
        assertThat(new String(second.body())).isEqualTo("{\"visits\":2}");
    }

    /**
     * One connection serves more than Tomcat's default 100 requests (the sample keeps it for 1000, as
     * nginx does): a proxy or load test in front does not reconnect every 100 requests.
     */
    @Test
    void oneConnectionServesMoreThanAHundredRequests() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            for (int i = 1; i <= 150; i++) {
                s.getOutputStream().write("GET /php/hello HTTP/1.1\r\nHost: sample\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String head = readHead(in);
                assertThat(head).as("response %d", i).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase("connection: close");
                int at = head.toLowerCase(java.util.Locale.ROOT).indexOf("content-length: ");
                assertThat(at).as("response %d has a Content-Length", i).isPositive();
                int length = Integer.parseInt(head.substring(at + 16, head.indexOf('\r', at)).trim());
                assertThat(new String(in.readNBytes(length), StandardCharsets.UTF_8)).startsWith("Hello from PHP");
            }
        }
    }

    /** A response's head, up to and including the blank line. */
    private static String readHead(InputStream in) throws java.io.IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            assertThat(b).as("the connection closed after: %s", head).isNotNegative();
            head.append((char) b);
        }
        return head.toString();
    }

    /**
     * The Slim application's server-sent events: each event reaches the client as PHP flushes it,
     * and a client that goes away after two ends the script (the worker is replaced) instead of
     * leaving it to print into nothing for the six seconds left.
     */
    @Test
    void slimsEventsStreamAndAClientThatGoesAwayEndsTheScript() throws Exception {
        WorkerPool slim = pools.get("slim");
        Set<Integer> before = slim.snapshot().workers().stream().map(WorkerInfo::pid).collect(Collectors.toSet());
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET /slim/clock HTTP/1.1\r\nHost: sample\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            StringBuilder got = new StringBuilder();
            byte[] buffer = new byte[4096];
            while (!got.toString().contains("(event 2 of 8")) {
                int n = in.read(buffer);
                assertThat(n).as("the stream ended after: %s", got).isPositive();
                got.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
            }
            assertThat(got.toString()).startsWith("HTTP/1.1 200").contains("Content-Type: text/event-stream")
                    .contains("data: ").doesNotContain("(event 3 of 8");
        }
        // A worker that printed on would end its script normally, never replaced: the bound is generous
        // (the client's going is seen at the second write after it, told at the next event: about 3 s).
        Procs.await(Duration.ofSeconds(20), "the worker that served the events replaced", () -> slim.snapshot().workers()
                .stream().anyMatch(w -> !before.contains(w.pid()) && w.state() == WorkerState.IDLE));
    }

    @Test
    void phpIsServedAheadOfTheServletFiltersAndEverythingElseBehindThem() throws Exception {
        assertThat(http().get("/php/hello").headers().firstValue(MarkingFilter.HEADER)).isEmpty();
        assertThat(http().get("/slim/").headers().firstValue(MarkingFilter.HEADER)).isEmpty();
        assertThat(http().get("/api/stats?numbers=1,2").headers().firstValue(MarkingFilter.HEADER)).contains("yes");
        assertThat(http().get("/sample/config").headers().firstValue(MarkingFilter.HEADER)).contains("yes");
    }

    /** A filter of the application's (default order): it marks every response it sees. */
    @TestConfiguration(proxyBeanMethods = false)
    static class MarkingFilter {
        static final String HEADER = "X-Seen-By-Filter";

        @Bean
        jakarta.servlet.Filter markingFilter() {
            return (request, response, chain) -> {
                ((jakarta.servlet.http.HttpServletResponse) response).setHeader(HEADER, "yes");
                chain.doFilter(request, response);
            };
        }
    }

    @Test
    void theJsonApiReturnsWhatThePhpFunctionComputed() throws Exception {
        Map<String, Object> stats = http().json("/api/stats?numbers=3,1,4,1,5,9,2,6");
        assertThat(stats).containsEntry("count", 8).containsEntry("min", 1.0).containsEntry("max", 9.0)
                .containsEntry("median", 3.5).containsEntry("mean", 3.875);
        assertThat((String) stats.get("computed_by")).startsWith("PHP 8.");
    }

    /**
     * A PHP fatal error (memory exhausted) is answered as PHP-FPM answers it with display_errors off: 500,
     * and no body (PHP drops a request's output when its memory ran out). The worker said with that
     * answer that it exits, and the pool replaced it.
     */
    @Test
    void aPhpFatalErrorIs500AsUnderPhpFpmAndTheNextRequestSucceeds() throws Exception {
        WorkerPool pool = pools.get("default");
        long exitedBefore = pool.snapshot().exits().get(ExitReason.EXITED);
        HttpResponse<byte[]> fatal = http().get("/php/demo/fatal");
        assertThat(fatal.statusCode()).isEqualTo(500);
        assertThat(fatal.body()).isEmpty();
        HttpResponse<byte[]> next = http().get("/php/hello");
        assertThat(next.statusCode()).isEqualTo(200);
        Procs.await(Duration.ofSeconds(10), "the worker's exit recorded as exited",
                () -> pool.snapshot().exits().get(ExitReason.EXITED) > exitedBefore);
    }

    @Test
    void aWorkerSigkilledDuringARequestGives502AndThePoolIsBackToSize() throws Exception {
        CompletableFuture<HttpResponse<byte[]>> slow = CompletableFuture.supplyAsync(() -> {
            try {
                return http().get("/php/demo/sleep?ms=20000");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        int[] busy = new int[1];
        Procs.await(Duration.ofSeconds(10), "a worker busy in http.handle", () -> {
            try {
                for (Map<String, Object> w : http().workers("default")) {
                    if ("busy".equals(w.get("state")) && "http.handle".equals(w.get("currentMethod"))) {
                        busy[0] = (Integer) w.get("pid");
                        return true;
                    }
                }
                return false;
            } catch (Exception e) {
                return false;
            }
        });
        assertThat(Procs.alive(busy[0])).isTrue();
        new ProcessBuilder("kill", "-KILL", Integer.toString(busy[0])).start().waitFor();
        HttpResponse<byte[]> killed = slow.get(10, TimeUnit.SECONDS);
        assertThat(killed.statusCode()).isEqualTo(502);
        Procs.await(Duration.ofSeconds(10), "pool back to 4 ready workers", () -> {
            try {
                Map<String, Object> pool = http().pool("default");
                return ((Number) pool.get("ready")).intValue() == 4
                        && http().workers("default").stream().noneMatch(w -> w.get("pid").equals(busy[0]));
            } catch (Exception e) {
                return false;
            }
        });
        assertThat(http().get("/php/hello").statusCode()).isEqualTo(200);
    }

    @Test
    void actuatorShowsHealthWorkersAndPrometheusMetrics() throws Exception {
        Map<String, Object> health = http().json("/actuator/health");
        assertThat(health.get("status")).isEqualTo("UP");
        assertThat(health.toString()).contains("folk");
        List<Map<String, Object>> workers = http().workers("default");
        assertThat(workers).hasSize(4);
        for (Map<String, Object> w : workers) {
            assertThat(Procs.alive((Integer) w.get("pid"))).as("worker %s exists", w.get("pid")).isTrue();
        }
        assertThat(http().get("/php/hello").statusCode()).isEqualTo(200); // timers exist once a call was made
        String prometheus = http().text("/actuator/prometheus");
        assertThat(prometheus).contains("folk_workers{", "pool=\"default\"", "folk_call_execution_seconds_count");
    }

    @SuppressWarnings("unchecked")
    private long exits(String reason) throws Exception {
        return ((Number) ((Map<String, Object>) http().pool("default").get("exits")).get(reason)).longValue();
    }
}
