package dev.folk.spring.boot.autoconfigure.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.folk.spring.boot.actuate.endpoint.WorkersEndpoint;
import dev.folk.spring.boot.actuate.endpoint.WorkersEndpointWebExtension;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.autoconfigure.NotStarted;

/** The {@code workers} endpoint: only when exposed and allowed, replaceable, absent without actuator. */
class FolkWorkersEndpointAutoConfigurationTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class,
                    FolkWorkersEndpointAutoConfiguration.class))
            .withUserConfiguration(NotStarted.class)
            .withPropertyValues("folk.shutdown.signal-handler=false");

    @Test
    void exposedTheEndpointAndItsWebExtensionExist() {
        runner.withPropertyValues("management.endpoints.web.exposure.include=health,workers").run(ctx -> {
            assertThat(ctx).hasNotFailed().hasSingleBean(WorkersEndpoint.class)
                    .hasSingleBean(WorkersEndpointWebExtension.class);
            assertThat(ctx.getBean(WorkersEndpoint.class).workers().pools().keySet())
                    .containsExactlyElementsOf(ctx.getBean(FolkPools.class).names());
        });
    }

    @Test
    void notExposedByDefault() {
        runner.run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(WorkersEndpoint.class)
                .doesNotHaveBean(WorkersEndpointWebExtension.class));
    }

    @Test
    void exposedButWithNoAccessItIsNotCreated() {
        runner.withPropertyValues("management.endpoints.web.exposure.include=workers",
                        "management.endpoint.workers.access=NONE")
                .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(WorkersEndpoint.class));
    }

    @Test
    void aUserEndpointReplacesOurs() {
        runner.withUserConfiguration(UserEndpoint.class)
                .withPropertyValues("management.endpoints.web.exposure.include=workers").run(ctx -> {
                    assertThat(ctx).hasNotFailed().hasSingleBean(WorkersEndpoint.class);
                    assertThat(ctx.getBean(WorkersEndpoint.class)).isSameAs(ctx.getBean("myEndpoint"));
                    assertThat(ctx.getBean(WorkersEndpointWebExtension.class)).isNotNull();
                });
    }

    @Test
    void withoutActuatorNoEndpointAndNoFailure() {
        runner.withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate"))
                .withPropertyValues("management.endpoints.web.exposure.include=*")
                .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean("workersEndpoint"));
    }

    @Configuration(proxyBeanMethods = false)
    static class UserEndpoint {
        @Bean
        WorkersEndpoint myEndpoint(FolkPools pools) {
            return new WorkersEndpoint(pools);
        }
    }
}
