package dev.folk.spring.boot.autoconfigure;

import java.util.Map;

import org.springframework.beans.BeansException;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.context.properties.bind.AbstractBindHandler;
import org.springframework.boot.context.properties.bind.BindContext;
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

    /** The maps whose entries may be written empty: the pools, and the pools' readiness. */
    static final ConfigurationPropertyName POOLS = ConfigurationPropertyName.of("folk.pools");
    static final ConfigurationPropertyName READINESS_POOLS = ConfigurationPropertyName.of("folk.readiness.pools");

    private final Environment environment;

    EntriesWrittenEmpty(Environment environment) {
        this.environment = environment;
    }

    @Override
    public Object postProcessBeforeInitialization(Object bean, String beanName) throws BeansException {
        // Runs after Spring Boot bound the bean: its binding post-processor is ordered first.
        if (bean instanceof FolkProperties properties) {
            bindAgain(properties.getPools(), POOLS, PoolProperties.class);
            bindAgain(properties.getReadiness().getPools(), READINESS_POOLS, FolkProperties.PoolReadiness.class);
        }
        return bean;
    }

    private <T> void bindAgain(Map<String, T> entries, ConfigurationPropertyName prefix, Class<T> type) {
        if (entries == null || entries.isEmpty()) {
            return;
        }
        Binder binder = null;
        for (Map.Entry<String, T> entry : entries.entrySet()) {
            ConfigurationPropertyName name = prefix.append(entry.getKey());
            if (!writtenAsValue(name)) {
                continue;
            }
            binder = binder != null ? binder : Binder.get(environment);
            // Without the entry's own (empty) value, the binder takes its keys, from every source.
            binder.bind(name, fromTheirKeys(Bindable.of(type))).ifBound(entry::setValue);
        }
    }

    /** {@code target} bound from its keys, never from a value for its name itself (YAML's empty entry). */
    static <T> Bindable<T> fromTheirKeys(Bindable<T> target) {
        return target.withBindRestrictions(BindRestriction.NO_DIRECT_PROPERTY);
    }

    /** Whether {@code name} is an entry of the maps whose entries may be written empty. */
    static boolean isEntry(ConfigurationPropertyName name) {
        ConfigurationPropertyName parent = name.getParent();
        return POOLS.equals(parent) || READINESS_POOLS.equals(parent);
    }

    /**
     * For a binding of one's own ({@link UnknownKeys}): binds every pool and pool readiness from its
     * keys, as this post-processor binds those written empty.
     */
    static final class FromTheirKeys extends AbstractBindHandler {
        @Override
        public <T> Bindable<T> onStart(ConfigurationPropertyName name, Bindable<T> target, BindContext context) {
            Class<?> type = target.getType().resolve();
            return type == PoolProperties.class || type == FolkProperties.PoolReadiness.class ? fromTheirKeys(target)
                    : target;
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
