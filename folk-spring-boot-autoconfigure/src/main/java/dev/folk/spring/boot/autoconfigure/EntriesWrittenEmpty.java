package dev.folk.spring.boot.autoconfigure;

import java.util.Map;

import org.springframework.beans.BeansException;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Bindable.BindRestriction;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.Environment;

/**
 * Binds again the pools written empty in YAML ({@code folk.pools.default: {}}, a pool that takes
 * every top-level setting) from their keys in other sources. Spring Boot reads such an entry as the
 * key with an empty value, and binds the entry from that value alone: the same pool's settings from
 * the command line or the environment ({@code --folk.pools.default.size=1},
 * {@code FOLK_POOLS_DEFAULT_SIZE}) were silently ignored. The same holds for
 * {@code folk.readiness.pools}.
 */
final class EntriesWrittenEmpty implements BeanPostProcessor {

    private final Environment environment;

    EntriesWrittenEmpty(Environment environment) {
        this.environment = environment;
    }

    @Override
    public Object postProcessBeforeInitialization(Object bean, String beanName) throws BeansException {
        // Runs after Spring Boot bound the bean: its binding post-processor is ordered first.
        if (bean instanceof FolkProperties properties) {
            bindAgain(properties.getPools(), "folk.pools", PoolProperties.class);
            bindAgain(properties.getReadiness().getPools(), "folk.readiness.pools", FolkProperties.PoolReadiness.class);
        }
        return bean;
    }

    private <T> void bindAgain(Map<String, T> entries, String prefix, Class<T> type) {
        if (entries == null || entries.isEmpty()) {
            return;
        }
        Binder binder = null;
        for (Map.Entry<String, T> entry : entries.entrySet()) {
            ConfigurationPropertyName name = ConfigurationPropertyName.of(prefix).append(entry.getKey());
            if (!writtenAsValue(name)) {
                continue;
            }
            binder = binder != null ? binder : Binder.get(environment);
            // Without the entry's own (empty) value, the binder takes its keys, from every source.
            binder.bind(name, Bindable.of(type).withBindRestrictions(BindRestriction.NO_DIRECT_PROPERTY))
                    .ifBound(entry::setValue);
        }
    }

    /** Whether some source has a value for the entry's name itself, as YAML's empty entry makes. */
    private boolean writtenAsValue(ConfigurationPropertyName name) {
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
            if (source.getConfigurationProperty(name) != null) {
                return true;
            }
        }
        return false;
    }
}
