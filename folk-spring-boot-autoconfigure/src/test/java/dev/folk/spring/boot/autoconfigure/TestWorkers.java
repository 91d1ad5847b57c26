package dev.folk.spring.boot.autoconfigure;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths of the PHP workers the tests run (resolved from the module directory, Maven's working directory). */
public final class TestWorkers {

    /** folk-worker-php's ready-made worker with only {@code echo}. */
    public static final Path ECHO = existing("../folk-worker-php/src/main/php/bin/echo-worker.php");

    /** This module's test worker: {@code echo}, {@code sleep(ms)}, {@code pid}; FOLK_TEST_IGNORE_TERM=1 ignores TERM. */
    public static final Path TEST = existing("src/test/php/test-worker.php");

    private TestWorkers() {
    }

    private static Path existing(String relative) {
        Path p = Path.of(relative).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("Test worker not found: " + p + " (run the tests from the module directory)");
        }
        return p;
    }
}
