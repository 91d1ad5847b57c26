package dev.folk.core.pool;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.sun.net.httpserver.HttpServer;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

import dev.folk.core.supervision.Supervisor;
import dev.folk.core.testing.Workers;

/**
 * Run on Java 21+ by {@link VirtualThreadCallsTest} (the build compiles for 17, so virtual threads
 * are reached by reflection). With as few carriers as the test gives it, {@code 2 x size} callers
 * make slow calls — half of them wait in the acquire queue — first on platform threads, then on
 * virtual threads, twice over; meanwhile an HTTP endpoint served by virtual threads is pinged,
 * and JFR records {@code jdk.VirtualThreadPinned} with no threshold. Then a virtual thread meets
 * an exec timeout, a crashing worker and a request larger than the socket's buffer. Prints one
 * line per figure, starting with {@code RESULT}.
 */
public final class VirtualThreadScenario {

    private static final String PINNED = "jdk.VirtualThreadPinned";

    public static void main(String[] args) throws Exception {
        int size = Integer.parseInt(args[0]);
        int sleepMs = Integer.parseInt(args[1]);
        int callsPerCaller = Integer.parseInt(args[2]);
        int callers = 2 * size;

        ExecutorService virtual = (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor")
                .invoke(null);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        server.createContext("/ping", exchange -> {
            byte[] body = "pong".getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.setExecutor(virtual);
        server.start();
        URL ping = new URL("http://127.0.0.1:" + server.getAddress().getPort() + "/ping");

        Supervisor supervisor = new Supervisor();
        PoolConfig config = PoolConfig.builder("vthreads", PhpWorkers.testWorker(Workers.newTag()).build())
                .size(size).maxQueue(callers).acquireTimeout(Duration.ofSeconds(60)).build();
        WorkerPool pool = PoolTesting.ready(config, supervisor);
        try {
            // Warm up both kinds of caller, the HTTP server and the client.
            phase(pool, Executors.newFixedThreadPool(callers), callers, 1, 1, null);
            phase(pool, virtual, callers, 1, 1, null);
            pingOnce(ping);

            Path jfr = Files.createTempFile("folk-vthreads", ".jfr");
            Recording recording = new Recording();
            recording.enable(PINNED).withThreshold(Duration.ZERO).withStackTrace();
            recording.start();

            double platformSeconds = 0;
            double virtualSeconds = 0;
            List<Long> pings = new ArrayList<>();
            int busyPings = 0;
            for (int round = 0; round < 2; round++) {
                ExecutorService platform = Executors.newFixedThreadPool(callers);
                platformSeconds += phase(pool, platform, callers, callsPerCaller, sleepMs, null);
                platform.shutdown();
                Pinger pinger = new Pinger(ping, pool, size);
                virtualSeconds += phase(pool, virtual, callers, callsPerCaller, sleepMs, pinger);
                pings.addAll(pinger.latenciesMicros);
                busyPings += pinger.whileAllBusy;
            }
            int calls = 2 * callers * callsPerCaller;
            double platformRate = calls / platformSeconds;
            double virtualRate = calls / virtualSeconds;
            System.out.printf("RESULT throughput platform=%.2f virtual=%.2f ratio=%.3f ideal=%.2f%n", platformRate,
                    virtualRate, virtualRate / platformRate, size * 1000.0 / sleepMs);
            long maxPing = pings.stream().mapToLong(Long::longValue).max().orElse(-1);
            System.out.printf("RESULT ping count=%d allBusy=%d maxMicros=%d micros=%s%n", pings.size(), busyPings,
                    maxPing, pings);

            edgeCases(supervisor, virtual);

            recording.stop();
            recording.dump(jfr);
            recording.close();
            List<RecordedEvent> pinned = RecordingFile.readAllEvents(jfr).stream()
                    .filter(e -> e.getEventType().getName().equals(PINNED)).toList();
            System.out.printf("RESULT pinned events=%d%n", pinned.size());
            pinned.stream().limit(3).forEach(e -> System.out.println("PINNED " + e));
            Files.deleteIfExists(jfr);
        } finally {
            pool.close();
            supervisor.close();
            server.stop(0);
            virtual.shutdownNow();
        }
        System.out.println("RESULT done");
        System.exit(0);
    }

    /** {@code callers} callers make {@code calls} calls each; returns the seconds it took. */
    private static double phase(WorkerPool pool, ExecutorService threads, int callers, int calls, int sleepMs,
                                Pinger pinger) throws Exception {
        long start = System.nanoTime();
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            done.add(threads.submit(() -> {
                for (int i = 0; i < calls; i++) {
                    Object back = pool.call("sleep", sleepMs);
                    if (!Long.valueOf(sleepMs).equals(back)) {
                        throw new AssertionError("sleep returned " + back);
                    }
                }
                return null;
            }));
        }
        if (pinger != null) {
            pinger.runUntil(done);
        }
        for (Future<?> f : done) {
            f.get(120, TimeUnit.SECONDS);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /** Pings the endpoint every 20 ms while the callers run; keeps each round trip. */
    private static final class Pinger {
        final URL url;
        final WorkerPool pool;
        final int size;
        final List<Long> latenciesMicros = new ArrayList<>();
        int whileAllBusy;

        Pinger(URL url, WorkerPool pool, int size) {
            this.url = url;
            this.pool = pool;
            this.size = size;
        }

        void runUntil(List<Future<?>> callers) throws Exception {
            while (!callers.stream().allMatch(Future::isDone)) {
                boolean allBusy = pool.snapshot().count(WorkerState.BUSY) == size;
                latenciesMicros.add(pingOnce(url));
                if (allBusy && pool.snapshot().count(WorkerState.BUSY) == size) {
                    whileAllBusy++;
                }
                Thread.sleep(20); // pacing of the probe, not synchronisation
            }
        }
    }

    private static long pingOnce(URL url) throws IOException {
        long t0 = System.nanoTime();
        HttpURLConnection c = (HttpURLConnection) url.openConnection();
        c.setConnectTimeout(10_000);
        c.setReadTimeout(10_000);
        try (InputStream in = c.getInputStream()) {
            if (!"pong".equals(new String(in.readAllBytes(), StandardCharsets.US_ASCII))) {
                throw new AssertionError("bad ping answer");
            }
        }
        return (System.nanoTime() - t0) / 1000;
    }

    /** A parked caller must still be woken by an exec timeout, a worker's death, and must send big requests. */
    private static void edgeCases(Supervisor supervisor, ExecutorService virtual) throws Exception {
        PoolConfig config = PoolConfig.builder("vthreads-edges", PhpWorkers.testWorker(Workers.newTag()).build())
                .size(1).execTimeout(Duration.ofMillis(500)).build();
        WorkerPool pool = PoolTesting.ready(config, supervisor);
        try {
            System.out.println("RESULT timeout " + timed(virtual, () -> pool.call("sleep", 20_000)));
            pool.awaitReady(1, Duration.ofSeconds(10));
            System.out.println("RESULT crash " + timed(virtual, () -> pool.call("exit", 3)));
        } finally {
            pool.close();
        }
        // Larger than the socket's buffer both ways: the caller parks in send as well as in read.
        WorkerPool echo = PoolTesting.ready(config.toBuilder().execTimeout(Duration.ofSeconds(30)).build(),
                supervisor);
        try {
            byte[] big = new byte[3 * 1024 * 1024];
            Arrays.fill(big, (byte) 'v');
            String text = new String(big, StandardCharsets.US_ASCII);
            System.out.println("RESULT big " + timed(virtual,
                    () -> text.equals(echo.call("echo", text, String.class)) ? "equal" : "DIFFERENT"));
        } finally {
            echo.close();
        }
    }

    private interface Call {
        Object run() throws Exception;
    }

    /** Runs the call on a virtual thread; "ms=<elapsed> outcome=<result or exception class>". */
    private static String timed(ExecutorService virtual, Call call) throws Exception {
        CompletableFuture<String> outcome = new CompletableFuture<>();
        long t0 = System.nanoTime();
        virtual.submit(() -> {
            try {
                outcome.complete(String.valueOf(call.run()));
            } catch (Exception e) {
                outcome.complete(e.getClass().getSimpleName());
            }
        });
        String what = outcome.get(60, TimeUnit.SECONDS);
        return "ms=" + (System.nanoTime() - t0) / 1_000_000 + " outcome=" + what;
    }
}
