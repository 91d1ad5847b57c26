package dev.folk.spring.boot.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How the start-up failure analysis reads a pool's command line (FolkValidationTest runs the failures). */
class FolkStartupFailureAnalyzerTests {

    @Test
    void aPhpCommandLineNamesAScriptOrCodeOrNothing() {
        assertThat(FolkStartupFailureAnalyzer.phpWithoutScript("php")).isTrue();
        assertThat(FolkStartupFailureAnalyzer.phpWithoutScript("php -d memory_limit=460M")).isTrue();
        assertThat(FolkStartupFailureAnalyzer.phpWithoutScript("php -n -dx=1 -c /etc/php.ini")).isTrue();
        assertThat(FolkStartupFailureAnalyzer.phpWithoutScript("php -r")).as("-r without its code").isTrue();
        assertThat(FolkStartupFailureAnalyzer.phpWithoutScript("php -n -d x=1 -r echo")).isFalse();
        assertThat(FolkStartupFailureAnalyzer.phpWithoutScript("php -d memory_limit=460M app.php")).isFalse();
        assertThat(FolkStartupFailureAnalyzer.phpWithoutScript("/usr/bin/php -d memory_limit=460M /srv/my app/w.php"))
                .as("a path with a space is still a script").isFalse();
        assertThat(FolkStartupFailureAnalyzer.phpWithoutScript("/bin/sh")).as("not PHP").isFalse();
    }
}
