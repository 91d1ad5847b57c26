package dev.folk.core.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DurationsTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "PT0S, 0ms",
        "PT0.02S, 20ms",
        "PT0.5S, 500ms",
        "PT1S, 1s",
        "PT14.5S, 14500ms",
        "PT1M, 1m",
        "PT1M30S, 90s",
        "PT2H, 2h",
        "PT0.000001S, 1us",
        "PT0.0000015S, 1500ns",
    })
    void aDurationReadsAsConfigurationWritesIt(String iso, String text) {
        assertThat(Durations.text(Duration.parse(iso))).isEqualTo(text);
    }
}
