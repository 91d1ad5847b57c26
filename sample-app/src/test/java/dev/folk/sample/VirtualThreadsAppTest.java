package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.folk.core.testing.ChildJvm;
import dev.folk.core.testing.Jdks;

/**
 * The sample app on Java 21+ with {@code spring.threads.virtual.enabled}: Tomcat serves every
 * request on a virtual thread, and a PHP call must park it, not pin its carrier. The app runs in a
 * child JVM with 2 carriers and 4 workers; 8 clients make slow PHP requests while /actuator/health
 * is polled. A pinning call path would serve 2 requests at a time and leave no carrier for the
 * health check.
 * Skipped without a JDK 21+, failed without one on CI.
 */
class VirtualThreadsAppTest {

    private static final int WORKERS = 4;
    private static final int CLIENTS = 8;
    /** Per client and load: 48 calls of 200 ms on 4 workers, 2.4 s and some 40 health probes a load. */
    private static final int REQUESTS_EACH = 6;
    private static final int SLEEP_MS = 200;
    /** Requests per second if every worker slept back to back. */
    private static final double IDEAL_RATE = WORKERS * 1000.0 / SLEEP_MS;

    /** What one run of the app measured. */
    private record Run(double requestsPerSecond, List<Long> healthMillis, long pinnedEvents, String pinned) {
        /** The health round trip at quantile {@code q} (1.0: the slowest). */
        long health(double q) {
            long[] sorted = healthMillis.stream().mapToLong(Long::longValue).sorted().toArray();
            return sorted.length == 0 ? Long.MAX_VALUE : sorted[(int) Math.ceil(q * sorted.length) - 1];
        }
    }

    @Test
    void withVirtualThreadsEveryWorkerServesAndTheAppStaysResponsive() throws Exception {
        Jdks.Jdk jdk = Jdks.require(21);
        Run virtual = run(jdk);
        System.out.printf("sample app on Java %d, virtual threads: %.2f req/s (%.2f/s if every worker slept back to"
                        + " back); health while busy %s ms; pinned events %d%n", jdk.feature(), virtual.requestsPerSecond(),
                IDEAL_RATE, virtual.healthMillis(), virtual.pinnedEvents());
        System.out.println(virtual.pinned());

        // Pinning halves the rate here (2 carriers for 4 workers: 10/s at most). The calls sleep, so
        // the rate hardly depends on the machine's speed: platform threads made 19.0/s on a machine
        // busy with other work (load 7), virtual threads 19.1/s in the same minute. VirtualThreadCallsTest
        // in folk-core holds the pool itself to >= 0.95x platform-thread callers in one JVM.
        assertThat(virtual.requestsPerSecond()).as("request rate with virtual threads (4 workers each sleeping %d ms"
                + " per call: %.1f/s at best, half of it if calls pin their carrier)", SLEEP_MS, IDEAL_RATE)
                .isGreaterThanOrEqualTo(0.75 * IDEAL_RATE);
        // The criterion is the 90th percentile: on a shared 2-core machine Spring's health endpoint
        // has outliers with platform threads too (up to ~260 ms seen); with virtual threads single
        // probes of 0.4 to 5 s were seen while the machine's load was 15 and more (cause not found;
        // none when it was lower). A carrier pinned per call makes most probes wait for a 200 ms
        // call to end (2 s and more were measured), which this catches.
        assertThat(virtual.healthMillis()).as("health checks while every worker was busy").hasSizeGreaterThanOrEqualTo(10);
        assertThat(virtual.health(0.9)).as("p90 of /actuator/health while every worker was busy: %s",
                virtual.healthMillis()).isLessThan(100);
        assertThat(virtual.pinnedEvents()).as("jdk.VirtualThreadPinned events (threshold 0):%n%s", virtual.pinned())
                .isZero();
    }

    private static Run run(Jdks.Jdk jdk) throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path jfr = Files.createTempFile("folk-sample-vthreads", ".jfr");
        List<String> options = List.of("-Djdk.virtualThreadScheduler.parallelism=2", "-Xmx384m",
                "-XX:StartFlightRecording:jdk.VirtualThreadPinned#threshold=0ms,filename=" + jfr);
        ChildJvm app = ChildJvm.start(jdk.home(), jdk.feature(), List.of(), options, SampleApplication.class,
                "--server.port=" + port, "--spring.threads.virtual.enabled=true",
                "--folk.size=" + WORKERS);
        try {
            Http http = new Http(port);
            awaitUp(app, http);
            http.get("/actuator/health"); // its first answer loads classes; measured are the later ones
            // Warm up: every worker, the JIT, the connection pool of the client.
            load(port, CLIENTS, 2, 10);

            // Two timed loads; the faster counts: on a shared
            // machine one of them may lose the CPU to other work.
            List<Long> health = new ArrayList<>();
            double requestsPerSecond = 0;
            // Pinned events are counted from here: the warm-up above loads classes, and the JDK's
            // class loading can pin a virtual thread that finds a loader's lock taken.
            Instant measuredFrom = Instant.now();
            for (int attempt = 0; attempt < 2; attempt++) {
                requestsPerSecond = Math.max(requestsPerSecond, loadWhileProbing(port, http, health));
            }
            long pinned = stopAndCountPinned(app, jdk, jfr, measuredFrom);
            return new Run(requestsPerSecond, health, pinned, pinned == 0 ? "" : jfr(jdk, "print", "--events",
                    "jdk.VirtualThreadPinned", "--stack-depth", "40", jfr.toString()));
        } finally {
            app.close();
            Files.deleteIfExists(jfr);
        }
    }

    /**
     * 8 clients make 48 slow requests of 4 workers: from the moment all 4 are busy until the load
     * ends, every worker stays busy and 4 callers wait in the queue. Meanwhile /actuator/health is
     * probed (the first probe under load is a warm-up). Returns the load's requests per second.
     */
    private static double loadWhileProbing(int port, Http http, List<Long> health) throws Exception {
        ExecutorService clients = Executors.newSingleThreadExecutor();
        try {
            Future<Double> rate = clients.submit(() -> load(port, CLIENTS, REQUESTS_EACH, SLEEP_MS));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (busyWorkers(http) < WORKERS) {
                assertThat(System.nanoTime()).as("all %d workers busy", WORKERS).isLessThan(deadline);
            }
            boolean warm = false;
            while (!rate.isDone()) {
                long h0 = System.nanoTime();
                HttpResponse<byte[]> r = http.get("/actuator/health");
                long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - h0);
                if (warm && !rate.isDone()) {
                    health.add(took);
                }
                warm = true;
                assertThat(r.statusCode()).as("health: %s", new String(r.body(), StandardCharsets.UTF_8))
                        .isEqualTo(200);
                Thread.sleep(50); // pacing of the probe, not synchronisation
            }
            return rate.get(120, TimeUnit.SECONDS);
        } finally {
            clients.shutdownNow();
        }
    }

    private static long busyWorkers(Http http) throws Exception {
        return http.workers("default").stream().filter(w -> "busy".equals(w.get("state"))).count();
    }

    /** {@code clients} threads make {@code each} requests of /php/sleep; returns requests per second. */
    private static double load(int port, int clients, int each, int ms) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            long t0 = System.nanoTime();
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                done.add(pool.submit(() -> {
                    Http http = new Http(port);
                    for (int i = 0; i < each; i++) {
                        HttpResponse<byte[]> r = http.get("/php/demo/sleep?ms=" + ms);
                        String body = new String(r.body(), StandardCharsets.UTF_8);
                        if (r.statusCode() != 200 || !body.startsWith("Slept " + ms + " ms")) {
                            throw new AssertionError("/php/demo/sleep answered " + r.statusCode() + ": " + body);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
            return clients * each / ((System.nanoTime() - t0) / 1e9);
        } finally {
            pool.shutdownNow();
        }
    }

    private static void awaitUp(ChildJvm app, Http http) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            try {
                if (http.get("/php/hello").statusCode() == 200) {
                    return;
                }
            } catch (java.net.ConnectException notYet) {
                // still starting
            }
            if (System.nanoTime() > deadline || !app.process().isAlive()) {
                throw new AssertionError("the sample app did not start; log:\n" + app.transcript());
            }
            Thread.sleep(200); // polling the port while the app starts
        }
    }

    /** Runs the JDK's {@code jfr} tool; returns its output. */
    private static String jfr(Jdks.Jdk jdk, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(jdk.home().resolve("bin/jfr").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return text;
    }

    /**
     * Stops the app with SIGTERM (the JVM writes the recording as it exits); counts the pinned
     * events that started at or after {@code from}.
     */
    private static long stopAndCountPinned(ChildJvm app, Jdks.Jdk jdk, Path jfr, Instant from) throws Exception {
        app.process().destroy();
        assertThat(app.process().waitFor(60, TimeUnit.SECONDS)).as("app stopped on SIGTERM").isTrue();
        String summary = jfr(jdk, "summary", jfr.toString());
        assertThat(summary).as("the recording has the event type").contains("jdk.VirtualThreadPinned");
        String json = jfr(jdk, "print", "--json", "--events", "jdk.VirtualThreadPinned", jfr.toString());
        Matcher m = Pattern.compile("\"startTime\":\\s*\"([^\"]+)\"").matcher(json);
        long during = 0;
        long before = 0;
        while (m.find()) {
            if (Instant.parse(m.group(1)).isBefore(from)) {
                before++;
            } else {
                during++;
            }
        }
        System.out.printf("pinned events: %d during the measured calls, %d during start-up and warm-up%n", during,
                before);
        return during;
    }
}
