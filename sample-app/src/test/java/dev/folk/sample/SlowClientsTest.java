package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.coyote.AbstractProtocol;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;
import dev.folk.core.testing.Procs;

/**
 * 300 clients trickling request bodies at 1 byte/s hold no thread of the server: meanwhile
 * {@code /php/hello} and {@code /actuator/health} each answer within 1 s, with Tomcat's default
 * 200 threads. (A servlet that reads bodies with blocking reads would have 200 threads stuck in
 * them and both requests queued behind the rest.)
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "folk.env.FOLK_TEST_RUN=" + SlowClientsTest.TAG})
class SlowClientsTest {

    static final String TAG = "sample-app-slow-clients";
    private static final int CLIENTS = 300;
    private static final long BOUND_MILLIS = 1000;

    @LocalServerPort
    int port;

    @Autowired
    WorkerPool php;

    @Autowired
    WebServerApplicationContext context;

    @Test
    void threeHundredTricklingBodiesDelayNeitherPhpNorHealth() throws Exception {
        // Both answered once first: the first request to each initialises it (Spring MVC's dispatcher
        // servlet, the health contributors), which is start-up, not what slow clients do to it.
        long coldHello = timedGet("/php/hello", "Hello from PHP");
        long coldHealth = timedGet("/actuator/health", "\"status\":\"UP\"");
        List<Socket> sockets = new ArrayList<>();
        ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
        try {
            for (int i = 0; i < CLIENTS; i++) {
                Socket s = new Socket("127.0.0.1", port);
                s.getOutputStream().write(("POST /php/echo HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
                        + "Content-Length: 1000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                sockets.add(s);
            }
            trickle.scheduleAtFixedRate(() -> {
                for (Socket s : sockets) {
                    try {
                        s.getOutputStream().write('x');
                    } catch (IOException closedByTheServer) {
                        // counted below: every slow client must still be waiting for its answer
                    }
                }
            }, 0, 1, TimeUnit.SECONDS);

            // Every trickling request has reached the gateway: Tomcat parsed its head, and it holds no thread.
            Procs.await(Duration.ofSeconds(30), "the " + CLIENTS + " slow requests accepted", () ->
                    connectionCount() >= CLIENTS);
            List<Long> hello = new ArrayList<>();
            List<Long> health = new ArrayList<>();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            int busyThreads = 0;
            while (System.nanoTime() < end) {
                hello.add(timedGet("/php/hello", "Hello from PHP"));
                health.add(timedGet("/actuator/health", "\"status\":\"UP\""));
                busyThreads = Math.max(busyThreads, busyThreads());
                Thread.sleep(250); // pacing the probes, not waiting for anything
            }
            System.out.printf("slow clients: first requests (before) /php/hello %d ms, /actuator/health %d ms; with "
                    + "%d trickling: /php/hello %s ms; /actuator/health %s ms; at most %d busy Tomcat threads%n",
                    coldHello, coldHealth, CLIENTS, hello, health, busyThreads);
            assertThat(hello).hasSizeGreaterThanOrEqualTo(5).allMatch(ms -> ms < BOUND_MILLIS);
            assertThat(health).allMatch(ms -> ms < BOUND_MILLIS);
            assertThat(busyThreads).as("Tomcat threads busy while %d bodies trickle", CLIENTS).isLessThan(20);
            for (Socket s : sockets) {
                assertThat(s.getInputStream().available()).as("no answer yet to a trickling client").isZero();
            }
        } finally {
            trickle.shutdownNow();
            for (Socket s : sockets) {
                s.close();
            }
        }
        // Nothing leaked: no worker is busy with or waiting for a request of the gone clients.
        Procs.await(Duration.ofSeconds(10), "no busy worker, nothing queued", () ->
                php.snapshot().count(WorkerState.BUSY) == 0 && php.snapshot().queueLength() == 0);
        Procs.await(Duration.ofSeconds(30), "the slow connections closed", () -> connectionCount() < 10);
        assertThat(timedGet("/php/hello", "Hello from PHP")).isLessThan(BOUND_MILLIS);
    }

    /** GET on a new connection; the time to the complete answer, in ms. */
    private long timedGet(String path, String expected) throws IOException {
        long start = System.nanoTime();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(response).startsWith("HTTP/1.1 200 ").contains(expected);
            return ms;
        }
    }

    private long connectionCount() {
        return protocol().getConnectionCount();
    }

    /** Threads of Tomcat's request executor that are running a task right now. */
    private int busyThreads() {
        return ((org.apache.tomcat.util.threads.ThreadPoolExecutor) protocol().getExecutor()).getActiveCount();
    }

    private AbstractProtocol<?> protocol() {
        TomcatWebServer server = (TomcatWebServer) context.getWebServer();
        return (AbstractProtocol<?>) server.getTomcat().getConnector().getProtocolHandler();
    }
}
