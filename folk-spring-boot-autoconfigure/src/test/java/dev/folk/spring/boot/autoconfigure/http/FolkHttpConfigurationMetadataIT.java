package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import com.jayway.jsonpath.JsonPath;

import org.junit.jupiter.api.Test;

/**
 * Runs after {@code package}: the built jar documents every {@code folk.http.*} key (generated from
 * {@link FolkHttpProperties}' javadoc) and registers the gateway's auto-configuration.
 */
class FolkHttpConfigurationMetadataIT {

    private static final Path JAR = Path.of(System.getProperty("folk.test.jar",
            "target/folk-spring-boot-autoconfigure-0.1.0-SNAPSHOT.jar"));

    @Test
    void everyHttpKeyIsDocumented() throws IOException {
        String json = read("META-INF/spring-configuration-metadata.json");
        List<Map<String, Object>> properties = JsonPath.read(json, "$.properties[?(@.name =~ /folk\\.http\\..*/)]");
        Map<String, Map<String, Object>> byName = properties.stream()
                .collect(Collectors.toMap(p -> (String) p.get("name"), p -> p));
        assertThat(byName.keySet()).containsExactlyInAnyOrder("folk.http.mappings", "folk.http.max-body-size",
                "folk.http.server-name", "folk.http.server-software", "folk.http.document-root",
                "folk.http.script-filename", "folk.http.retry-after", "folk.http.body-timeout", "folk.http.filter-order", "folk.http.body-memory");
        for (Map<String, Object> p : properties) {
            assertThat((String) p.get("description")).as("description of %s", p.get("name")).hasSizeGreaterThan(20);
        }
        assertThat((String) byName.get("folk.http.mappings").get("description")).contains("path", "pool",
                "strip-prefix", "public-dir", "public-dir-links", "fallback");
        assertThat(byName.get("folk.http.retry-after").get("defaultValue")).isEqualTo("1s");
        assertThat(byName.get("folk.http.body-timeout").get("defaultValue")).isEqualTo("60s");
        assertThat((String) byName.get("folk.http.filter-order").get("description")).contains("Spring Security");
        assertThat(read("META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports").lines())
                .contains(FolkHttpAutoConfiguration.class.getName());
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
