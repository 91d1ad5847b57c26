package dev.folk.spring.boot.autoconfigure.endpoint;

import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.folk.spring.boot.actuate.endpoint.WorkersEndpoint;
import dev.folk.spring.boot.actuate.endpoint.WorkersEndpointWebExtension;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * The {@code workers} endpoint, when actuator is present and the endpoint is available (exposed
 * and not switched off, e.g. {@code management.endpoints.web.exposure.include=health,workers}).
 */
@AutoConfiguration(after = FolkAutoConfiguration.class)
@ConditionalOnClass(name = {
    "org.springframework.boot.actuate.endpoint.annotation.Endpoint",
    "org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint"
})
@ConditionalOnBean(FolkPools.class)
public final class FolkWorkersEndpointAutoConfiguration {

    /**
     * Nested so that {@code @ConditionalOnAvailableEndpoint}, an actuator annotation, is only read
     * once the class condition above has found actuator.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnAvailableEndpoint(WorkersEndpoint.class)
    static final class WorkersEndpointConfiguration {

        @Bean
        @ConditionalOnMissingBean
        WorkersEndpoint workersEndpoint(FolkPools pools) {
            return new WorkersEndpoint(pools);
        }

        @Bean
        @ConditionalOnMissingBean
        @ConditionalOnBean(WorkersEndpoint.class)
        WorkersEndpointWebExtension workersEndpointWebExtension(WorkersEndpoint endpoint) {
            return new WorkersEndpointWebExtension(endpoint);
        }
    }
}
