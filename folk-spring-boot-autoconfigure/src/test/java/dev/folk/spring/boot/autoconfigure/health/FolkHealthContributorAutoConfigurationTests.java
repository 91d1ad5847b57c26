package dev.folk.spring.boot.autoconfigure.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthContributors;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.NotStarted;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.health.PoolHealthIndicator;

/** The {@code folk} health contributor: created, switched off, replaced, absent without spring-boot-health. */
class FolkHealthContributorAutoConfigurationTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class,
                    FolkHealthContributorAutoConfiguration.class))
            .withPropertyValues("folk.shutdown.signal-handler=false");

    @Test
    void oneIndicatorPerPoolReportingItsRealState() {
        String tag = Workers.newTag();
        runner.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1", "folk.env.FOLK_TEST_RUN=" + tag)
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    WorkerPool pool = ctx.getBean(WorkerPool.class);
                    assertThat(pool.call("echo", "hi")).isEqualTo("hi");
                    CompositeHealthContributor health = ctx.getBean("folkHealthContributor",
                            CompositeHealthContributor.class);
                    assertThat(health.getContributor("default")).isInstanceOf(PoolHealthIndicator.class);
                    Health h = ((HealthIndicator) health.getContributor("default")).health(true);
                    assertThat(h.getStatus()).isEqualTo(Status.UP);
                    assertThat(h.getDetails()).containsEntry("ready", 1L).containsEntry("size", 1)
                            .containsEntry("state", "RUNNING");
                });
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void oneIndicatorPerNamedPool() {
        runner.withUserConfiguration(NotStarted.class)
                .withPropertyValues("folk.pools.web.size=1", "folk.pools.jobs.size=1")
                .run(ctx -> {
                    CompositeHealthContributor health = ctx.getBean("folkHealthContributor",
                            CompositeHealthContributor.class);
                    assertThat(health.stream().map(HealthContributors.Entry::name)).containsExactly("web", "jobs");
                });
    }

    @Test
    void switchedOffWithManagementHealthFolkEnabledFalse() {
        runner.withUserConfiguration(NotStarted.class).withPropertyValues("management.health.folk.enabled=false")
                .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean("folkHealthContributor"));
    }

    @Test
    void aUserContributorNamedFolkHealthContributorReplacesOurs() {
        runner.withUserConfiguration(NotStarted.class, UserHealthConfiguration.class).run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBean(CompositeHealthContributor.class)).isSameAs(ctx.getBean("folkHealthContributor"));
            assertThat(ctx.getBean("folkHealthContributor")).isInstanceOf(UserHealth.class);
        });
    }

    @Test
    void withoutSpringBootHealthNoContributorAndNoFailure() {
        runner.withUserConfiguration(NotStarted.class)
                .withClassLoader(new FilteredClassLoader("org.springframework.boot.health"))
                .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean("folkHealthContributor"));
    }

    @Test
    void withoutPoolsNoContributor() {
        runner.withPropertyValues("folk.enabled=false")
                .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean("folkHealthContributor"));
    }

    static class UserHealth implements CompositeHealthContributor {
        @Override
        public HealthContributor getContributor(String name) {
            return null;
        }

        @Override
        public Stream<HealthContributors.Entry> stream() {
            return Stream.empty();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserHealthConfiguration {
        @Bean
        CompositeHealthContributor folkHealthContributor() {
            return new UserHealth();
        }
    }
}
