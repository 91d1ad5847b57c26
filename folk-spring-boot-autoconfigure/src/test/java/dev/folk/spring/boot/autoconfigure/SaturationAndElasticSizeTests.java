package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

import io.micrometer.core.instrument.MeterRegistry;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.actuate.endpoint.WorkersEndpoint;
import dev.folk.spring.boot.autoconfigure.PoolDefinitions.PoolDefinition;
import dev.folk.spring.boot.autoconfigure.endpoint.FolkWorkersEndpointAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.metrics.FolkMetricsAutoConfiguration;
import dev.folk.spring.boot.lifecycle.SaturationReadiness;
import dev.folk.spring.boot.metrics.FolkMetrics;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * Elastic size and saturation in the starter: min-size/max-size/grow-after bound, inherited and
 * validated; the size and saturation in the workers endpoint and the meters; readiness that follows
 * the queue without undoing a refusal it did not make.
 */
class SaturationAndElasticSizeTests {

    private final String tag = Workers.newTag();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class))
            .withPropertyValues("folk.shutdown.signal-handler=false", "folk.state.enabled=false",
                    "folk.args=" + TestWorkers.TEST, "folk.size=1", "folk.env.FOLK_TEST_RUN=" + tag);

    private static List<PoolDefinition> resolve(Map<String, String> properties) {
        FolkProperties p = new Binder(new MapConfigurationPropertySource(properties))
                .bind("folk", Bindable.of(FolkProperties.class)).get();
        return PoolDefinitions.resolve(p, Duration.ofSeconds(30));
    }

    @Test
    void sizeBoundsAreInheritedPerPoolAndDefaultToSize() {
        List<PoolDefinition> pools = resolve(Map.of("folk.args", TestWorkers.ECHO.toString(), "folk.size", "3",
                "folk.min-size", "1", "folk.max-size", "6", "folk.grow-after", "50ms",
                "folk.pools.web.max-size", "10", "folk.pools.jobs.min-size", "2", "folk.pools.fixed.size", "2",
                "folk.pools.fixed.min-size", "2", "folk.pools.fixed.max-size", "2"));
        Map<String, PoolConfig> byName = new java.util.HashMap<>();
        pools.forEach(d -> byName.put(d.name(), d.config()));
        assertThat(byName.get("web").minSize()).isEqualTo(1);
        assertThat(byName.get("web").maxSize()).isEqualTo(10);
        assertThat(byName.get("web").growAfter()).isEqualTo(Duration.ofMillis(50));
        assertThat(byName.get("jobs").minSize()).isEqualTo(2);
        assertThat(byName.get("jobs").maxSize()).isEqualTo(6);
        assertThat(byName.get("fixed").elastic()).isFalse();
        assertThat(byName.get("fixed").size()).isEqualTo(2);
        assertThat(pools).filteredOn(d -> d.name().equals("jobs")).singleElement()
                .satisfies(d -> assertThat(d.minReady()).as("min-ready defaults to the starting size").isEqualTo(2));

        PoolConfig fixed = resolve(Map.of("folk.args", TestWorkers.ECHO.toString())).get(0).config();
        assertThat(fixed.elastic()).as("fixed size unless min-size or max-size is set").isFalse();
        assertThat(fixed.size()).isEqualTo(4);
        assertThat(fixed.growAfter()).as("default agrees with the core's").isEqualTo(PoolConfig.DEFAULT_GROW_AFTER);
    }

    @Test
    void invalidBoundsFailStartupNamingTheKey() {
        record Case(List<String> properties, String key, String problem) {
        }
        List<Case> cases = List.of(
                new Case(List.of("folk.min-size=5", "folk.max-size=2"), "folk.min-size",
                        "must not be above folk.max-size (2)"),
                new Case(List.of("folk.pools.web.max-size=0"), "folk.pools.web.max-size", "must be at least 1"),
                new Case(List.of("folk.min-size=-1"), "folk.min-size", "must be 0 or more"),
                new Case(List.of("folk.min-size=0", "folk.max-queue=0"), "folk.min-size", "needs folk.max-queue of 1"),
                new Case(List.of("folk.grow-after=-1ms"), "folk.grow-after", "must not be negative"),
                new Case(List.of("folk.max-size=4", "folk.min-ready=3"), "folk.min-ready", "between 1 and the pool size (1)"));
        for (Case c : cases) {
            Map<String, String> properties = new java.util.HashMap<>(Map.of("folk.args", TestWorkers.ECHO.toString(),
                    "folk.size", "1"));
            c.properties().forEach(kv -> properties.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1)));
            FolkConfigurationException e = org.junit.jupiter.api.Assertions.assertThrows(
                    FolkConfigurationException.class, () -> resolve(properties), c.toString());
            FailureAnalysis analysis = new FolkConfigurationFailureAnalyzer(null).analyze(e);
            assertThat(analysis.getDescription()).as("%s", c).contains("Property: " + c.key()).contains(c.problem());
        }
        // Through start-up: the application fails before any worker starts.
        runner.withPropertyValues("folk.min-size=5", "folk.max-size=2").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(new FolkConfigurationFailureAnalyzer(null).analyze(ctx.getStartupFailure()).getDescription())
                    .contains("Property: folk.min-size");
        });
        assertThat(Procs.withEnv(Workers.RUN_TAG, tag)).as("no worker may start").isEmpty();
    }

    @Test
    void anElasticPoolShowsItsSizeAndSaturationInTheEndpointAndMeters() {
        runner.withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
                        CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class,
                        FolkMetricsAutoConfiguration.class, FolkWorkersEndpointAutoConfiguration.class))
                .withPropertyValues("folk.min-size=1", "folk.max-size=2", "folk.grow-after=0ms",
                        "management.endpoints.web.exposure.include=workers")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed().hasSingleBean(FolkMetrics.class);
                    WorkerPool pool = ctx.getBean(WorkerPool.class);
                    List<CompletableFuture<Object>> calls = new ArrayList<>();
                    for (int i = 0; i < 3; i++) {
                        calls.add(pool.callAsync("sleep", 300));
                    }
                    calls.forEach(CompletableFuture::join);
                    WorkersEndpoint.PoolDescriptor d = ctx.getBean(WorkersEndpoint.class).pool("default");
                    assertThat(d.sizing()).isEqualTo(new WorkersEndpoint.SizingDescriptor(true, 1, 2, 2, 2));
                    assertThat(d.saturation().maxBusy()).isEqualTo(2);
                    assertThat(d.saturation().maxQueued()).isBetween(1, 2);
                    assertThat(d.saturation().noFreeWorker()).isBetween(1L, 2L);
                    MeterRegistry registry = ctx.getBean(MeterRegistry.class);
                    await("target gauge", () -> registry.get("folk.pool.size.target").tags("pool", "default").gauge()
                            .value() == 2.0);
                    assertThat(registry.get("folk.pool.size.max").gauge().value()).isEqualTo(2.0);
                    assertThat(registry.get("folk.pool.size.min").gauge().value()).isEqualTo(1.0);
                    assertThat(registry.get("folk.workers.busy.max").gauge().value()).isEqualTo(2.0);
                    assertThat(registry.get("folk.calls.queued.max").gauge().value()).isGreaterThanOrEqualTo(1.0);
                    assertThat(registry.get("folk.calls.no.free.worker").functionCounter().count())
                            .isGreaterThanOrEqualTo(1.0);
                    assertThat(registry.get("folk.worker.boot").timer().count()).isEqualTo(2);
                    assertThat(registry.get("folk.call.wait").tags("outcome", "success").timer().takeSnapshot()
                            .histogramCounts()).as("Prometheus buckets").hasSize(FolkMetrics.WAIT_BUCKETS.length);
                    int pid = d.workers().get(0).pid();
                    assertThat(pool.recycle(pid)).isTrue();
                    await("calls per worker recorded at its exit",
                            () -> registry.get("folk.worker.calls").summary().count() == 1);
                });
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void readinessFollowsTheQueueAndNeverUndoesAnotherRefusal() {
        runner.withConfiguration(AutoConfigurations.of(ApplicationAvailabilityAutoConfiguration.class))
                .withPropertyValues("folk.readiness.max-queue=1", "folk.readiness.recovery=200ms")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed().hasSingleBean(SaturationReadiness.class);
                    ApplicationAvailability availability = ctx.getBean(ApplicationAvailability.class);
                    AvailabilityChangeEvent.publish(ctx, ReadinessState.ACCEPTING_TRAFFIC); // as Spring Boot once started
                    WorkerPool pool = ctx.getBean(WorkerPool.class);

                    List<CompletableFuture<Object>> calls = saturate(pool);
                    await("refusing while 2 calls wait", () -> availability.getReadinessState()
                            == ReadinessState.REFUSING_TRAFFIC);
                    calls.forEach(CompletableFuture::join);
                    await("accepting again after the recovery", () -> availability.getReadinessState()
                            == ReadinessState.ACCEPTING_TRAFFIC);

                    calls = saturate(pool);
                    await("refusing again", () -> ctx.getBean(SaturationReadiness.class).isRefusing());
                    AvailabilityChangeEvent.publish(ctx, ReadinessState.REFUSING_TRAFFIC); // somebody else's refusal
                    calls.forEach(CompletableFuture::join);
                    await("recovered", () -> !ctx.getBean(SaturationReadiness.class).isRefusing());
                    assertThat(availability.getReadinessState()).as("another refusal is left alone")
                            .isEqualTo(ReadinessState.REFUSING_TRAFFIC);
                });
        runner.withUserConfiguration(NotStarted.class)
                .run(ctx -> assertThat(ctx).as("off by default").doesNotHaveBean(SaturationReadiness.class));
    }

    @Test
    void readinessWatchesEachPoolWithItsOwnMaxQueueAndNotAPoolTurnedOff() {
        List<ReadinessState> published = new java.util.concurrent.CopyOnWriteArrayList<>();
        runner.withConfiguration(AutoConfigurations.of(ApplicationAvailabilityAutoConfiguration.class))
                .withPropertyValues("folk.pools.web.size=1", "folk.pools.jobs.size=1", "folk.pools.batch.size=1",
                        "folk.readiness.max-queue=1", "folk.readiness.pools.batch.max-queue=5",
                        "folk.readiness.pools.jobs.enabled=false", "folk.readiness.recovery=200ms")
                .withInitializer(ctx -> ctx.addApplicationListener(
                        (org.springframework.context.ApplicationListener<AvailabilityChangeEvent<?>>) e -> {
                            if (e.getState() instanceof ReadinessState state) {
                                published.add(state);
                            }
                        }))
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed().hasSingleBean(SaturationReadiness.class);
                    ApplicationAvailability availability = ctx.getBean(ApplicationAvailability.class);
                    AvailabilityChangeEvent.publish(ctx, ReadinessState.ACCEPTING_TRAFFIC); // as Spring Boot once started
                    FolkPools pools = ctx.getBean(FolkPools.class);

                    // A queue of 2, over the default max-queue of 1, for the 400 ms the first call sleeps (four
                    // samples or so): on 'jobs', turned off, and on 'batch', whose own max-queue is 5.
                    for (String name : List.of("jobs", "batch")) {
                        List<CompletableFuture<Object>> calls = saturate(pools.get(name));
                        await(name + "'s calls queued", () -> pools.get(name).queueLength() == 2);
                        calls.forEach(CompletableFuture::join);
                        assertThat(published).as("refusals after a queue of 2 on " + name)
                                .doesNotContain(ReadinessState.REFUSING_TRAFFIC);
                    }

                    // The same queue on 'web', over the default max-queue.
                    List<CompletableFuture<Object>> calls = saturate(pools.get("web"));
                    await("refusing while 2 web calls wait", () -> availability.getReadinessState()
                            == ReadinessState.REFUSING_TRAFFIC);
                    calls.forEach(CompletableFuture::join);
                    await("accepting again after the recovery", () -> availability.getReadinessState()
                            == ReadinessState.ACCEPTING_TRAFFIC);
                });
        runner.withPropertyValues("folk.pools.web.size=1", "folk.readiness.pools.web.max-queue=2")
                .run(ctx -> assertThat(ctx).as("a pool's own max-queue turns it on").hasSingleBean(SaturationReadiness.class));
        for (String[] c : List.of(new String[] {"folk.readiness.pools.nope.max-queue=1", "folk.readiness.pools.nope", "names no pool"},
                new String[] {"folk.readiness.pools.default.max-queue=-1", "folk.readiness.pools.default.max-queue", "must not be negative"})) {
            runner.withPropertyValues("folk.readiness.max-queue=1", c[0]).run(ctx -> {
                assertThat(ctx).as(c[0]).hasFailed();
                assertThat(new FolkConfigurationFailureAnalyzer(null).analyze(ctx.getStartupFailure()).getDescription())
                        .contains("Property: " + c[1]).contains(c[2]);
            });
        }
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    /** One call busy on the only worker for a moment, two waiting: a queue of 2, over max-queue 1. */
    private static List<CompletableFuture<Object>> saturate(WorkerPool pool) {
        List<CompletableFuture<Object>> calls = new ArrayList<>();
        calls.add(pool.callAsync("sleep", 400));
        calls.add(pool.callAsync("sleep", 0));
        calls.add(pool.callAsync("sleep", 0));
        return calls;
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("waiting for %s", what).isNegative();
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
        }
    }
}
