package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import com.jayway.jsonpath.JsonPath;

import org.junit.jupiter.api.Test;
import dev.folk.spring.boot.lifecycle.FolkStartupFailureAnalyzer;

/**
 * Runs after {@code package}: the built jar carries the generated configuration metadata, listing
 * every {@code folk.*} key with a description, plus the auto-configuration registrations.
 */
class ConfigurationMetadataIT {

    private static final Path JAR = Path.of(System.getProperty("folk.test.jar",
            "target/folk-spring-boot-autoconfigure-0.1.0-SNAPSHOT.jar"));

    @Test
    void theJarListsEveryFolkKeyWithADescription() throws IOException {
        String json = read("META-INF/spring-configuration-metadata.json");
        List<Map<String, Object>> properties = JsonPath.read(json, "$.properties[?(@.name =~ /folk\\..*/)]");
        Map<String, Map<String, Object>> byName = properties.stream()
                .collect(Collectors.toMap(p -> (String) p.get("name"), p -> p));

        Set<String> expected = keys(FolkProperties.class, "folk");
        assertThat(expected).contains("folk.command", "folk.size", "folk.max-memory", "folk.pools",
                "folk.shutdown.signal-handler", "folk.metrics.method-tag", "folk.readiness.enabled",
                "folk.watch.enabled", "folk.watch.paths", "folk.watch.patterns", "folk.watch.debounce")
                .hasSizeGreaterThan(35);
        assertThat(byName.keySet()).containsAll(expected);
        for (String key : expected) {
            Object description = byName.get(key).get("description");
            assertThat(description).as("description of %s", key).isInstanceOf(String.class);
            assertThat(((String) description).trim()).as("description of %s", key).hasSizeGreaterThan(10);
        }

        assertThat(byName.get("folk.command").get("defaultValue")).isEqualTo("php");
        assertThat(byName.get("folk.size").get("defaultValue")).isEqualTo(4);
        assertThat(byName.get("folk.boot-timeout").get("defaultValue")).isEqualTo("10s");
        assertThat(byName.get("folk.max-frame-length").get("defaultValue")).isEqualTo("16MB");
        assertThat(byName.get("folk.shutdown.signal-handler").get("defaultValue")).isEqualTo(true);
        assertThat(byName.get("folk.metrics.method-tag").get("defaultValue")).isEqualTo(false);
        assertThat(byName.get("folk.watch.enabled").get("defaultValue")).isEqualTo(false);
        assertThat(byName.get("folk.watch.debounce").get("defaultValue")).isEqualTo("300ms");
        assertThat(byName.get("folk.watch.patterns").get("defaultValue")).isEqualTo(List.of("**/*.php"));
        assertThat(byName.get("folk.http.server-software").get("defaultValue")).isEqualTo("Folk");
        assertThat((String) byName.get("folk.shutdown.signal-handler").get("description")).contains("130")
                .contains("143");

        List<String> outputs = JsonPath.read(json, "$.hints[?(@.name == 'folk.output')].values[*].value");
        assertThat(outputs).containsExactlyInAnyOrder("log", "discard", "file");
        List<String> outputDescriptions = JsonPath.read(json,
                "$.hints[?(@.name == 'folk.output')].values[*].description");
        assertThat(outputDescriptions).hasSize(3).allMatch(d -> !d.isBlank());
    }

    @Test
    void everyPoolKeyHasATopLevelDefault() {
        Set<String> top = keys(FolkProperties.class, "folk");
        Set<String> perPool = keys(PoolProperties.class, "folk");
        assertThat(top).containsAll(perPool);
    }

    @Test
    void theJarRegistersTheAutoConfigurationsAndFailureAnalyzers() throws IOException {
        assertThat(read("META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports").lines())
                .contains(FolkAutoConfiguration.class.getName(),
                        "dev.folk.spring.boot.autoconfigure.health.FolkHealthContributorAutoConfiguration",
                        "dev.folk.spring.boot.autoconfigure.endpoint.FolkWorkersEndpointAutoConfiguration",
                        "dev.folk.spring.boot.autoconfigure.metrics.FolkMetricsAutoConfiguration",
                        "dev.folk.spring.boot.autoconfigure.json.FolkJsonAutoConfiguration",
                        "dev.folk.spring.boot.autoconfigure.http.FolkHttpAutoConfiguration",
                        "dev.folk.spring.boot.autoconfigure.http.FolkHttpUnavailableAutoConfiguration",
                        "dev.folk.spring.boot.autoconfigure.observation.FolkObservationAutoConfiguration",
                        "dev.folk.spring.boot.autoconfigure.watch.FolkWatchAutoConfiguration");
        assertThat(read("META-INF/spring.factories")).contains("org.springframework.boot.diagnostics.FailureAnalyzer")
                .contains(FolkConfigurationFailureAnalyzer.class.getName())
                .contains(UnsupportedSpringBootFailureAnalyzer.class.getName())
                .contains(FolkStartupFailureAnalyzer.class.getName());
        assertThat(read("META-INF/spring-autoconfigure-metadata.properties"))
                .contains("FolkMetricsAutoConfiguration.ConditionalOnClass=");
    }

    /**
     * The property keys of a properties class and its superclasses, as Spring Boot names them
     * (kebab case): every field with a setter, or final with a nested properties type.
     */
    static Set<String> keys(Class<?> type, String prefix) {
        Set<String> keys = new TreeSet<>();
        for (Class<?> c = type; c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                String key = prefix + "." + kebab(f.getName());
                Class<?> t = f.getType();
                if ((t.getEnclosingClass() == FolkProperties.class || t.getEnclosingClass() == PoolProperties.class)
                        && !t.isEnum()) {
                    keys.addAll(keys(t, key));
                } else if (hasSetter(c, f)) {
                    keys.add(key);
                }
            }
        }
        return keys;
    }

    private static boolean hasSetter(Class<?> type, Field f) {
        String setter = "set" + Character.toUpperCase(f.getName().charAt(0)) + f.getName().substring(1);
        try {
            type.getMethod(setter, f.getType());
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private static String kebab(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    private static String read(String entry) throws IOException {
        assertThat(Files.isRegularFile(JAR)).as("built jar %s", JAR).isTrue();
        try (ZipFile zip = new ZipFile(JAR.toFile())) {
            ZipEntry e = zip.getEntry(entry);
            assertThat(e).as("%s in %s", entry, JAR).isNotNull();
            try (InputStream in = zip.getInputStream(e)) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        }
    }
}
