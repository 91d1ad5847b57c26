package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.beans.PropertyDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.BeanUtils;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** The one declaration of the pool settings: what a pool configured is recorded, whatever its value. */
class PoolPropertiesTest {

    @Test
    void everySetterRecordsItsOwnPropertyAndNothingElse() {
        List<String> properties = new ArrayList<>();
        for (PropertyDescriptor d : BeanUtils.getPropertyDescriptors(PoolProperties.class)) {
            if (d.getWriteMethod() == null) {
                continue;
            }
            PoolProperties p = new PoolProperties();
            assertThat(p.configuredProperties()).isEmpty();
            // Set to the default it already has: still recorded, so that it overrides the top level.
            invoke(d.getWriteMethod(), p, invoke(d.getReadMethod(), p));
            assertThat(p.configuredProperties()).as("set%s", d.getName()).containsExactly(d.getName());
            assertThat(p.isConfigured(d.getName())).isTrue();
            properties.add(d.getName());
        }
        assertThat(properties).contains("command", "size", "maxJobsJitter", "memoryLimit", "outputFile")
                .hasSizeGreaterThan(30);
    }

    @Test
    void bindingRecordsOnlyTheConfiguredKeysInAnyForm() {
        Binder binder = new Binder(new MapConfigurationPropertySource(Map.of("folk.pools.web.size", "4",
                "folk.pools.web.max-jobs", "0", "folk.pools.web.stopGrace", "5s", "folk.pools.web.env.A", "b")));
        PoolProperties web = binder.bind("folk.pools", Bindable.mapOf(String.class, PoolProperties.class))
                .get().get("web");
        assertThat(web.configuredProperties()).containsExactlyInAnyOrder("size", "maxJobs", "stopGrace", "env");
    }

    @Test
    void everyPoolKeyIsInTheReadmesTable() throws java.io.IOException {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("README.md"));
        List<String> missing = new ArrayList<>();
        for (PropertyDescriptor d : BeanUtils.getPropertyDescriptors(PoolProperties.class)) {
            String key = PoolDefinitions.kebab(d.getName());
            if (d.getWriteMethod() != null && !readme.contains("| `" + key + "`") && !readme.contains(" / `" + key + "`")
                    && !readme.contains("| `" + key + ".")) {
                missing.add(key);
            }
        }
        assertThat(missing).as("pool keys the README's Properties table does not name").isEmpty();
    }

    private static Object invoke(java.lang.reflect.Method m, Object target, Object... args) {
        try {
            return m.invoke(target, args);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(m + " failed", e);
        }
    }
}
