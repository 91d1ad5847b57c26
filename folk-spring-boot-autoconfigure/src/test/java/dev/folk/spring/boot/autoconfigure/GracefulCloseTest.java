package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import dev.folk.core.pool.WorkerInfo;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.app.PlainTestApplication;
import dev.folk.spring.boot.autoconfigure.app.PlainTestApplication.AvailabilityRecorder;
import dev.folk.spring.boot.pool.FolkPools;

/** Closing the application: calls in flight finish, then no process of the pool is left, within the budget. */
class GracefulCloseTest {

    private static final Duration PHASE_BUDGET = Duration.ofSeconds(10);

    private final String tag = Workers.newTag();
    private final ExecutorService callers = Executors.newFixedThreadPool(2);

    @AfterEach
    void stopCallers() {
        callers.shutdownNow();
    }

    private ConfigurableApplicationContext start(String... extra) {
        List<String> props = new ArrayList<>(List.of("folk.args=" + TestWorkers.TEST, "folk.env.FOLK_TEST_RUN=" + tag,
                "folk.drain-timeout=5s", "folk.stop-grace=2s", "folk.shutdown.signal-handler=false",
                "spring.lifecycle.timeout-per-shutdown-phase=" + PHASE_BUDGET.toSeconds() + "s"));
        props.addAll(List.of(extra));
        return new SpringApplicationBuilder(PlainTestApplication.class).web(WebApplicationType.NONE)
                .properties(props.toArray(String[]::new)).run();
    }

    @Test
    void closingWithBusyWorkersLetsTheirCallsFinishThenLeavesNothingRunning() throws Exception {
        ConfigurableApplicationContext ctx = start("folk.size=3");
        WorkerPool pool = ctx.getBean(WorkerPool.class);
        AvailabilityRecorder recorder = ctx.getBean(AvailabilityRecorder.class);
        List<Integer> pids = pool.snapshot().workers().stream().map(WorkerInfo::pid).toList();
        assertThat(pids).hasSize(3);
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).containsExactlyInAnyOrderElementsOf(pids);

        List<Future<Long>> inFlight = List.of(callers.submit(() -> pool.call("sleep", 1000, Long.class)),
                callers.submit(() -> pool.call("sleep", 1000, Long.class)));
        Procs.await(Duration.ofSeconds(5), "two busy workers", () -> pool.snapshot().count(WorkerState.BUSY) == 2);

        long start = System.nanoTime();
        ctx.close();
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        // The calls in flight completed normally, on workers of the pool ...
        for (Future<Long> call : inFlight) {
            assertThat(call.isDone()).isTrue();
            assertThat(pids).contains(call.get(0, TimeUnit.SECONDS).intValue());
        }
        // ... and by the time close() returned, nothing of the pool runs any more.
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
        assertThat(pids).noneMatch(Procs::alive);
        assertThat(took).isLessThan(PHASE_BUDGET).isGreaterThan(Duration.ofMillis(300));

        // The pool took the application out of readiness while draining; liveness was never touched.
        List<AvailabilityChangeEvent<?>> events = recorder.events();
        assertThat(events).anyMatch(e -> e.getState() == ReadinessState.REFUSING_TRAFFIC
                && e.getSource() instanceof WorkerPool);
        assertThat(events).noneMatch(e -> e.getState() == LivenessState.BROKEN);
    }

    @Test
    void aPoolClosedAtRunTimeTakesTheApplicationOutOfReadinessButNotLiveness() {
        try (ConfigurableApplicationContext ctx = start("folk.pools.a.size=1", "folk.pools.b.size=1")) {
            ApplicationAvailability availability = ctx.getBean(ApplicationAvailability.class);
            assertThat(availability.getReadinessState()).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);
            assertThat(availability.getLivenessState()).isEqualTo(LivenessState.CORRECT);

            ctx.getBean(FolkPools.class).get("b").close();

            assertThat(availability.getReadinessState()).isEqualTo(ReadinessState.REFUSING_TRAFFIC);
            assertThat(availability.getLivenessState()).isEqualTo(LivenessState.CORRECT);
        }
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void withReadinessDisabledAClosedPoolLeavesReadinessAlone() {
        try (ConfigurableApplicationContext ctx = start("folk.pools.a.size=1", "folk.pools.b.size=1",
                "folk.readiness.enabled=false")) {
            ctx.getBean(FolkPools.class).get("b").close();
            assertThat(ctx.getBean(ApplicationAvailability.class).getReadinessState())
                    .isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);
        }
    }
}
