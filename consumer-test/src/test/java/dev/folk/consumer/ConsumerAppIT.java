package dev.folk.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Test;

import dev.folk.core.testing.Procs;

/**
 * The starter as an application consumes it. examples/consumer-app has its own pom (Spring Boot's
 * BOM, the starter, spring-boot-starter-webmvc; nothing else of ours, no parent of ours). It is
 * built here, offline, against the artifacts this build installed into its own repository
 * (pre-integration-test), chained to the user's local repository for everything third-party
 * (read-only: nothing of this build lands there). Then it is started with {@code java -jar},
 * PHP answers a call from a controller and a request through the HTTP gateway, and SIGTERM ends
 * it with its workers.
 */
class ConsumerAppIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path EXAMPLE = ROOT.resolve("examples/consumer-app");
    private static final Pattern PID = Pattern.compile("\"pid\":(\\d+)");

    @Test
    void theExampleBuildsFromTheStarterAloneStartsAndPhpAnswersCallsAndHttpRequests() throws Exception {
        Path work = Path.of("target/consumer-app").toAbsolutePath();
        String log = buildStartAndStop(work, List.of(), List.of());
        assertThat(log).doesNotContain("AOT-processed");
    }

    /**
     * Built with Spring AOT (the example's aot profile: process-aot) and run with its generated
     * code, as Spring Boot's efficient-deployment advice has it: process-aot once failed for every
     * application with the starter.
     */
    @Test
    void theExampleBuiltWithSpringAotRunsWithItsGeneratedCode() throws Exception {
        Path work = Path.of("target/consumer-app-aot").toAbsolutePath();
        String log = buildStartAndStop(work, List.of("-Paot"), List.of("-Dspring.aot.enabled=true"));
        assertThat(log).as("started from AOT's generated code").contains("Starting AOT-processed GreeterApplication")
                .doesNotContain("settings, given at run time only, have no effect");
    }

    /** Builds the example into {@code work}, starts it, checks a call and a gateway request, stops it; returns its log. */
    private static String buildStartAndStop(Path work, List<String> mavenArgs, List<String> jvmArgs) throws Exception {
        Path jar = buildExample(work, mavenArgs);
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            String jffi = System.getProperty("folk.test.jffi-version");
            assertThat(zip.stream().map(e -> e.getName()).filter(n -> n.startsWith("BOOT-INF/lib/jffi-")))
                    .as("the pinned jffi, its native jar included, and no other")
                    .containsExactlyInAnyOrder("BOOT-INF/lib/jffi-" + jffi + ".jar",
                            "BOOT-INF/lib/jffi-" + jffi + "-native.jar");
        }

        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        String tag = "consumer-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(System.getProperty("folk.test.jvm-args", "").trim().split("\\s+")));
        command.removeIf(String::isEmpty);
        command.addAll(jvmArgs);
        // Workers see only an allow-listed environment: hand them the tag through folk.env.
        command.addAll(List.of("-jar", jar.toString(), "--server.port=" + port, "--folk.env[FOLK_TEST_RUN]=" + tag));
        Path log = work.resolve("app.log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("FOLK_TEST_RUN", tag); // the app itself; its workers get it from folk.env
        Process app = pb.start();
        try {
            HttpResponse<String> answer = awaitAnswer(app, port, log);
            assertThat(answer.statusCode()).as("GET /greet; app log:%n%s", tail(log)).isEqualTo(200);
            assertThat(answer.body()).contains("\"greeting\":\"Hello, Folk!\"").containsPattern("\"php\":\"\\d+\\.\\d+");
            Matcher pid = PID.matcher(answer.body());
            assertThat(pid.find()).as("the worker's pid in %s", answer.body()).isTrue();
            assertThat(Procs.aliveWithEnv("FOLK_TEST_RUN", tag)).as("the app and its 2 PHP workers")
                    .contains(Math.toIntExact(app.pid()), Integer.parseInt(pid.group(1))).hasSize(3);

            // The README's first example: /php/** goes to PHP through the HTTP gateway.
            HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/php/hello")).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).as("GET /php/hello; app log:%n%s", tail(log)).isEqualTo(200);
            assertThat(page.body()).isEqualTo("Hello from PHP at /php/hello\n");

            app.destroy(); // SIGTERM, as a service manager stops it
            assertThat(app.waitFor(60, TimeUnit.SECONDS)).as("the app ends on SIGTERM; log:%n%s", tail(log)).isTrue();
            Procs.await(Duration.ofSeconds(10), "no worker left", () -> Procs.aliveWithEnv("FOLK_TEST_RUN", tag).isEmpty());
            return Files.readString(log);
        } finally {
            if (app.isAlive()) {
                app.descendants().forEach(ProcessHandle::destroyForcibly);
                app.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Copies the example out of the source tree and packages it as its users would, offline. */
    private static Path buildExample(Path work, List<String> mavenArgs) throws Exception {
        deleteTree(work);
        try (Stream<Path> files = Files.walk(EXAMPLE)) {
            for (Path source : files.filter(p -> !EXAMPLE.relativize(p).startsWith("target")).toList()) {
                Path target = work.resolve(EXAMPLE.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Path log = work.resolve("build.log");
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("mvnw").toString(), "-B", "-o", "package",
                "-DskipTests", "-Dmaven.repo.local=" + System.getProperty("folk.test.repository"),
                "-Dmaven.repo.local.tail=" + System.getProperty("folk.test.user-repository"),
                "-Dfolk.version=" + System.getProperty("folk.test.version")));
        command.addAll(mavenArgs);
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(work.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process maven = pb.start();
        if (!maven.waitFor(5, TimeUnit.MINUTES)) {
            maven.descendants().forEach(ProcessHandle::destroyForcibly);
            maven.destroyForcibly();
        }
        assertThat(maven.waitFor(10, TimeUnit.SECONDS) && maven.exitValue() == 0)
                .as("the example builds from the starter alone; build log:%n%s", tail(log)).isTrue();
        return work.resolve("target/greeter.jar");
    }

    /** Polls the port (the app is starting) until GET /greet answers, the app dies or 3 minutes pass. */
    private static HttpResponse<String> awaitAnswer(Process app, int port, Path log) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/greet?name=Folk"))
                .timeout(Duration.ofSeconds(30)).build();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (app.isAlive() && System.nanoTime() < deadline) {
            try {
                return client.send(request, HttpResponse.BodyHandlers.ofString());
            } catch (ConnectException notListeningYet) {
                Thread.sleep(200);
            }
        }
        throw new AssertionError("the app did not answer (alive: " + app.isAlive() + "); log:\n" + tail(log));
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
