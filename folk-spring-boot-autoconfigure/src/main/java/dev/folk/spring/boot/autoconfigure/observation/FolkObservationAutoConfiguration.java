package dev.folk.spring.boot.autoconfigure.observation;

import io.micrometer.observation.ObservationRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.LazyInitializationExcludeFilter;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.FolkProperties;
import dev.folk.spring.boot.observation.DefaultFolkCallObservationConvention;
import dev.folk.spring.boot.observation.FolkCallObservationConvention;
import dev.folk.spring.boot.observation.FolkCallObserver;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * Each pool call as a Micrometer observation ({@link FolkCallObserver}) when the application has
 * an {@link ObservationRegistry} (Spring Boot's observation auto-configuration makes one with
 * actuator). A {@link FolkCallObservationConvention} bean replaces the default names and keys;
 * {@code management.observations.enable.folk=false} turns the observations off.
 */
@AutoConfiguration(after = FolkAutoConfiguration.class,
        afterName = "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration")
@ConditionalOnClass(name = "io.micrometer.observation.ObservationRegistry")
@ConditionalOnBean(FolkPools.class)
public final class FolkObservationAutoConfiguration {

    /** Nested so that its condition on {@link ObservationRegistry} is only read once Micrometer is known to exist. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBean(ObservationRegistry.class)
    static final class FolkObservationConfiguration {

        /**
         * Made at start-up even with {@code spring.main.lazy-initialization}: nothing asks for the
         * observer, which attaches itself to the pools when made, so lazily it never was.
         */
        @Bean
        static LazyInitializationExcludeFilter folkEagerCallObserver() {
            return LazyInitializationExcludeFilter.forBeanTypes(FolkCallObserver.class);
        }

        /** Observes every pool's calls; the pools are not started yet, so no call goes unobserved. */
        @Bean
        @ConditionalOnMissingBean
        FolkCallObserver folkCallObserver(FolkPools pools, ObservationRegistry registry,
                                          ObjectProvider<FolkCallObservationConvention> convention,
                                          FolkProperties properties) {
            FolkCallObserver observer = new FolkCallObserver(registry, convention.getIfAvailable(),
                    new DefaultFolkCallObservationConvention(properties.getMetrics().isMethodTag()));
            observer.observe(pools);
            return observer;
        }
    }
}
