package dev.folk.spring.boot.autoconfigure.observation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.micrometer.common.KeyValue;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;

import org.junit.jupiter.api.Test;
import org.springframework.boot.LazyInitializationBeanFactoryPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.folk.core.pool.WorkerErrorException;
import dev.folk.core.pool.WorkerPool;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.NotStarted;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.observation.DefaultFolkCallObservationConvention;
import dev.folk.spring.boot.observation.FolkCallContext;
import dev.folk.spring.boot.observation.FolkCallObservationConvention;
import dev.folk.spring.boot.observation.FolkCallObserver;

/**
 * Pool calls as observations through Spring Boot's observation auto-configuration: name and keys,
 * the method key's cardinality, the application's convention, turning it off, and nothing without
 * an observation registry.
 */
class FolkObservationAutoConfigurationTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class,
                    FolkObservationAutoConfiguration.class))
            .withPropertyValues("folk.shutdown.signal-handler=false");

    private final ApplicationContextRunner withObservations = runner
            .withConfiguration(AutoConfigurations.of(ObservationAutoConfiguration.class))
            .withUserConfiguration(Recording.class);

    /** An observation handler Spring Boot adds to its registry: keeps every stopped context. */
    @Configuration(proxyBeanMethods = false)
    static class Recording {
        final List<Observation.Context> stopped = new CopyOnWriteArrayList<>();

        @Bean
        ObservationHandler<Observation.Context> recordingHandler() {
            return new ObservationHandler<>() {
                @Override
                public void onStop(Observation.Context context) {
                    stopped.add(context);
                }

                @Override
                public boolean supportsContext(Observation.Context context) {
                    return true;
                }
            };
        }
    }

    private static String key(Iterable<KeyValue> values, String key) {
        for (KeyValue v : values) {
            if (v.getKey().equals(key)) {
                return v.getValue();
            }
        }
        return null;
    }

    @Test
    void eachCallIsAFolkCallObservationWithItsPoolOutcomeMethodAndWorker() {
        withObservations.withPropertyValues("folk.args=" + TestWorkers.TEST, "folk.size=1").run(ctx -> {
            assertThat(ctx).hasNotFailed().hasSingleBean(FolkCallObserver.class);
            WorkerPool pool = ctx.getBean(WorkerPool.class);
            assertThat(pool.call("echo", "hi")).isEqualTo("hi");
            assertThat(pool.callAsync("echo", "async")).succeedsWithin(java.time.Duration.ofSeconds(10));
            try {
                pool.call("nope", "boom");
            } catch (WorkerErrorException expected) {
                // recorded below
            }
            List<Observation.Context> stopped = ctx.getBean(Recording.class).stopped;
            assertThat(stopped).hasSize(3).allSatisfy(c -> {
                assertThat(c).isInstanceOf(FolkCallContext.class);
                assertThat(c.getName()).isEqualTo("folk.call");
                assertThat(key(c.getLowCardinalityKeyValues(), "pool")).isEqualTo("default");
                assertThat(key(c.getLowCardinalityKeyValues(), "method")).as("method-tag off").isNull();
                assertThat(key(c.getHighCardinalityKeyValues(), "worker.pid"))
                        .isEqualTo(Integer.toString(pool.snapshot().workers().get(0).pid()));
            });
            assertThat(stopped).map(c -> key(c.getLowCardinalityKeyValues(), "outcome"))
                    .containsExactly("success", "success", "application-error");
            assertThat(stopped).map(c -> key(c.getHighCardinalityKeyValues(), "method"))
                    .containsExactly("echo", "echo", "nope");
            assertThat(stopped.get(2).getError()).isInstanceOf(WorkerErrorException.class);
            assertThat(stopped.get(0).getContextualName()).isEqualTo("default echo");
        });
    }

    @Test
    void theMethodIsALowCardinalityKeyOnlyWithTheMethodTagAndAUserConventionReplacesOurs() {
        withObservations.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1",
                "folk.metrics.method-tag=true").run(ctx -> {
                    ctx.getBean(WorkerPool.class).call("echo", "hi");
                    Observation.Context c = ctx.getBean(Recording.class).stopped.get(0);
                    assertThat(key(c.getLowCardinalityKeyValues(), "method")).isEqualTo("echo");
                });
        withObservations.withUserConfiguration(NotStarted.class, UserConvention.class)
                .run(ctx -> assertThat(ctx).hasNotFailed().getBean(FolkCallObserver.class)
                        .extracting("convention").isSameAs(ctx.getBean(FolkCallObservationConvention.class)));
    }

    /** Nothing asks for the observer, which attaches itself to the pools: lazily made, it never was. */
    @Test
    void underLazyInitializationCallsAreStillObserved() {
        withObservations.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1")
                .withInitializer(ctx -> ctx.addBeanFactoryPostProcessor(new LazyInitializationBeanFactoryPostProcessor()))
                .run(ctx -> {
                    assertThat(ctx.getBean(WorkerPool.class).call("echo", "hi")).isEqualTo("hi");
                    assertThat(ctx.getBean(Recording.class).stopped).extracting(Observation.Context::getName)
                            .containsExactly("folk.call");
                });
    }

    @Test
    void managementObservationsEnableFolkFalseTurnsThemOff() {
        withObservations.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1",
                "management.observations.enable.folk=false").run(ctx -> {
                    assertThat(ctx.getBean(WorkerPool.class).call("echo", "hi")).isEqualTo("hi");
                    assertThat(ctx.getBean(Recording.class).stopped).isEmpty();
                });
    }

    @Test
    void withoutAnObservationRegistryOrMicrometerNoObserver() {
        runner.withUserConfiguration(NotStarted.class)
                .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(FolkCallObserver.class));
        runner.withUserConfiguration(NotStarted.class).withBean(ObservationRegistry.class, ObservationRegistry::create)
                .withClassLoader(new FilteredClassLoader("io.micrometer.observation"))
                .run(ctx -> assertThat(ctx).doesNotHaveBean(FolkCallObserver.class));
    }

    @Configuration(proxyBeanMethods = false)
    static class UserConvention {
        @Bean
        FolkCallObservationConvention myConvention() {
            return new DefaultFolkCallObservationConvention(false) {
                @Override
                public String getName() {
                    return "php.call";
                }
            };
        }
    }
}
