package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.folk.core.testing.Procs;

/**
 * The README's first command, run as written (only the port is changed so it cannot collide, and
 * the run tag given to the workers): it starts the sample app, and /php/hello answers from PHP.
 * Runs after `package` (failsafe).
 */
class ReadmeRunCommandIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void theReadmeRunCommandStartsTheAppAndPhpAnswers() throws Exception {
        String command = runCommand();
        assertThat(command).startsWith("./mvnw").contains("spring-boot:run");
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        String tag = UUID.randomUUID().toString();
        // In the module's build directory, kept for a look after a failure and gone with `clean`:
        // a temporary file per run would pile up in /tmp.
        Path log = Files.createDirectories(Path.of("target")).resolve("readme-run-command.log");
        ProcessBuilder pb = new ProcessBuilder("bash", "-c",
                command + " -B -Dspring-boot.run.arguments=--server.port=" + port)
                .directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("FOLK_TEST_RUN", tag); // the run tag of Maven and the app's JVM
        // Workers do not inherit the JVM's environment: give them the tag through folk.env.
        pb.environment().put("SPRING_APPLICATION_JSON", "{\"folk\":{\"env\":{\"FOLK_TEST_RUN\":\"" + tag + "\"}}}");
        Process maven = pb.start();
        try {
            Http http = new Http(port);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            HttpResponse<byte[]> hello = null;
            while (System.nanoTime() < deadline && maven.isAlive()) {
                try {
                    hello = http.get("/php/hello");
                    break;
                } catch (java.net.ConnectException notYet) {
                    Thread.sleep(500); // polling the port while Maven builds and starts the app
                }
            }
            assertThat(hello).as("the app answered; log:%n%s", tail(log)).isNotNull();
            assertThat(hello.statusCode()).isEqualTo(200);
            assertThat(new String(hello.body())).startsWith("Hello from PHP");
            assertThat(Procs.aliveWithEnv("FOLK_TEST_RUN", tag)).as("app JVM and its 4 workers")
                    .hasSizeGreaterThanOrEqualTo(5);
        } finally {
            stop(maven);
        }
        Procs.await(Duration.ofSeconds(10), "nothing of the run left", () -> Procs.aliveWithEnv("FOLK_TEST_RUN", tag)
                .isEmpty());
        assertThat(stoppedBySigterm).as("the app stopped on SIGTERM and Maven ended within 60 s").isTrue();
    }

    /** Whether {@link #stop} ended the run gracefully. */
    private boolean stoppedBySigterm;

    /**
     * SIGTERMs the application: it shuts down gracefully, then Maven ends. It is the JVM that
     * Maven's JVM forked; its command line cannot tell, as Linux gives at most 4 KiB of it and
     * the class path alone is longer. Forces the rest if that fails.
     */
    private void stop(Process maven) throws InterruptedException {
        Optional<ProcessHandle> app = maven.descendants()
                .filter(p -> isJava(p) && p.parent().filter(ReadmeRunCommandIT::isJava).isPresent())
                .findFirst();
        app.ifPresent(ProcessHandle::destroy);
        stoppedBySigterm = app.isPresent() && maven.waitFor(60, TimeUnit.SECONDS);
        if (!stoppedBySigterm) {
            maven.descendants().forEach(ProcessHandle::destroyForcibly);
            maven.destroyForcibly();
            maven.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static boolean isJava(ProcessHandle p) {
        return p.info().command().orElse("").endsWith("/java");
    }

    /** The README's line that runs the sample app. */
    private static String runCommand() throws Exception {
        List<String> lines = Files.readAllLines(ROOT.resolve("README.md"));
        return lines.stream().map(String::trim).filter(l -> l.startsWith("./mvnw") && l.contains("spring-boot:run"))
                .findFirst().orElseThrow(() -> new AssertionError("README.md has no spring-boot:run command"));
    }

    private static String tail(Path log) throws Exception {
        List<String> lines = Files.readAllLines(log);
        return String.join(File.separator.equals("/") ? "\n" : "\r\n",
                lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
