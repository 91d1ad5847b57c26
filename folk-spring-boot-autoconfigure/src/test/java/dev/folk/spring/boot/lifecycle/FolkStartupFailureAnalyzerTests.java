package dev.folk.spring.boot.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

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

    /** How interpreters other than PHP say their script is not there (FolkValidationTest runs sh's). */
    @Test
    void aMissingScriptIsRecognisedInTheWordsOfItsInterpreter() {
        assertThat(FolkStartupFailureAnalyzer.missingScript("python3 -u /srv/w/worker.py",
                List.of("stderr: python3: can't open file '/srv/w/worker.py': [Errno 2] No such file or directory")))
                .isEqualTo("/srv/w/worker.py");
        assertThat(FolkStartupFailureAnalyzer.missingScript("node worker.js", List.of("stderr: node:internal/modules/cjs/loader:1080",
                "stderr: Error: Cannot find module '/srv/w/worker.js'"))).isEqualTo("worker.js");
        assertThat(FolkStartupFailureAnalyzer.missingScript("ruby worker.rb",
                List.of("stderr: ruby: No such file or directory -- worker.rb (LoadError)"))).isEqualTo("worker.rb");
        assertThat(FolkStartupFailureAnalyzer.missingScript("/bin/sh /srv/w/run.sh",
                List.of("stderr: /bin/sh: 0: cannot open /srv/w/run.sh: No such file"))).isEqualTo("/srv/w/run.sh");
        assertThat(FolkStartupFailureAnalyzer.missingScript("python3 worker.py",
                List.of("stderr: FileNotFoundError: [Errno 2] No such file or directory: 'config.ini'")))
                .as("a file the script opens, not the script").isNull();
        assertThat(FolkStartupFailureAnalyzer.missingScript("python3 -X dev worker.py", List.of("stderr: boom")))
                .isNull();
    }
}
