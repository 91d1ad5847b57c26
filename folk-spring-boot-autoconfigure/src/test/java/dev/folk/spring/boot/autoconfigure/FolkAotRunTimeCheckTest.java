package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

import dev.folk.core.testing.LogCapture;
import dev.folk.spring.boot.autoconfigure.http.FolkHttpAutoConfiguration;

/**
 * Under Spring AOT the starter's parts were chosen at build time: settings given at run time that
 * would add or remove one are named in a warning, not ignored silently (a mapped path met the
 * application's 404). Without AOT nothing is said.
 */
class FolkAotRunTimeCheckTest {

    private static StandardEnvironment environment(Map<String, Object> properties) {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new MapPropertySource("run time", properties));
        return environment;
    }

    @Test
    void underAotTheRunTimeSettingsTheBuildIgnoredAreNamedInOneWarning() {
        StandardEnvironment environment = environment(Map.of("folk.enabled", "false",
                "folk.http.mappings[0].path", "/php/**", "folk.pools.web.watch.enabled", "true"));
        try (LogCapture logs = LogCapture.of(FolkAutoConfiguration.class)) {
            new FolkAotRunTimeCheck(true, environment, new DefaultListableBeanFactory()).afterSingletonsInstantiated();
            assertThat(logs.warningsContaining("Spring AOT")).singleElement().asString()
                    .contains("folk.enabled=false (the pools were started)", "folk.http.mappings (the application was built"
                            + " without the HTTP gateway", "folk.pools.web.watch.enabled (no reload on change)", "process-aot",
                            "build again");
        }
    }

    @Test
    void aFilterOrderTheBuildHadNoFilterForIsNamedAndNothingWhenTheBuildHadWhatTheSettingsAskFor() {
        DefaultListableBeanFactory beans = new DefaultListableBeanFactory();
        beans.registerSingleton(FolkAotRunTimeCheck.GATEWAY_BEAN, new Object());
        StandardEnvironment environment = environment(Map.of("folk.http.mappings[0].path", "/php/**",
                "folk.http.filter-order", "-2147483648"));
        assertThat(new FolkAotRunTimeCheck(true, environment, beans).ignoredSettings()).singleElement().asString()
                .startsWith("folk.http.filter-order");
        beans.registerSingleton(FolkHttpAutoConfiguration.FILTER_BEAN_NAME, new Object());
        assertThat(new FolkAotRunTimeCheck(true, environment, beans).ignoredSettings()).isEmpty();
    }

    @Test
    void readinessAndShutdownSwitchesThatDisagreeWithTheBuildAreNamed() {
        DefaultListableBeanFactory beans = new DefaultListableBeanFactory();
        beans.registerSingleton("folkSignalHandler", new Object());
        beans.registerSingleton("folkShutdownHook", new Object());
        StandardEnvironment environment = environment(Map.of("folk.shutdown.signal-handler", "false",
                "folk.readiness.enabled", "true", "folk.shutdown.jvm-hook", "true"));
        assertThat(new FolkAotRunTimeCheck(true, environment, beans).ignoredSettings()).containsExactly(
                "folk.readiness.enabled=true (readiness follows the pools as built)",
                "folk.shutdown.signal-handler=false (SIGTERM and SIGINT are handled as built)");
    }

    @Test
    void withoutAotNothingIsSaid() {
        StandardEnvironment environment = environment(Map.of("folk.http.mappings[0].path", "/php/**"));
        try (LogCapture logs = LogCapture.of(FolkAutoConfiguration.class)) {
            new FolkAotRunTimeCheck(false, environment, new DefaultListableBeanFactory()).afterSingletonsInstantiated();
            assertThat(logs.warningsContaining("")).isEmpty();
        }
    }
}
