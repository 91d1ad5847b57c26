package dev.folk.spring.boot.autoconfigure;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.lifecycle.FolkLifecycle;

/**
 * Replaces the auto-configured lifecycle with one that never starts the pools, so that binding and
 * wiring tests spawn no process.
 */
@Configuration(proxyBeanMethods = false)
public class NotStarted {

    @Bean
    FolkLifecycle folkLifecycle(FolkPools pools) {
        return new FolkLifecycle(pools) {
            @Override
            public boolean isAutoStartup() {
                return false;
            }
        };
    }
}
