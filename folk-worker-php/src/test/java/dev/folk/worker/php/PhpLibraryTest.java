package dev.folk.worker.php;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs the PHP library's own test suite ({@code src/test/php/run-tests.php}) with the local
 * {@code php}: once as configured (ext-msgpack, ext-posix when installed) and once with
 * {@code php -n} (pure-PHP MessagePack, no ext-posix). Set {@code FOLK_PHP} to use another
 * PHP binary. Fails, saying how to install it, when no PHP >= 8.2 is found. The framework
 * adapter tests (HttpParsingTest, AdapterAppsTest) compare with nginx + PHP-FPM and need the
 * Debian packages {@code .ci/run} installs; they skip without them, except with {@code CI=true},
 * where a missing package fails the run. The two runs start together: each spends most of its time
 * waiting (on workers, PHP-FPM, timeouts the tests let pass), so together they take little longer
 * than the longer one alone.
 */
class PhpLibraryTest {

    /** One run serves three framework applications through PHP-FPM and workers: minutes on a busy machine. */
    private static final long PHP_TIMEOUT_SECONDS = 420;

    private static final Path MODULE_DIR = Path.of(System.getProperty("basedir", "")).toAbsolutePath();

    private static final String PHP = System.getenv().getOrDefault("FOLK_PHP", "php");

    /** The two runs of the suite, started by {@link #startBothRuns()}. */
    private static RunningSuite withExtensions;
    private static RunningSuite barePhp;

    @BeforeAll
    static void startBothRuns() throws IOException {
        requirePhp();
        withExtensions = RunningSuite.start();
        barePhp = RunningSuite.start("-n");
    }

    @AfterAll
    static void stopRunsNotAwaited() throws IOException {
        for (RunningSuite run : new RunningSuite[] {withExtensions, barePhp}) {
            if (run != null && run.process().isAlive()) {
                run.stop();
            }
        }
    }

    private static void requirePhp() {
        boolean available;
        try {
            Process probe = new ProcessBuilder(PHP, "-n", "-r", "exit(PHP_VERSION_ID >= 80200 ? 0 : 3);")
                    .redirectErrorStream(true)
                    .start();
            probe.getInputStream().readAllBytes();
            available = probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0;
        } catch (IOException e) {
            available = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            available = false;
        }
        assertThat(available).as("PHP >= 8.2 on PATH (or FOLK_PHP); install it with: apt-get install php-cli php-msgpack")
                .isTrue();
    }

    @Test
    @Timeout(value = PHP_TIMEOUT_SECONDS + 30)
    void phpTestsPassWithInstalledExtensions() throws Exception {
        PhpRun run = withExtensions.await();
        assertThat(run.exitCode()).as("exit code of php run-tests.php; output:%n%s", run.output()).isZero();
        assertThat(run.output()).contains(" passed, 0 failed");
    }

    @Test
    @Timeout(value = PHP_TIMEOUT_SECONDS + 30)
    void phpTestsPassOnBarePhp() throws Exception {
        PhpRun run = barePhp.await();
        assertThat(run.exitCode()).as("exit code of php -n run-tests.php; output:%n%s", run.output()).isZero();
        assertThat(run.output()).contains("codec: pure", " passed, 0 failed");
    }

    @Test
    void phpSourcesArePackagedWithAnIndex() throws IOException {
        Path sources = MODULE_DIR.resolve("src/main/php");
        List<String> onDisk;
        try (Stream<Path> files = Files.walk(sources)) {
            onDisk = files.filter(Files::isRegularFile)
                    .map(p -> sources.relativize(p).toString().replace('\\', '/'))
                    .filter(p -> !p.equals("index.txt"))
                    .sorted()
                    .toList();
        }
        List<String> index = readResource("META-INF/folk/php/index.txt").lines().filter(l -> !l.isBlank()).toList();
        assertThat(index)
                .as("src/main/php/index.txt must list every PHP source (regenerate it: "
                        + "cd src/main/php && find . -type f ! -name index.txt | sed 's|^./||' | LC_ALL=C sort > index.txt)")
                .containsExactlyElementsOf(onDisk);
        for (String file : index) {
            assertThat(readResource("META-INF/folk/php/" + file)).as(file).startsWith("<?php");
        }
    }

    private static String readResource(String name) throws IOException {
        try (InputStream in = PhpLibraryTest.class.getClassLoader().getResourceAsStream(name)) {
            assertThat(in).as("classpath resource " + name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private record PhpRun(int exitCode, String output) {
    }

    /** A run of the suite under way: its output goes to a file, so that no thread has to drain it. */
    private record RunningSuite(List<String> command, Process process, Path output, long startedNanos) {

        static RunningSuite start(String... phpArgs) throws IOException {
            List<String> command = new ArrayList<>();
            command.add(PHP);
            command.addAll(List.of(phpArgs));
            command.add("src/test/php/run-tests.php");
            Path output = Files.createTempFile("folk-php-tests", ".txt");
            Process process = new ProcessBuilder(command)
                    .directory(MODULE_DIR.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            return new RunningSuite(command, process, output, System.nanoTime());
        }

        /** Waits for the run to end, within the timeout of a run counted from its start. */
        PhpRun await() throws Exception {
            long left = TimeUnit.SECONDS.toNanos(PHP_TIMEOUT_SECONDS) - (System.nanoTime() - startedNanos);
            try {
                if (!process.waitFor(Math.max(left, 0), TimeUnit.NANOSECONDS)) {
                    stop();
                    throw new AssertionError(String.join(" ", command) + " timed out after " + PHP_TIMEOUT_SECONDS
                            + " s; output so far:\n" + Files.readString(output));
                }
                String text = Files.readString(output);
                System.out.println("$ " + String.join(" ", command) + "\n" + text);
                return new PhpRun(process.exitValue(), text);
            } finally {
                Files.deleteIfExists(output);
            }
        }

        /** Ends a run nobody waited for (a test filtered out) or that took too long, with what it started. */
        void stop() throws IOException {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            Files.deleteIfExists(output);
        }
    }
}
