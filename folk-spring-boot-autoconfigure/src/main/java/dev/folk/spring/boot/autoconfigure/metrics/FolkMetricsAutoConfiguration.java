package dev.folk.spring.boot.autoconfigure.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.autoconfigure.FolkProperties;
import dev.folk.spring.boot.autoconfigure.http.FolkHttpAutoConfiguration;
import dev.folk.spring.boot.http.FolkHttpGateway;
import dev.folk.spring.boot.metrics.FolkCallMeterDescriptions;
import dev.folk.spring.boot.metrics.FolkHttpMetrics;
import dev.folk.spring.boot.metrics.FolkMetrics;

/**
 * The pools' Micrometer meters ({@link FolkMetrics}) and, with the HTTP gateway, its request
 * bodies' ({@link FolkHttpMetrics}), when Spring Boot's Micrometer support is
 * present and a {@link MeterRegistry} exists; Spring Boot binds the {@link MeterBinder} bean.
 */
@AutoConfiguration(after = {FolkAutoConfiguration.class, FolkHttpAutoConfiguration.class},
        afterName = {
            "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"
        })
@ConditionalOnClass(name = {
    "io.micrometer.core.instrument.binder.MeterBinder",
    "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration"
})
@ConditionalOnBean(FolkPools.class)
public final class FolkMetricsAutoConfiguration {

    /** Nested so that its condition on {@link MeterRegistry} is only read once Micrometer is known to exist. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBean(MeterRegistry.class)
    static final class FolkMetricsConfiguration {

        @Bean
        @ConditionalOnMissingBean
        FolkMetrics folkMetrics(FolkPools pools, FolkProperties properties) {
            return new FolkMetrics(pools, properties.getMetrics().isMethodTag());
        }

        /** Spring Boot applies MeterFilter beans to its registries before they register meters. */
        @Bean
        @ConditionalOnMissingBean
        FolkCallMeterDescriptions folkCallMeterDescriptions() {
            return new FolkCallMeterDescriptions();
        }

        @Bean
        @ConditionalOnBean(FolkHttpGateway.class)
        @ConditionalOnMissingBean
        FolkHttpMetrics folkHttpMetrics(FolkHttpGateway gateway) {
            return new FolkHttpMetrics(gateway);
        }
    }
}
