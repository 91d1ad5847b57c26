package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;

import org.apache.coyote.AbstractProtocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.annotation.Bean;

import dev.folk.core.pool.CallOutcome;
import dev.folk.core.pool.PoolSnapshot;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;
import dev.folk.core.testing.Procs;

/**
 * Slow and hostile clients hold no thread of the server. With 300 of them hanging on, each kind in
 * its own test, {@code /php/hello} and {@code /actuator/health} each answer within 1 s, with
 * Tomcat's default 200 threads, and none of Tomcat's threads stays busy:
 * <ul>
 * <li>clients trickling their request bodies at 1 byte/s (a servlet reading bodies with blocking
 * reads would have 200 threads stuck in them, and both requests queued behind the rest);
 * <li>clients asking for a large answer and never reading it (an answer written with a blocking
 * write holds its thread until the client reads or the write times out: 200 such clients take
 * every thread); PHP is done with them at once, so every worker is idle again while they hang;
 * <li>clients trickling the request line and headers at 1 byte/s (slowloris: a server that
 * parses request heads with blocking reads holds a thread per such client).
 * </ul>
 * When the clients close their sockets nothing is left: no busy worker, nothing queued, Tomcat's
 * connections closed, no thread more than before beyond Tomcat's own pool, no error in the log.
 *
 * <p>On loopback a segment is 64 KB, and Linux lets a socket's send buffer grow to 4 MB for that
 * (net.ipv4.tcp_wmem): a client that does not read would absorb a 4 MB answer and nobody would
 * wait for it. On a real network (1.5 KB segments) that is a few hundred KB. So this test pins
 * Tomcat's send buffer at 64 KB (the kernel makes it 128 KB), and its non-reading clients ask for
 * a receive buffer of 4 KB: a 512 KB answer then really waits for them.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "folk.env.FOLK_TEST_RUN=" + SlowClientsTest.TAG})
@ExtendWith(OutputCaptureExtension.class)
class SlowClientsTest {

    static final String TAG = "sample-app-slow-clients";
    /** Slow clients per test: each holds two fds of the test JVM (its socket and Tomcat's); ulimit -n is far above. */
    private static final int CLIENTS = 300;
    private static final long BOUND_MILLIS = 1000;
    /** Tomcat's send buffer per connection (SO_SNDBUF; see the class comment). */
    private static final int SEND_BUFFER = 64 * 1024;
    /** The non-reading clients' receive buffer (SO_RCVBUF). */
    private static final int RECEIVE_BUFFER = 4 * 1024;
    /** Size of the answer the non-reading clients ask for: far over the buffers and the gateway's 32 KB direct writes. */
    private static final int LARGE_KB = 512;
    /** Tomcat's threads that may be busy throughout 250 ms while the slow clients hang on (none should be). */
    private static final int BUSY_THREADS_MAX = 20;
    /** Clients asking for a large answer that each wait for PHP to answer the one before. */
    private static final int ONE_BY_ONE = 240;
    /** Requests for a large answer the others send ahead of PHP's answers. */
    private static final int IN_FLIGHT = 16;

    /** A request head that never ends: a request line, then header lines, at most a few KB of them in a test. */
    private static final byte[] ENDLESS_HEAD = ("GET /php/hello HTTP/1.1\r\nHost: a\r\n"
            + "X-Slow: loris\r\n".repeat(400)).getBytes(StandardCharsets.US_ASCII);

    @LocalServerPort
    int port;

    @Autowired
    WorkerPool php;

    @Autowired
    WebServerApplicationContext context;

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();

    @TestConfiguration
    static class SmallSendBuffers {

        @Bean
        TomcatConnectorCustomizer smallSendBuffers() {
            return connector -> connector.setProperty("socket.txBufSize", Integer.toString(SEND_BUFFER));
        }
    }

    @Test
    void threeHundredTricklingBodiesDelayNeitherPhpNorHealth(CapturedOutput output) throws Exception {
        Baseline before = warmUp(output);
        try (SlowClients clients = new SlowClients()) {
            clients.open(i -> ("POST /php/echo HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
                    + "Content-Length: 1000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            clients.trickle((client, at) -> 'x');
            // Every trickling request has reached the gateway: Tomcat parsed its head, and it holds no thread.
            awaitAllConnected();
            probeWhileTheyHang("trickling bodies");
            clients.assertNoneAnswered();
        }
        assertNothingLeft(before, output);
    }

    @Test
    void threeHundredTricklingRequestHeadsDelayNeitherPhpNorHealth(CapturedOutput output) throws Exception {
        Baseline before = warmUp(output);
        try (SlowClients clients = new SlowClients()) {
            // Each client sends a few bytes of its head at once (0 to 49: the method, the URI, the version,
            // the Host header, a header line), then one more a second: at any time some are in each part.
            int spread = 50;
            clients.open(i -> Arrays.copyOf(ENDLESS_HEAD, i % spread));
            clients.trickle((client, at) -> ENDLESS_HEAD[client % spread + at]);
            awaitAllConnected();
            probeWhileTheyHang("trickling request heads");
            clients.assertNoneAnswered();
        }
        assertNothingLeft(before, output);
    }

    @Test
    void threeHundredClientsNotReadingLargeAnswersHoldNeitherThreadsNorWorkers(CapturedOutput output)
            throws Exception {
        Baseline before = warmUp(output);
        long answered = calls(CallOutcome.values());
        long succeeded = calls(CallOutcome.SUCCESS);
        try (SlowClients clients = new SlowClients()) {
            // Connection: close, so that Tomcat closes a connection as soon as its answer is all in the kernel.
            // The first ONE_BY_ONE clients send their request once PHP answered the one before: a worker is idle
            // when it arrives, and the gateway calls PHP on the container thread and writes from there (a blocking
            // write would keep that thread: after 200 of them the next request would not even reach PHP). The
            // others go with up to IN_FLIGHT waiting for PHP: most wait for a worker and are written from the
            // pool's thread. (All 300 at once would wait for a worker longer than the acquire timeout on a busy
            // machine, and get a 503, which is right but not the point.)
            clients.open(RECEIVE_BUFFER, i -> ("GET /php/demo/large?kb=" + LARGE_KB + " HTTP/1.1\r\nHost: a\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII), i -> {
                        int ahead = i < ONE_BY_ONE ? 0 : IN_FLIGHT;
                        Procs.await(Duration.ofSeconds(30), "PHP answered all but " + ahead + " of the first " + (i + 1)
                                + " requests", () -> calls(CallOutcome.values()) - answered > i - ahead, () ->
                                php.snapshot().calls() + ", " + busyThreads() + " busy Tomcat threads");
                    });
            // PHP answered every one, and every worker is free again: only the writes wait for the clients.
            Procs.await(Duration.ofSeconds(30), "PHP answered the " + CLIENTS + " requests, every worker idle", () ->
                    calls(CallOutcome.values()) - answered >= CLIENTS && allIdle(php.snapshot()), () ->
                    php.snapshot().calls() + ", " + php.snapshot().workers());
            assertThat(calls(CallOutcome.SUCCESS) - succeeded).as("requests PHP answered").isEqualTo(CLIENTS);
            // The premise: the answers are not out, Tomcat still has something to write on every connection.
            assertThat(connectionCount()).as("connections with an answer still to write").isGreaterThanOrEqualTo(CLIENTS);
            probeWhileTheyHang("clients not reading " + LARGE_KB + " KB answers");
            assertThat(connectionCount()).as("connections with an answer still to write").isGreaterThanOrEqualTo(CLIENTS);
            assertThat(allIdle(php.snapshot())).as("every worker idle").isTrue();
            // Nothing lost meanwhile: a client that reads at last gets its whole answer.
            RawHttp.Response late = clients.readToEnd(0);
            assertThat(late.status()).isEqualTo(200);
            assertThat(late.body()).hasSize(LARGE_KB * 1024).startsWith("0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
        }
        assertNothingLeft(before, output);
    }

    /** What the test started with. */
    private record Baseline(int jvmThreads, int tomcatThreads, int outputLength) {
    }

    /**
     * Answers {@code /php/hello} and {@code /actuator/health} once: the first request to each initialises
     * it (Spring MVC's dispatcher servlet, the health contributors), which is start-up, not what slow clients
     * do to it. Returns the threads there are then.
     */
    private Baseline warmUp(CapturedOutput output) throws IOException {
        long coldHello = timedGet("/php/hello", "Hello from PHP");
        long coldHealth = timedGet("/actuator/health", "\"status\":\"UP\"");
        System.out.printf("slow clients: first requests /php/hello %d ms, /actuator/health %d ms%n", coldHello, coldHealth);
        return new Baseline(threads.getThreadCount(), tomcatExecutor().getPoolSize(), output.length());
    }

    private void awaitAllConnected() {
        Procs.await(Duration.ofSeconds(30), "the " + CLIENTS + " slow connections accepted", () ->
                connectionCount() >= CLIENTS, () -> connectionCount() + " connections");
    }

    /**
     * For 5 s while the slow clients hang on, times {@code /php/hello} and {@code /actuator/health} every
     * 250 ms: each must answer within the bound, and few of Tomcat's threads may be held meanwhile.
     * Between the probes it counts Tomcat's busy threads every 10 ms: the fewest seen in those 250 ms
     * is at least the number of threads held all along (a burst of read events, 300 trickled bytes
     * a second, keeps many busy for a moment and holds none).
     */
    private void probeWhileTheyHang(String what) throws Exception {
        List<Long> hello = new ArrayList<>();
        List<Long> health = new ArrayList<>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        int held = 0;
        int peak = 0;
        int jvmThreads = 0;
        while (System.nanoTime() < end) {
            hello.add(timedGet("/php/hello", "Hello from PHP"));
            health.add(timedGet("/actuator/health", "\"status\":\"UP\""));
            jvmThreads = Math.max(jvmThreads, threads.getThreadCount());
            int fewest = Integer.MAX_VALUE;
            long next = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(250);
            do {
                int busy = busyThreads();
                fewest = Math.min(fewest, busy);
                peak = Math.max(peak, busy);
                Thread.sleep(10); // pacing the probes and the counts, not waiting for anything
            } while (System.nanoTime() < next);
            held = Math.max(held, fewest);
        }
        System.out.printf("slow clients: with %d %s: /php/hello %s ms; /actuator/health %s ms; Tomcat threads: at "
                + "most %d busy throughout 250 ms (%d for a moment), %d in its pool; %d JVM threads%n", CLIENTS, what,
                hello, health, held, peak, tomcatExecutor().getPoolSize(), jvmThreads);
        assertThat(hello).hasSizeGreaterThanOrEqualTo(5).allMatch(ms -> ms < BOUND_MILLIS);
        assertThat(health).allMatch(ms -> ms < BOUND_MILLIS);
        assertThat(held).as("Tomcat threads held by %d %s", CLIENTS, what).isLessThan(BUSY_THREADS_MAX);
    }

    /**
     * After the slow clients closed their sockets: no worker busy with or waiting for their requests,
     * their connections closed, Tomcat's threads back to idle, no thread more than before besides those
     * Tomcat's pool may have added (at most its 200, idle), nothing logged at WARN or ERROR.
     */
    private void assertNothingLeft(Baseline before, CapturedOutput output) throws IOException {
        Procs.await(Duration.ofSeconds(30), "every worker idle, nothing queued", () -> {
            PoolSnapshot s = php.snapshot();
            return allIdle(s) && s.queueLength() == 0;
        }, () -> php.snapshot().workers().toString());
        Procs.await(Duration.ofSeconds(30), "the slow connections closed", () -> connectionCount() < 10,
                () -> connectionCount() + " connections");
        Procs.await(Duration.ofSeconds(30), "no Tomcat thread busy", () -> busyThreads() == 0,
                () -> busyThreads() + " busy");
        Procs.await(Duration.ofSeconds(30), "no thread more than before but Tomcat's", () ->
                otherThreads() <= before.jvmThreads() - before.tomcatThreads() + 10,
                () -> "before " + before + ", now " + threads.getThreadCount() + " JVM threads, "
                        + tomcatExecutor().getPoolSize() + " in Tomcat's pool");
        assertThat(timedGet("/php/hello", "Hello from PHP")).isLessThan(BOUND_MILLIS);
        System.out.printf("slow clients: after they closed: %d connections, %d JVM threads (%d before), %d in "
                + "Tomcat's pool (%d before), %d busy%n", connectionCount(), threads.getThreadCount(),
                before.jvmThreads(), tomcatExecutor().getPoolSize(), before.tomcatThreads(), busyThreads());
        String logged = output.toString().substring(before.outputLength());
        assertThat(logged.lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")
                || l.contains("Exception")).toList()).as("warnings and errors logged").isEmpty();
    }

    /** The slow clients' sockets, and the thread that trickles their bytes; closing ends both. */
    private final class SlowClients implements AutoCloseable {

        private final List<Socket> sockets = new ArrayList<>();
        private final ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();

        /** Connects {@link #CLIENTS} clients, each sending {@code first(i)}. */
        void open(IntFunction<byte[]> first) throws IOException {
            open(0, first, i -> { });
        }

        /**
         * Connects {@link #CLIENTS} clients with that receive buffer (0 for the default), each sending
         * {@code first(i)}; {@code then(i)} runs after client i sent it.
         */
        void open(int receiveBuffer, IntFunction<byte[]> first, IntConsumer then) throws IOException {
            for (int i = 0; i < CLIENTS; i++) {
                Socket s = new Socket();
                if (receiveBuffer > 0) {
                    s.setReceiveBufferSize(receiveBuffer);
                }
                sockets.add(s);
                s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                s.getOutputStream().write(first.apply(i));
                then.accept(i);
            }
        }

        /** Sends each client's next byte once a second: {@code next(client, n)} is its n-th trickled byte. */
        void trickle(Next next) {
            long[] sent = new long[sockets.size()];
            trickle.scheduleAtFixedRate(() -> {
                for (int i = 0; i < sockets.size(); i++) {
                    try {
                        sockets.get(i).getOutputStream().write(next.at(i, (int) sent[i]++));
                    } catch (IOException closedByTheServer) {
                        // counted by assertNoneAnswered: every slow client must still be waiting for its answer
                    }
                }
            }, 0, 1, TimeUnit.SECONDS);
        }

        /** No client has an answer yet, and Tomcat holds all their connections. */
        void assertNoneAnswered() throws IOException {
            for (Socket s : sockets) {
                assertThat(s.getInputStream().available()).as("no answer yet to a slow client").isZero();
            }
            assertThat(connectionCount()).as("the slow clients' connections").isGreaterThanOrEqualTo(CLIENTS);
        }

        /** Client {@code i} reads its answer to the end (it asked for Connection: close). */
        RawHttp.Response readToEnd(int i) throws IOException {
            Socket s = sockets.get(i);
            s.setSoTimeout(30_000);
            return RawHttp.parse(s.getInputStream().readAllBytes());
        }

        @Override
        public void close() throws IOException {
            trickle.shutdownNow();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @FunctionalInterface
    private interface Next {
        int at(int client, int n);
    }

    /** GET on a new connection; the time to the complete answer, in ms. */
    private long timedGet(String path, String expected) throws IOException {
        long start = System.nanoTime();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String response;
            try {
                response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("No answer to GET " + path + " within 10 s", e);
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(response).startsWith("HTTP/1.1 200 ").contains(expected);
            return ms;
        }
    }

    private static boolean allIdle(PoolSnapshot s) {
        return s.count(WorkerState.IDLE) == s.size();
    }

    /** Calls of the pool that ended with one of those outcomes. */
    private long calls(CallOutcome... outcomes) {
        Map<CallOutcome, Long> calls = php.snapshot().calls();
        return Arrays.stream(outcomes).mapToLong(o -> calls.getOrDefault(o, 0L)).sum();
    }

    /** The JVM's threads that are not Tomcat's request threads. */
    private int otherThreads() {
        return threads.getThreadCount() - tomcatExecutor().getPoolSize();
    }

    private long connectionCount() {
        return protocol().getConnectionCount();
    }

    /** Threads of Tomcat's request executor that are running a task right now. */
    private int busyThreads() {
        return tomcatExecutor().getActiveCount();
    }

    private org.apache.tomcat.util.threads.ThreadPoolExecutor tomcatExecutor() {
        return (org.apache.tomcat.util.threads.ThreadPoolExecutor) protocol().getExecutor();
    }

    private AbstractProtocol<?> protocol() {
        TomcatWebServer server = (TomcatWebServer) context.getWebServer();
        return (AbstractProtocol<?>) server.getTomcat().getConnector().getProtocolHandler();
    }
}
