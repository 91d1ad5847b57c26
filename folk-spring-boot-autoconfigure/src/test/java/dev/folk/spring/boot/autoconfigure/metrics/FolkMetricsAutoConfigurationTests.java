package dev.folk.spring.boot.autoconfigure.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;

import io.micrometer.core.instrument.MeterRegistry;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.autoconfigure.NotStarted;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.metrics.FolkHttpMetrics;
import dev.folk.spring.boot.metrics.FolkMetrics;
import dev.folk.spring.boot.metrics.MethodTags;

/** The pools' meters: bound to the registry, the optional method tag, back-off, none without a registry. */
class FolkMetricsAutoConfigurationTests {

    private static final AutoConfigurations METRICS = AutoConfigurations.of(MetricsAutoConfiguration.class,
            CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class);

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class, FolkMetricsAutoConfiguration.class))
            .withPropertyValues("folk.shutdown.signal-handler=false");

    @Test
    void thePoolsMetersAreBound() {
        String tag = Workers.newTag();
        runner.withConfiguration(METRICS)
                .withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1", "folk.env.FOLK_TEST_RUN=" + tag)
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed().hasSingleBean(FolkMetrics.class)
                            .as("no gateway, no meters of its bodies").doesNotHaveBean(FolkHttpMetrics.class);
                    WorkerPool pool = ctx.getBean(WorkerPool.class);
                    MeterRegistry registry = ctx.getBean(MeterRegistry.class);
                    // At zero from the start: Prometheus counts no series' first sample, so a saturated
                    // pool's first acquire-timeouts would add nothing to rate() if their series came with them.
                    for (String outcome : new String[] {"success", "acquire-timeout", "queue-full", "no-worker"}) {
                        assertThat(registry.get("folk.call.wait").tags("pool", "default", "outcome", outcome).timer()
                                .count()).as(outcome).isZero();
                    }
                    assertThat(registry.find("folk.call.wait").tags("outcome", "exec-timeout").timer()).isNull();
                    assertThat(registry.find("folk.call.execution").timer()).as("made by the first call that ran").isNull();
                    assertThat(pool.call("echo", "hi")).isEqualTo("hi");
                    assertThat(registry.get("folk.workers").tags("pool", "default", "state", "idle").gauge().value())
                            .isEqualTo(1.0);
                    assertThat(registry.get("folk.call.execution").tags("pool", "default", "outcome", "success")
                            .timer().count()).isEqualTo(1);
                    assertThat(registry.get("folk.workers.spawned").tags("pool", "default").functionCounter()
                            .count()).isEqualTo(1.0);
                    assertThat(registry.get("folk.calls.slow").tags("pool", "default").functionCounter()
                            .count()).isZero();
                });
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void aCallThatNeverReachedAWorkerIsTimedWaitingOnly() {
        String tag = Workers.newTag();
        runner.withConfiguration(METRICS)
                .withPropertyValues("folk.args=" + TestWorkers.TEST, "folk.size=1", "folk.acquire-timeout=100ms",
                        "folk.env.FOLK_TEST_RUN=" + tag)
                .run(ctx -> {
                    WorkerPool pool = ctx.getBean(WorkerPool.class);
                    java.util.concurrent.CompletableFuture<Object> busy = pool.callAsync("sleep", 1500);
                    Procs.await(java.time.Duration.ofSeconds(10), "the worker busy",
                            () -> pool.snapshot().count(dev.folk.core.pool.WorkerState.BUSY) == 1);
                    assertThatThrownBy(() -> pool.call("echo", "late"))
                            .isInstanceOf(dev.folk.core.pool.NoWorkerAvailableException.class);
                    busy.get(10, java.util.concurrent.TimeUnit.SECONDS);
                    MeterRegistry registry = ctx.getBean(MeterRegistry.class);
                    assertThat(registry.get("folk.call.wait").tags("outcome", "acquire-timeout").timer().count())
                            .isEqualTo(1);
                    assertThat(registry.find("folk.call.execution").tags("outcome", "acquire-timeout").timer())
                            .as("no execution timer (of zeros) for calls that never ran").isNull();
                    assertThat(registry.get("folk.call.execution").tags("outcome", "success").timer().count())
                            .isEqualTo(1);
                });
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void callTimersGetAMethodTagOnlyWhenConfigured() {
        for (boolean methodTag : new boolean[] {false, true}) {
            runner.withConfiguration(METRICS)
                    .withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1",
                            "folk.metrics.method-tag=" + methodTag)
                    .run(ctx -> {
                        assertThat(ctx.getBean(WorkerPool.class).call("echo", "hi")).isEqualTo("hi");
                        MeterRegistry registry = ctx.getBean(MeterRegistry.class);
                        assertThat(registry.find("folk.call.execution").tags("method", "echo").timer() != null)
                                .isEqualTo(methodTag);
                        assertThat(registry.get("folk.call.wait").tags("outcome", "success").timer().count())
                                .isEqualTo(1);
                    });
        }
    }

    @Test
    void methodTagsAreCappedSoThatMethodNamesFromOutsideCannotMakeSeriesWithoutEnd() {
        runner.withConfiguration(METRICS)
                .withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1", "folk.metrics.method-tag=true")
                .run(ctx -> {
                    WorkerPool pool = ctx.getBean(WorkerPool.class);
                    assertThat(pool.call("echo", "hi")).isEqualTo("hi");
                    // A user's typo or a name taken from a request: "method not found", each a new name.
                    for (int i = 0; i < MethodTags.MAX_PER_POOL + 50; i++) {
                        String method = "no.such.method." + i;
                        assertThatThrownBy(() -> pool.call(method, "x")).hasMessageContaining("-32601");
                    }
                    MeterRegistry registry = ctx.getBean(MeterRegistry.class);
                    Set<String> methods = new HashSet<>();
                    registry.find("folk.call.wait").timers().forEach(t -> methods.add(t.getId().getTag("method")));
                    assertThat(methods).hasSize(MethodTags.MAX_PER_POOL + 1).contains("echo", MethodTags.OTHER);
                    assertThat(registry.get("folk.call.wait").tags("method", MethodTags.OTHER).timer().count())
                            .isEqualTo(51);
                });
    }

    @Test
    void aUserFolkMetricsReplacesOurs() {
        runner.withConfiguration(METRICS).withUserConfiguration(NotStarted.class, UserMetrics.class).run(ctx -> {
            assertThat(ctx).hasNotFailed().hasSingleBean(FolkMetrics.class);
            assertThat(ctx.getBean(FolkMetrics.class)).isSameAs(ctx.getBean("myMetrics"));
        });
    }

    @Test
    void withoutAMeterRegistryNoMetrics() {
        runner.withUserConfiguration(NotStarted.class)
                .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(FolkMetrics.class));
    }

    @Configuration(proxyBeanMethods = false)
    static class UserMetrics {
        @Bean
        FolkMetrics myMetrics(FolkPools pools) {
            return new FolkMetrics(pools, true);
        }
    }
}
