package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.testing.Chaos;
import dev.folk.core.testing.Procs;

/**
 * What an operator sees when workers die under load: 16 HTTP clients on /php/hello while a random
 * worker (busy, idle or still booting) is SIGKILLed every 200 ms for 12 s (as {@code ChaosTest}; longer
 * with {@code -Dfolk.chaos.seconds=N}, see RELIABILITY.md). No request may find the
 * pool empty (503) or wait longer than 2 s, and the pool is full again within 1 s of the last
 * kill. A request in flight on a killed worker gets 502, as from any reverse proxy.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "folk.size=4", "folk.env.FOLK_TEST_RUN=" + ChaosHttpTest.TAG})
class ChaosHttpTest {

    static final String TAG = "sample-app-chaos-http";
    private static final int CLIENTS = 16;
    private static final Duration CHAOS = Duration.ofSeconds(Integer.getInteger("folk.chaos.seconds", 12));

    @LocalServerPort
    int port;

    @Autowired
    Supervisor supervisor;

    @Autowired
    WorkerPool php;

    @Test
    void randomKillsUnderSixteenConnectionsNeverEmptyThePool() throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        URI hello = URI.create("http://127.0.0.1:" + port + "/php/hello");
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong slowestNanos = new AtomicLong();
        Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> loops = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            loops.add(clients.submit(() -> {
                while (running.get()) {
                    long t0 = System.nanoTime();
                    HttpResponse<Void> r = client.send(HttpRequest.newBuilder(hello).timeout(Duration.ofSeconds(30))
                            .GET().build(), HttpResponse.BodyHandlers.discarding());
                    slowestNanos.accumulateAndGet(System.nanoTime() - t0, Math::max);
                    statuses.computeIfAbsent(r.statusCode(), k -> new LongAdder()).increment();
                }
                return null;
            }));
        }
        Chaos.Run chaos = Chaos.killRandomWorkers(supervisor, CHAOS, Duration.ofMillis(200));
        int kills = chaos.kills();
        long lastKill = chaos.lastKillNanos(); // not the end of the schedule's last pause
        // At least 4: a worker due to recycle (max-jobs) serves beside its replacement for a moment.
        Procs.await(Duration.ofSeconds(20), "all 4 workers ready again", () -> php.readyCount() >= 4);
        long healedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastKill);
        running.set(false);
        for (Future<?> f : loops) {
            f.get(30, TimeUnit.SECONDS);
        }
        clients.shutdown();

        System.out.printf("CHAOS_HTTP kills=%d statuses=%s slowest_ms=%d healed_ms=%d exits=%s boot_failures=%d%n",
                kills, statuses, TimeUnit.NANOSECONDS.toMillis(slowestNanos.get()), healedMs, php.snapshot().exits(),
                php.snapshot().bootFailures());
        assertThat(healedMs).as("ms until the pool was full again after the last kill").isLessThan(1000);
        assertThat(kills).as("kills delivered").isGreaterThan((int) (CHAOS.toSeconds() * 10 / 3));
        assertThat(statuses).as("no request found the pool empty").doesNotContainKey(503);
        assertThat(statuses.keySet()).as("only answers and the in-flight victims' 502").isSubsetOf(200, 502);
        assertThat(php.snapshot().bootFailures()).as("a kill while booting is a crash, not a boot failure").isZero();
        assertThat(statuses.get(200).sum()).as("most requests answered").isGreaterThan(
                statuses.getOrDefault(502, new LongAdder()).sum() * 10);
        assertThat(TimeUnit.NANOSECONDS.toMillis(slowestNanos.get())).as("slowest response (ms)").isLessThan(2000);
    }
}
