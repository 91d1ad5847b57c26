package dev.folk.spring.boot.autoconfigure.health;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.folk.core.pool.WorkerPool;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.health.PoolHealthIndicator;

/**
 * The {@code folk} health contributor: a composite with one {@link PoolHealthIndicator} per pool
 * (e.g. {@code components.folk.components.default} in {@code /actuator/health}). Disable with
 * {@code management.health.folk.enabled=false}. Only when Spring Boot's health support
 * ({@code spring-boot-health}, part of the actuator starter) is present.
 */
@AutoConfiguration(after = FolkAutoConfiguration.class)
@ConditionalOnClass(name = {
    "org.springframework.boot.health.contributor.HealthContributor",
    "org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator"
})
@ConditionalOnBean(FolkPools.class)
public final class FolkHealthContributorAutoConfiguration {

    /**
     * Nested so that {@code @ConditionalOnEnabledHealthIndicator}, a spring-boot-health annotation,
     * is only read once the class condition above has found spring-boot-health.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnEnabledHealthIndicator("folk")
    static final class FolkHealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "folkHealthContributor")
        CompositeHealthContributor folkHealthContributor(FolkPools pools) {
            Map<String, PoolHealthIndicator> indicators = new LinkedHashMap<>();
            for (WorkerPool pool : pools.all()) {
                indicators.put(pool.name(), new PoolHealthIndicator(pool));
            }
            return CompositeHealthContributor.fromMap(indicators);
        }
    }
}
