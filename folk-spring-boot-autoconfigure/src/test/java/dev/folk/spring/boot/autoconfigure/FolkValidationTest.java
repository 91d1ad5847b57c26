package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import jakarta.servlet.Filter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.core.io.support.SpringFactoriesLoader;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.lifecycle.FolkStartupException;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.lifecycle.FolkStartupFailureAnalyzer;

/**
 * Start-up validation: invalid values fail before any worker starts, through a failure analyzer
 * naming the key, the value and what to do.
 */
@ExtendWith(OutputCaptureExtension.class)
class FolkValidationTest {

    private final String tag = Workers.newTag();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class))
            .withPropertyValues("folk.shutdown.signal-handler=false", "folk.args=" + TestWorkers.ECHO,
                    "folk.size=1", "folk.env.FOLK_TEST_RUN=" + tag);

    static Stream<Arguments> invalid() {
        return Stream.of(
                // PHP is installed (the suite needs it), just not where the command says
                Arguments.of(List.of("folk.command=/nonexistent/bin/php"), "folk.command", "/nonexistent/bin/php",
                        List.of("no such file: /nonexistent/bin/php", "ENOENT"),
                        List.of("PHP is installed as /", "set folk.command to php")),
                Arguments.of(List.of("folk.command=php9"), "folk.command", "php9",
                        List.of("'php9' was not found in the workers' PATH"),
                        List.of("PHP is installed as /", "set folk.command to php")),
                // no PHP anywhere on the workers' PATH
                Arguments.of(List.of("folk.command=php9", "folk.inherit-env=false", "folk.env[PATH]=/nonexistent-dir"),
                        "folk.command", "php9", List.of("not found in the workers' PATH=/nonexistent-dir"),
                        List.of("apt-get install php-cli php-msgpack", "dnf install php-cli php-pecl-msgpack",
                                "brew install php", "pecl install msgpack", "set folk.command to the full path")),
                // php not on the workers' PATH
                Arguments.of(List.of("folk.inherit-env=false", "folk.env[PATH]=/nonexistent-dir"), "folk.command",
                        "php", List.of("not found in the workers' PATH=/nonexistent-dir"),
                        List.of("apt-get install php-cli php-msgpack", "folk.command")),
                Arguments.of(List.of("folk.pools.jobs.command=no-such-worker-binary"), "folk.pools.jobs.command",
                        "no-such-worker-binary", List.of("not found"),
                        List.of("Install 'no-such-worker-binary' or set folk.pools.jobs.command")),
                // a path: nothing to install, and a directory is no program to make executable
                Arguments.of(List.of("folk.pools.jobs.command=/opt/nowhere/worker-bin"), "folk.pools.jobs.command",
                        "/opt/nowhere/worker-bin", List.of("no such file: /opt/nowhere/worker-bin"),
                        List.of("Set folk.pools.jobs.command to a program that exists")),
                Arguments.of(List.of("folk.command=/tmp"), "folk.command", "/tmp",
                        List.of("'/tmp' is a directory, not a program"),
                        List.of("Set folk.command to the program itself (for PHP: php, or its full path")),
                Arguments.of(List.of("folk.size=0"), "folk.size", "0", List.of("at least 1"),
                        List.of("number of workers")),
                Arguments.of(List.of("folk.pools.web.size=-2"), "folk.pools.web.size", "-2", List.of("at least 1"),
                        List.of("number of workers")),
                Arguments.of(List.of("folk.stop-grace=-1s"), "folk.stop-grace", "-1s", List.of("must not be negative"),
                        List.of("duration of 0 or more")),
                Arguments.of(List.of("folk.pools.a.boot-timeout=-5s"), "folk.pools.a.boot-timeout", "-5s",
                        List.of("must be positive"), List.of("duration above 0")),
                Arguments.of(List.of("folk.stop-grace=28s"), "folk.stop-grace", "28s",
                        List.of("folk.drain-timeout=20s", "spring.lifecycle.timeout-per-shutdown-phase=30s",
                                "48500ms"),
                        List.of("raise spring.lifecycle.timeout-per-shutdown-phase to at least 53s")),
                Arguments.of(List.of("folk.drain-timeout=1m", "spring.lifecycle.timeout-per-shutdown-phase=45s"),
                        "folk.drain-timeout", "1m", List.of("folk.stop-grace=5s", "timeout-per-shutdown-phase=45s"),
                        List.of("Lower folk.drain-timeout or folk.stop-grace")),
                Arguments.of(List.of("folk.memory-limit=-1MB"), "folk.memory-limit", "-1MB",
                        List.of("must not be negative"), List.of("512MB")),
                Arguments.of(List.of("folk.max-memory=600MB"), "folk.max-memory", "600MB",
                        List.of("must be below folk.memory-limit (512MB)"),
                        List.of("Lower folk.max-memory or raise folk.memory-limit")),
                Arguments.of(List.of("folk.min-ready=3"), "folk.min-ready", "3", List.of("between 1 and the pool size"),
                        List.of("leave it unset")),
                Arguments.of(List.of("folk.max-jobs-jitter=1.5"), "folk.max-jobs-jitter", "1.5",
                        List.of("below 1"), List.of("fraction")),
                Arguments.of(List.of("folk.backoff-initial=5s", "folk.backoff-max=1s"), "folk.backoff-max", "1s",
                        List.of("at least folk.backoff-initial"), List.of("Raise folk.backoff-max")),
                Arguments.of(List.of("folk.output=file"), "folk.output", "file", List.of("folk.output-file"),
                        List.of("Set folk.output-file")),
                Arguments.of(List.of("folk.max-frame-length=8B"), "folk.max-frame-length", "8B",
                        List.of("between 16 bytes and 2GB"), List.of("16MB")),
                // PHP itself starts without any php.ini, silently, when -c names nothing
                Arguments.of(List.of("folk.args=-c,/nonexistent/php.ini," + TestWorkers.ECHO), "folk.args",
                        "-c,/nonexistent/php.ini," + TestWorkers.ECHO,
                        List.of("-c /nonexistent/php.ini: no such file or directory", "without any php.ini"),
                        List.of("Point -c at the php.ini file")),
                Arguments.of(List.of("folk.args=--php-ini=/nonexistent/dir/," + TestWorkers.ECHO), "folk.args",
                        "--php-ini=/nonexistent/dir/," + TestWorkers.ECHO,
                        List.of("-c /nonexistent/dir/: no such file or directory"), List.of("php --ini")),
                Arguments.of(List.of("folk.working-dir=/nonexistent/dir"), "folk.working-dir", "/nonexistent/dir",
                        List.of("not an existing directory"), List.of("Create the directory")),
                Arguments.of(List.of("folk.user=folk-no-such-user"), "folk.user", "folk-no-such-user",
                        List.of("no such user"), List.of("Create the user", "existing user name or uid")),
                Arguments.of(List.of("folk.pools.jobs.group=folk-no-such-group"), "folk.pools.jobs.group",
                        "folk-no-such-group", List.of("no such group"), List.of("Create the group")),
                Arguments.of(List.of("folk.pass-env=APP*X"), "folk.pass-env", "APP*X",
                        List.of("invalid variable name or prefix pattern"), List.of("prefixes ending in '*'")));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void invalidValuesFailStartupWithAnAnalysisNamingKeyValueAndAdvice(List<String> properties, String key,
                                                                    String value, List<String> problem,
                                                                    List<String> advice) {
        runner.withPropertyValues(properties.toArray(String[]::new)).run(ctx -> {
            assertThat(ctx).hasFailed();
            FailureAnalysis analysis = new FolkConfigurationFailureAnalyzer(null).analyze(ctx.getStartupFailure());
            assertThat(analysis).as("analysis of %s", ctx.getStartupFailure()).isNotNull();
            assertThat(analysis.getDescription()).contains("Property: " + key).contains("Value:    \"" + value + "\"");
            problem.forEach(p -> assertThat(analysis.getDescription()).contains(p));
            advice.forEach(a -> assertThat(analysis.getAction()).contains(a));
            assertThat(analysis.getAction()).contains(key + ": ");
        });
        assertThat(Procs.withEnv(Workers.RUN_TAG, tag)).as("no worker may start").isEmpty();
    }

    @Test
    void aFileThatIsNotExecutableIsReported(@TempDir Path dir) throws Exception {
        Path script = Files.writeString(dir.resolve("worker.sh"), "#!/bin/sh\n");
        runner.withPropertyValues("folk.command=" + script).run(ctx -> {
            FailureAnalysis analysis = new FolkConfigurationFailureAnalyzer(null).analyze(ctx.getStartupFailure());
            assertThat(analysis.getDescription()).contains("Property: folk.command").contains(script.toString())
                    .contains("EACCES");
            assertThat(analysis.getAction()).contains("chmod +x");
        });
    }

    /**
     * A php.ini that is there, given as a file or as its directory, in either spelling of -c, is
     * taken; a directory without one is refused as a missing file is (PHP would start without any).
     */
    @Test
    void aPhpIniThatExistsIsAcceptedAndADirectoryWithoutOneRefused(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("php.ini"), "memory_limit=64M\n");
        for (String args : List.of("-c," + dir.resolve("php.ini"), "-c" + dir, "--php-ini," + dir)) {
            runner.withPropertyValues("folk.args=" + args + "," + TestWorkers.ECHO).run(ctx -> assertThat(ctx)
                    .as(args).hasNotFailed());
        }
        Path empty = Files.createDirectory(dir.resolve("empty"));
        runner.withPropertyValues("folk.args=-c," + empty + "," + TestWorkers.ECHO).run(ctx -> assertThat(
                findCause(ctx.getStartupFailure()).getMessage()).contains("a directory without php.ini (nor php-cli.ini)"));
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        runner.withPropertyValues("folk.size=0", "folk.exec-timeout=0s", "folk.pools.a.max-queue=-1",
                "folk.pools.b.command=/nope/php").run(ctx -> {
                    FolkConfigurationException e = (FolkConfigurationException) findCause(ctx.getStartupFailure());
                    assertThat(e.violations()).extracting(FolkConfigurationException.Violation::key)
                            .as("once each, though both pools inherit folk.size and folk.exec-timeout")
                            .containsExactly("folk.size", "folk.pools.a.max-queue", "folk.exec-timeout",
                                    "folk.pools.b.command");
                });
    }

    /** A pool stop that does not fit the shutdown phase, with settings every pool inherits: said once, for them all. */
    @Test
    void aStopTooLongForTheShutdownPhaseIsReportedOnceForThePoolsThatInheritIt() {
        runner.withPropertyValues("folk.drain-timeout=1m", "spring.lifecycle.timeout-per-shutdown-phase=45s",
                "folk.pools.a.size=1", "folk.pools.b.size=1", "folk.pools.c.size=1", "folk.pools.c.stop-grace=2s").run(ctx -> {
                    FolkConfigurationException e = (FolkConfigurationException) findCause(ctx.getStartupFailure());
                    assertThat(e.violations()).extracting(FolkConfigurationException.Violation::key)
                            .containsExactly("folk.drain-timeout", "folk.drain-timeout");
                    assertThat(e.violations().get(0).problem()).contains("stopping a pool may take");
                    assertThat(e.violations().get(1).problem()).as("c has a setting of its own")
                            .contains("stopping pool 'c' may take");
                });
    }

    @Test
    void aStopGraceThatFitsALongerPhaseIsAccepted() {
        runner.withPropertyValues("folk.stop-grace=40s", "spring.lifecycle.timeout-per-shutdown-phase=70s")
                .withUserConfiguration(NotStarted.class)
                .run(ctx -> assertThat(ctx).hasNotFailed());
    }

    @Test
    void theAnalyzersAreRegisteredAndUsedBySpringBoot(CapturedOutput output) {
        List<String> analyzers = SpringFactoriesLoader.forDefaultResourceLocation()
                .load(FailureAnalyzer.class, SpringFactoriesLoader.ArgumentResolver.of(
                        org.springframework.core.env.Environment.class, new org.springframework.core.env.StandardEnvironment()),
                        SpringFactoriesLoader.FailureHandler.handleMessage((message, e) -> {
                    // Boot's own analyzers that need a bean factory cannot be built here: not ours.
                })).stream().map(a -> a.getClass().getName()).toList();
        assertThat(analyzers).contains(FolkConfigurationFailureAnalyzer.class.getName(),
                FolkStartupFailureAnalyzer.class.getName());

        SpringApplication app = new SpringApplication(App.class);
        app.setWebApplicationType(WebApplicationType.NONE);
        try {
            app.run("--folk.command=/opt/missing/php", "--folk.shutdown.signal-handler=false",
                    "--folk.env.FOLK_TEST_RUN=" + tag);
        } catch (RuntimeException expected) {
            // reported below
        }
        assertThat(output).contains("APPLICATION FAILED TO START").contains("Property: folk.command")
                .contains("/opt/missing/php").contains("PHP is installed as")
                .as("where the value was set, as Spring Boot's binding report says it")
                .contains("    Origin:   \"folk.command\" from property source \"commandLineArgs\"\n");
        assertThat(Procs.withEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    /**
     * A pool or a mapping that cannot be made is reported by the failure analyzer alone: not first
     * as Spring Boot's ERROR "Error starting Tomcat context", which it logs for a bean that fails
     * while Tomcat starts the web application (the gateway's registrations are made there).
     */
    @Test
    void aWebApplicationWhosePoolOrMappingIsWrongFailsBeforeTomcatStarts(CapturedOutput output) {
        for (String[] wrong : List.of(new String[] {"--folk.command=/opt/missing/php", "default", "0"},
                new String[] {"--folk.http.retry-after=1s", "nope", "0"},
                new String[] {"--folk.http.retry-after=1s", "default", "-2147483648"})) {
            startWebAppThatFails(new Class<?>[] {WebApp.class, SecurityChain.class}, "--folk.size=1",
                    "--folk.http.mappings[0].path=/php/**", "--folk.http.mappings[0].pool=" + wrong[1],
                    "--folk.http.filter-order=" + wrong[2], wrong[0]);
        }
        assertThat(output).contains("Property: folk.command", "/opt/missing/php",
                        "Property: folk.http.mappings[0].pool", "there is no pool of that name",
                        "Property: folk.http.filter-order", "ahead of Spring Security's filters")
                .doesNotContain("Error starting Tomcat context", "Tomcat started on port", "Starting Servlet engine",
                        "served from a filter of order -2147483648");
        assertThat(output.toString().split("APPLICATION FAILED TO START", -1)).hasSize(4);
        assertThat(Procs.withEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    /** The gateway's problems are reported beside the pools', not once those are fixed. */
    @Test
    void aWrongPoolAndWrongGatewaySettingsAreReportedInOneStart(CapturedOutput output) {
        startWebAppThatFails(new Class<?>[] {WebApp.class}, "--folk.size=0", "--folk.http.mappings[0].path=/php/**",
                "--folk.http.mappings[0].public-dir=/nonexistent-public", "--folk.http.max-body-size=0");
        String text = output.toString();
        assertThat(text).contains("APPLICATION FAILED TO START");
        assertThat(text.substring(text.indexOf("APPLICATION FAILED TO START"))).contains("Property: folk.size",
                "Property: folk.http.max-body-size", "Property: folk.http.mappings[0].public-dir");
        assertThat(Procs.withEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    /**
     * An application's own filters are made while Tomcat starts its web application, and one that
     * needs a pool makes the pools and the supervisor there too. When another of its filters fails
     * there, Tomcat stops the web application before Spring closes our beans, and used to warn that
     * folk-supervisor-io "failed to stop" and would "create a memory leak", beside the real failure.
     */
    @Test
    void aStartupThatFailsWhileTomcatStartsGetsNoThreadWarningAboutOurs(CapturedOutput output) {
        startWebAppThatFails(new Class<?>[] {FailingWebApp.class}, "--folk.size=1");
        assertThat(output).contains("the application's own filter cannot be made")
                .as("the pool was made before the failure, and closed after it")
                .contains("Pool 'default' DRAINING -> CLOSED")
                .as("Tomcat's warning about threads of its web application still running")
                .doesNotContain("appears to have started a thread");
        assertThat(Procs.withEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void workersThatNeverBecomeReadyFailStartupNamingThePoolAndItsLastFailure() {
        runner.withPropertyValues("folk.command=/bin/sh", "folk.args=-c,echo broken worker >&2; exit 3",
                "folk.pools.broken.boot-timeout=20s", "folk.pools.broken.size=2").run(ctx -> {
                    assertThat(ctx).hasFailed();
                    FolkStartupException e = findCause(ctx.getStartupFailure(), FolkStartupException.class);
                    assertThat(e.pools()).hasSize(1);
                    FolkStartupException.NotReady broken = e.pools().get(0);
                    assertThat(broken.pool()).isEqualTo("broken");
                    assertThat(broken.lastFailure()).isNotBlank();
                    assertThat(broken.waited()).as("every boot fails alike: given up long before boot-timeout")
                            .isLessThan(java.time.Duration.ofSeconds(10));
                    FailureAnalysis analysis = new FolkStartupFailureAnalyzer().analyze(ctx.getStartupFailure());
                    assertThat(analysis.getDescription()).contains("Pool:         broken")
                            .contains("0 of 2 required").contains(broken.lastFailure())
                            .contains("Exit status:  exit 3").contains("stderr: broken worker");
                    assertThat(analysis.getAction()).as("no cause recognised: where to look")
                            .contains("logged under dev.folk.worker.<pool>", "fd 3 and 4", "folk.boot-timeout");
                });
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void workersThatNeverSayReadyFailStartupWithTheirBootTimeoutAndOutput() {
        // Start-up gives up after boot-timeout without progress, the moment these workers' own boot
        // timeout falls due: the analysis must still have that failure and what they printed.
        runner.withPropertyValues("folk.command=/bin/sh", "folk.args=-c,echo stuck before ready >&2; exec sleep 60",
                "folk.boot-timeout=2s", "folk.size=2").run(ctx -> {
                    assertThat(ctx).hasFailed();
                    FolkStartupException e = findCause(ctx.getStartupFailure(), FolkStartupException.class);
                    assertThat(e.pools().get(0).lastFailure()).contains("sent no control.ready within boot-timeout 2s");
                    FailureAnalysis analysis = new FolkStartupFailureAnalyzer().analyze(ctx.getStartupFailure());
                    assertThat(analysis.getDescription()).contains("stderr: stuck before ready");
                    assertThat(analysis.getAction()).contains("did not announce itself (control.ready) within folk.boot-timeout")
                            .contains("folk.pools.default.boot-timeout").doesNotContain("by hand", "php -l")
                            .as("said once").containsOnlyOnce("raise folk.boot-timeout");
                });
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    static Stream<Arguments> brokenScripts() {
        return Stream.of(
                Arguments.of("missing", null, "Could not open input file",
                        "The worker script does not exist (\"Could not open input file\"). Check folk.args (or folk.pools.default.args)"),
                Arguments.of("parse-error", "<?php\n$x = ;\n", "Parse error", "PHP cannot parse the worker script"),
                Arguments.of("no-run", "<?php\necho 'loaded';\n", "stdout: loaded", "end with $worker->run()"),
                Arguments.of("missing-require", "<?php\nrequire '/nonexistent/lib.php';\n", "Failed opening required",
                        "requires a file that is not there"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenScripts")
    void aBrokenScriptFailsStartupFastWithItsOutputAndWhatToDo(String name, String source, String inOutput,
                                                                String advice, @TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path script = dir.resolve(name + ".php");
        if (source != null) {
            java.nio.file.Files.writeString(script, source);
        }
        runner.withPropertyValues("folk.args=" + script, "folk.size=2", "folk.boot-timeout=30s").run(ctx -> {
            assertThat(ctx).hasFailed();
            FolkStartupException e = findCause(ctx.getStartupFailure(), FolkStartupException.class);
            assertThat(e.pools().get(0).waited()).isLessThan(java.time.Duration.ofSeconds(10));
            FailureAnalysis analysis = new FolkStartupFailureAnalyzer().analyze(ctx.getStartupFailure());
            assertThat(analysis.getDescription()).contains("Exit status:").contains(inOutput);
            assertThat(analysis.getAction()).contains(advice);
        });
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    /** Another interpreter's missing script (sh's own words) is recognised as PHP's is. */
    @Test
    void aMissingScriptOfAnotherInterpreterFailsStartupSayingWhichScript(@TempDir java.nio.file.Path dir) {
        String script = dir.resolve("missing.sh").toString();
        runner.withPropertyValues("folk.command=/bin/sh", "folk.args=" + script, "folk.boot-timeout=30s").run(ctx -> {
            assertThat(ctx).hasFailed();
            FailureAnalysis analysis = new FolkStartupFailureAnalyzer().analyze(ctx.getStartupFailure());
            assertThat(analysis.getDescription()).contains(script);
            assertThat(analysis.getAction()).contains("The worker script " + script + " does not exist")
                    .doesNotContain("ended without serving");
        });
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void aPhpPoolWithoutAScriptFailsStartupSayingToSetFolkArgs() {
        runner.withPropertyValues("folk.args=", "folk.boot-timeout=30s").run(ctx -> {
            assertThat(ctx).hasFailed();
            FolkStartupException e = findCause(ctx.getStartupFailure(), FolkStartupException.class);
            assertThat(e.pools().get(0).waited()).isLessThan(java.time.Duration.ofSeconds(10));
            FailureAnalysis analysis = new FolkStartupFailureAnalyzer().analyze(ctx.getStartupFailure());
            assertThat(analysis.getAction()).contains("No worker script is configured")
                    .contains("Set folk.args (or folk.pools.default.args) to the worker script")
                    .doesNotContain("ended without serving");
        });
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    /** Runs a web application (on a free port, with this test's worker) whose start fails: the report is in the output. */
    private void startWebAppThatFails(Class<?>[] sources, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("--server.port=0", "--server.address=127.0.0.1",
                "--folk.shutdown.signal-handler=false", "--folk.args=" + TestWorkers.ECHO, "--folk.env.FOLK_TEST_RUN=" + tag));
        all.addAll(List.of(args));
        try {
            new SpringApplication(sources).run(all.toArray(String[]::new));
        } catch (RuntimeException expected) {
            // reported in the output
        }
    }

    private static Throwable findCause(Throwable t) {
        return findCause(t, FolkConfigurationException.class);
    }

    private static <T extends Throwable> T findCause(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + t, t);
    }

    @SpringBootConfiguration
    @ImportAutoConfiguration(FolkAutoConfiguration.class)
    static class App {
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class WebApp {
    }

    /** Stands for Spring Security's filter chain, which the gateway's filter must not run ahead of. */
    static class SecurityChain {
        @Bean("springSecurityFilterChain")
        Filter springSecurityFilterChain() {
            return (request, response, chain) -> chain.doFilter(request, response);
        }
    }

    /** A web application whose own filter cannot be made: Tomcat's start fails after the filter that needs a pool. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class FailingWebApp {
        @Bean
        Filter poolFilter(FolkPools pools) {
            return (request, response, chain) -> chain.doFilter(request, response);
        }

        @Bean
        Filter failingFilter() {
            throw new IllegalStateException("the application's own filter cannot be made");
        }
    }
}
