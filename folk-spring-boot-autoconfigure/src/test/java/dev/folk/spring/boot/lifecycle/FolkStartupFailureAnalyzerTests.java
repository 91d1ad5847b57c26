package dev.folk.spring.boot.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How the start-up failure analysis reads a pool's command line (FolkValidationTest runs the failures). */
class FolkStartupFailureAnalyzerTests {

    @Test
    void aPhpCommandLineNamesAScriptOrCodeOrNothing() {
        assertThat(FolkStartupFailureAnalyzer.namesPhpScript("php")).isFalse();
        assertThat(FolkStartupFailureAnalyzer.namesPhpScript("php -d memory_limit=460M")).isFalse();
        assertThat(FolkStartupFailureAnalyzer.namesPhpScript("php -n -dx=1 -c /etc/php.ini")).isFalse();
        assertThat(FolkStartupFailureAnalyzer.namesPhpScript("php -r")).as("-r without its code").isFalse();
        assertThat(FolkStartupFailureAnalyzer.namesPhpScript("php -n -d x=1 -r echo")).isTrue();
        assertThat(FolkStartupFailureAnalyzer.namesPhpScript("php -d memory_limit=460M app.php")).isTrue();
        assertThat(FolkStartupFailureAnalyzer.namesPhpScript("/usr/bin/php -d memory_limit=460M /srv/my app/w.php"))
                .as("a path with a space is still a script").isTrue();
    }
}
