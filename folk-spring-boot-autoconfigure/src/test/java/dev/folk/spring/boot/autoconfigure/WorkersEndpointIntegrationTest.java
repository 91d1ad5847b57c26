package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.jayway.jsonpath.JsonPath;

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
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.folk.core.pool.WorkerErrorException;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;

/**
 * A real web application with real PHP workers, driven over real HTTP: health, the workers
 * endpoint (with its write operations enabled) and the Prometheus scrape.
 */
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.pools.main.size=2",
    "folk.pools.other.size=1",
    "folk.pools.other.max-queue=77",
    "folk.memory-check-interval=200ms",
    "folk.shutdown.signal-handler=false",
    "management.endpoints.web.exposure.include=health,workers,prometheus",
    "management.endpoint.workers.access=unrestricted",
    "management.endpoint.health.show-details=always",
    "management.endpoint.health.probes.enabled=true"
})
@DirtiesContext
class WorkersEndpointIntegrationTest {

    private static final String TAG = Workers.newTag();
    private static final Duration WAIT = Duration.ofSeconds(15);

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        TestWorkers.use(registry, TestWorkers.TEST, TAG);
    }

    @LocalServerPort
    int port;

    @Autowired
    @Qualifier("main")
    WorkerPool main;

    @Autowired
    @Qualifier("other")
    WorkerPool other;

    Http http;

    @BeforeEach
    void client() {
        http = new Http(port);
        // Every test starts from full pools (an earlier test may have recycled a worker).
        Procs.await(WAIT, "full pools", () -> main.snapshot().ready() == 2 && other.snapshot().ready() == 1);
    }

    @Test
    void healthShowsEachPoolAndReadinessButNotInLiveness() {
        HttpResponse<String> r = http.get("/actuator/health");
        assertThat(r.statusCode()).isEqualTo(200);
        String body = r.body();
        assertThat((String) JsonPath.read(body, "$.status")).isEqualTo("UP");
        assertThat((String) JsonPath.read(body, "$.components.folk.status")).isEqualTo("UP");
        Map<String, Object> mainHealth = JsonPath.read(body, "$.components.folk.components.main");
        assertThat(mainHealth).containsEntry("status", "UP");
        assertThat(JsonPath.<Map<String, Object>>read(body, "$.components.folk.components.main.details"))
                .containsEntry("size", 2).containsEntry("ready", 2).containsEntry("busy", 0)
                .containsEntry("state", "RUNNING");
        assertThat((String) JsonPath.read(body, "$.components.folk.components.other.status")).isEqualTo("UP");

        HttpResponse<String> readiness = http.get("/actuator/health/readiness");
        assertThat(readiness.statusCode()).isEqualTo(200);
        assertThat((String) JsonPath.read(readiness.body(), "$.status")).isEqualTo("UP");
        HttpResponse<String> liveness = http.get("/actuator/health/liveness");
        assertThat(liveness.statusCode()).isEqualTo(200);
        assertThat(liveness.body()).doesNotContain("folk");
    }

    /**
     * What a pool runs with, its own keys and those it takes from the top level merged: configprops
     * shows a pool's entry as bound, with the defaults of the keys it does not set.
     */
    @Test
    void eachPoolShowsTheSettingsItRunsWithInheritedOnesIncluded() {
        String body = http.get("/actuator/workers/main").body();
        assertThat((String) JsonPath.read(body, "$.settings['memory-check-interval']")).as("taken from folk.*").isEqualTo("PT0.2S");
        assertThat((Integer) JsonPath.read(body, "$.settings.size")).isEqualTo(2);
        assertThat((String) JsonPath.read(body, "$.settings['exec-timeout']")).isEqualTo(main.config().execTimeout().toString());
        assertThat(JsonPath.<Map<String, Object>>read(body, "$.settings")).as("may hold secrets")
                .doesNotContainKeys("env", "args", "command");
        String other = http.get("/actuator/workers").body();
        assertThat((Integer) JsonPath.read(other, "$.pools.other.settings['max-queue']")).as("its own").isEqualTo(77);
        assertThat((Integer) JsonPath.read(other, "$.pools.main.settings['max-queue']")).isNotEqualTo(77);
        assertThat((String) JsonPath.read(other, "$.pools.other.settings['memory-check-interval']")).isEqualTo("PT0.2S");
    }

    @Test
    void workersListsLivePidsOfEveryPool() {
        HttpResponse<String> r = http.get("/actuator/workers");
        assertThat(r.statusCode()).isEqualTo(200);
        List<Integer> mainPids = JsonPath.read(r.body(), "$.pools.main.workers[*].pid");
        List<Integer> otherPids = JsonPath.read(r.body(), "$.pools.other.workers[*].pid");
        assertThat(mainPids).hasSize(2);
        assertThat(otherPids).hasSize(1);
        List<Integer> tagged = Procs.aliveWithEnv(Workers.RUN_TAG, TAG);
        for (int pid : concat(mainPids, otherPids)) {
            assertThat(Procs.alive(pid)).as("pid %d in /proc", pid).isTrue();
            assertThat(tagged).contains(pid);
        }
        List<String> states = JsonPath.read(r.body(), "$.pools.main.workers[*].state");
        assertThat(states).containsOnly("idle");
        assertThat((String) JsonPath.read(r.body(), "$.pools.main.state")).isEqualTo("RUNNING");
        assertThat((Integer) JsonPath.read(r.body(), "$.pools.main.size")).isEqualTo(2);
        assertThat(JsonPath.<List<Object>>read(r.body(), "$.pools.main.workers[*].ageMillis")).hasSize(2);

        HttpResponse<String> one = http.get("/actuator/workers/other");
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat((String) JsonPath.read(one.body(), "$.name")).isEqualTo("other");
        assertThat(JsonPath.<List<Integer>>read(one.body(), "$.workers[*].pid")).isEqualTo(otherPids);

        assertThat(http.get("/actuator/workers/nope").statusCode()).isEqualTo(404);
    }

    @Test
    void aBusyWorkerShowsItsMethodAndElapsedTime() throws Exception {
        var call = main.callAsync("sleep", 1500);
        Procs.await(WAIT, "a busy worker", () -> main.snapshot().count(dev.folk.core.pool.WorkerState.BUSY) == 1);
        Procs.await(WAIT, "elapsed time shown", () -> {
            String body = http.get("/actuator/workers/main").body();
            List<String> methods = JsonPath.read(body, "$.workers[?(@.state == 'busy')].currentMethod");
            List<Number> elapsed = JsonPath.read(body, "$.workers[?(@.state == 'busy')].currentElapsedMillis");
            return methods.equals(List.of("sleep")) && elapsed.size() == 1 && elapsed.get(0).longValue() > 0;
        });
        assertThat(call.get()).isInstanceOf(Number.class);
    }

    @Test
    void deleteRecyclesExactlyThatWorkerAndNothingElse(CapturedOutput output) {
        List<Integer> mainPids = http.pids("main");
        List<Integer> otherPids = http.pids("other");
        int victim = mainPids.get(0);
        int survivor = mainPids.get(1);
        int otherPid = otherPids.get(0);

        // Anything that is not a live worker of that pool: 404, and nothing is touched.
        assertThat(http.delete("/actuator/workers/main/" + otherPid).statusCode()).isEqualTo(404);
        assertThat(http.delete("/actuator/workers/other/" + victim).statusCode()).isEqualTo(404);
        assertThat(http.delete("/actuator/workers/main/" + Procs.jvmPid()).statusCode()).isEqualTo(404);
        assertThat(http.delete("/actuator/workers/main/2147483647").statusCode()).isEqualTo(404);
        assertThat(http.delete("/actuator/workers/main/-1").statusCode()).isEqualTo(404);
        assertThat(http.delete("/actuator/workers/main/abc").statusCode()).isEqualTo(404);
        assertThat(http.delete("/actuator/workers/nope/" + victim).statusCode()).isEqualTo(404);
        assertThat(http.pids("main")).containsExactlyInAnyOrderElementsOf(mainPids);
        assertThat(http.pids("other")).containsExactly(otherPid);
        assertThat(Set.of(victim, survivor, otherPid)).allMatch(Procs::alive);
        long recyclesBefore = main.snapshot().exits().get(dev.folk.core.pool.ExitReason.RECYCLE);

        HttpResponse<String> r = http.delete("/actuator/workers/main/" + victim);
        assertThat(r.statusCode()).isEqualTo(202);
        assertThat((Integer) JsonPath.read(r.body(), "$.pid")).isEqualTo(victim);
        assertThat(output).as("the operator's act in the log").contains("Pool 'main': worker " + victim + " recycled on request");

        Procs.await(WAIT, "worker " + victim + " gone", () -> !Procs.alive(victim));
        Procs.await(WAIT, "a replacement in pool main", () -> {
            List<Integer> now = http.pids("main");
            return now.size() == 2 && !now.contains(victim) && now.contains(survivor);
        });
        int replacement = http.pids("main").stream().filter(p -> p != survivor).findFirst().orElseThrow();
        assertThat(Procs.alive(replacement)).isTrue();
        assertThat(Procs.alive(survivor)).isTrue();
        assertThat(http.pids("other")).containsExactly(otherPid);
        assertThat(main.snapshot().exits().get(dev.folk.core.pool.ExitReason.RECYCLE)).isEqualTo(recyclesBefore + 1);
        String body = http.get("/actuator/workers/main").body();
        assertThat(JsonPath.<List<String>>read(body, "$.recentExits[?(@.pid == " + victim + ")].reason"))
                .containsExactly("recycle");
        assertThat((Integer) JsonPath.read(body, "$.slowCalls")).as("slow-call-threshold is off").isZero();
    }

    @Test
    void postResetsThePoolRollingAndUnknownPoolsAre404() {
        int before = http.pids("other").get(0);
        List<Integer> mainPids = http.pids("main");
        HttpResponse<String> r = http.post("/actuator/workers/other");
        assertThat(r.statusCode()).isEqualTo(202);
        assertThat((String) JsonPath.read(r.body(), "$.reset")).isEqualTo("started");
        Procs.await(WAIT, "pool other reset", () -> {
            List<Integer> now = http.pids("other");
            return now.size() == 1 && now.get(0) != before && !Procs.alive(before);
        });
        assertThat(http.pids("main")).containsExactlyInAnyOrderElementsOf(mainPids);
        assertThat(http.post("/actuator/workers/nope").statusCode()).isEqualTo(404);
    }

    @Test
    void prometheusRendersThePoolMetricsWithoutPidTags() {
        assertThat(main.call("echo", "x")).isEqualTo("x");
        try {
            main.call("no-such-method", 1);
        } catch (WorkerErrorException expected) {
            // recorded as application-error
        }
        Procs.await(WAIT, "memory sampled", () -> value(http.get("/actuator/prometheus").body(),
                "folk_workers_memory_used_bytes", "pool=\"main\"") > 0);
        String text = http.get("/actuator/prometheus").body();
        assertThat(value(text, "folk_pool_size", "pool=\"main\"")).isEqualTo(2.0);
        assertThat(value(text, "folk_workers", "pool=\"main\"", "state=\"idle\"")).isEqualTo(2.0);
        assertThat(value(text, "folk_workers", "pool=\"other\"", "state=\"busy\"")).isEqualTo(0.0);
        assertThat(value(text, "folk_calls_queued", "pool=\"main\"")).isEqualTo(0.0);
        assertThat(value(text, "folk_workers_spawned_total", "pool=\"main\"")).isGreaterThanOrEqualTo(2.0);
        assertThat(value(text, "folk_workers_boot_failures_total", "pool=\"main\"")).isEqualTo(0.0);
        assertThat(value(text, "folk_workers_exited_total", "pool=\"main\"", "reason=\"crash\"")).isEqualTo(0.0);
        assertThat(value(text, "folk_call_execution_seconds_count", "pool=\"main\"", "outcome=\"success\""))
                .isGreaterThanOrEqualTo(1.0);
        assertThat(value(text, "folk_call_wait_seconds_count", "pool=\"main\"", "outcome=\"application-error\""))
                .isGreaterThanOrEqualTo(1.0);
        assertThat(value(text, "folk_workers_memory_largest_bytes", "pool=\"main\"")).isGreaterThan(0.0);
        // Every folk_* meter says what it counts, those Micrometer makes of the folk.call observation too.
        assertThat(text.lines().filter(l -> l.startsWith("# HELP folk_"))).isNotEmpty()
                .contains("# HELP folk_call_seconds Pool calls, waiting for a free worker included, by pool and outcome"
                        + " (the folk.call observation)")
                .allMatch(l -> l.split(" ", 4).length == 4 && !l.split(" ", 4)[3].isBlank(), "a description");
        assertThat(text.lines().filter(l -> l.startsWith("folk_"))).noneMatch(l -> l.contains("pid="))
                .noneMatch(l -> l.contains("method="));
    }

    /** The value of the sample {@code name{labels...}} in a Prometheus text page; fails if absent. */
    static double value(String page, String name, String... labels) {
        Pattern line = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE);
        Matcher m = line.matcher(page);
        while (m.find()) {
            boolean all = true;
            for (String l : labels) {
                all &= m.group(1).contains(l);
            }
            if (all) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("No sample " + name + " with " + List.of(labels) + " in:\n"
                + String.join("\n", page.lines().filter(l -> l.startsWith("folk_")).toList()));
    }

    private static List<Integer> concat(List<Integer> a, List<Integer> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
