package dev.folk.spring.boot.autoconfigure.watch;

import java.nio.file.Path;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.handler.IgnoreErrorsBindHandler;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotatedTypeMetadata;

import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.FolkProperties;
import dev.folk.spring.boot.pool.ClasspathScripts;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.watch.SourceWatcher;

/**
 * Reload on change (development): a {@link SourceWatcher} replaces a pool's workers when its
 * sources change. Only when {@code folk.watch.enabled} or some {@code folk.pools.<name>.watch.enabled}
 * is true; backs off when the application defines its own {@link SourceWatcher}.
 */
@AutoConfiguration(after = FolkAutoConfiguration.class)
@ConditionalOnBean(FolkPools.class)
@Conditional(FolkWatchAutoConfiguration.OnWatchEnabled.class)
public final class FolkWatchAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public SourceWatcher folkSourceWatcher(FolkProperties properties, FolkPools pools,
                                           ObjectProvider<ClasspathScripts> scripts) {
        ClasspathScripts classpath = scripts.getIfAvailable();
        return new SourceWatcher(WatchDefinitions.resolve(properties, pools, classpath, Path.of("").toAbsolutePath()),
                pools::get, classpath);
    }

    /** The key that turns reload on change on ({@code folk.watch.enabled} or a pool's), or null if none does. */
    public static @Nullable String enabledBy(Environment environment) {
        Binder binder = Binder.get(environment);
        if (binder.bind("folk.watch.enabled", Boolean.class).orElse(false)) {
            return "folk.watch.enabled";
        }
        Map<String, Object> pools = binder.bind("folk.pools", Bindable.mapOf(String.class, Object.class),
                new IgnoreErrorsBindHandler()).orElse(Map.of());
        for (String name : pools.keySet()) {
            if (binder.bind("folk.pools." + name + ".watch.enabled", Boolean.class).orElse(false)) {
                return "folk.pools." + name + ".watch.enabled";
            }
        }
        return null;
    }

    /** {@code folk.watch.enabled}, or the same key of any pool, is true. */
    static final class OnWatchEnabled extends SpringBootCondition {

        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            String key = enabledBy(context.getEnvironment());
            return key != null ? ConditionOutcome.match(key + " is true")
                    : ConditionOutcome.noMatch("neither folk.watch.enabled nor folk.pools.<name>.watch.enabled is true");
        }
    }
}
