package dev.folk.spring.boot.autoconfigure;

import java.nio.file.Files;
import java.nio.file.Path;

import org.springframework.test.context.DynamicPropertyRegistry;

/** Paths of the PHP workers the tests run (resolved from the module directory, Maven's working directory). */
public final class TestWorkers {

    /** folk-worker-php's ready-made worker with only {@code echo}. */
    public static final Path ECHO = existing("../folk-worker-php/src/main/php/bin/echo-worker.php");

    /** This module's test worker: {@code echo}, {@code sleep(ms)}, {@code pid}; FOLK_TEST_IGNORE_TERM=1 ignores TERM. */
    public static final Path TEST = existing("src/test/php/test-worker.php");

    /** The HTTP gateway tests' worker: {@code http.handle} answering by path (see the script). */
    public static final Path HTTP = existing("src/test/php/http-worker.php");

    /** The streamed-answer tests' worker: {@code http.handle} answering in parts (see the script). */
    public static final Path STREAM = existing("src/test/php/stream-worker.php");

    private TestWorkers() {
    }

    /**
     * Every pool of a test application runs {@code worker}, its processes tagged with {@code tag}
     * ({@code FOLK_TEST_RUN}, see {@code Workers.newTag()}) so that a leak check finds them.
     */
    public static void use(DynamicPropertyRegistry registry, Path worker, String tag) {
        registry.add("folk.args", worker::toString);
        registry.add("folk.env.FOLK_TEST_RUN", () -> tag);
    }

    private static Path existing(String relative) {
        Path p = Path.of(relative).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("Test worker not found: " + p + " (run the tests from the module directory)");
        }
        return p;
    }
}
