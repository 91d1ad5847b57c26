package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.MeterRegistry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.env.MapPropertySource;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.unit.DataSize;

import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.PoolState;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.actuate.endpoint.WorkersEndpoint;
import dev.folk.spring.boot.autoconfigure.endpoint.FolkWorkersEndpointAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.health.FolkHealthContributorAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.metrics.FolkMetricsAutoConfiguration;
import dev.folk.spring.boot.lifecycle.FolkReadiness;
import dev.folk.spring.boot.lifecycle.FolkShutdownHook;
import dev.folk.spring.boot.lifecycle.FolkSignalHandler;
import dev.folk.spring.boot.metrics.FolkMetrics;
import dev.folk.spring.boot.pool.ClasspathScripts;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.lifecycle.FolkLifecycle;

/** Binding, bean wiring, back-off and conditions of the auto-configuration, with ApplicationContextRunner. */
@ExtendWith(OutputCaptureExtension.class)
class FolkAutoConfigurationTests {

    private static final AutoConfigurations FOLK = AutoConfigurations.of(FolkAutoConfiguration.class,
            FolkHealthContributorAutoConfiguration.class, FolkWorkersEndpointAutoConfiguration.class,
            FolkMetricsAutoConfiguration.class);

    private static final AutoConfigurations METRICS = AutoConfigurations.of(MetricsAutoConfiguration.class,
            CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class);

    /** The auto-configuration with pools that are not started (no process is spawned). */
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(FOLK)
            .withUserConfiguration(NotStarted.class)
            .withPropertyValues("folk.shutdown.signal-handler=false");

    @Test
    void theStateFileIsOnByDefaultUnderAPrivateTemporaryDirectoryConfigurableAndCanBeTurnedOff(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
        runner.withPropertyValues("spring.application.name=state-demo").run(ctx -> {
            java.nio.file.Path expected = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"),
                    "folk-" + System.getProperty("user.name"), "state-demo.state");
            assertThat(ctx.getBean(Supervisor.class).stateFile()).contains(expected);
        });
        java.nio.file.Path custom = tmp.resolve("private").resolve("custom.state");
        runner.withPropertyValues("folk.state.file=" + custom).run(ctx ->
                assertThat(ctx.getBean(Supervisor.class).stateFile()).contains(custom));
        runner.withPropertyValues("folk.state.enabled=false").run(ctx ->
                assertThat(ctx.getBean(Supervisor.class).stateFile()).isEmpty());
    }

    @Test
    void classpathArgumentsBecomeExtractedFilesAndWorkersLearnWhereThePhpLibraryIs() {
        runner.withPropertyValues("folk.args=classpath:php/test-app.php").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            WorkerPool pool = ctx.getBean(WorkerPool.class);
            List<String> args = pool.config().worker().args();
            java.nio.file.Path extracted = java.nio.file.Path.of(args.get(args.size() - 1));
            assertThat(extracted).exists().hasFileName("test-app.php");
            assertThat(pool.config().worker().environment()).containsKey(ClasspathScripts.WORKER_LIBRARY_ENV);
        });
        runner.withPropertyValues("folk.args=classpath:php/nope.php").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(ctx.getStartupFailure()).rootCause().hasMessageContaining("folk.args")
                    .hasMessageContaining("php/nope.php");
        });
    }

    @Test
    void theWorkerLibraryPlaceholderInArgsNamesTheLibraryWorkersGet() {
        new ApplicationContextRunner().withConfiguration(FOLK)
                .withPropertyValues("folk.shutdown.signal-handler=false", "folk.size=1", "folk.args[0]=-d",
                        "folk.args[1]=auto_prepend_file=${FOLK_WORKER_PHP}", "folk.args[2]=classpath:php/prepended-app.php")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    WorkerPool pool = ctx.getBean(WorkerPool.class);
                    String library = pool.config().worker().environment().get(ClasspathScripts.WORKER_LIBRARY_ENV);
                    assertThat(pool.config().worker().args()).contains("auto_prepend_file=" + library);
                    assertThat(pool.call("loaded", null, List.class)).as("the files PHP loaded").contains(library);
                });
        runner.withPropertyValues("folk.env[FOLK_WORKER_PHP]=/opt/own/autoload.php",
                        "folk.args=-dauto_prepend_file=${FOLK_WORKER_PHP}," + TestWorkers.ECHO)
                .run(ctx -> assertThat(ctx.getBean(WorkerPool.class).config().worker().args())
                        .as("the application's own setting").contains("-dauto_prepend_file=/opt/own/autoload.php"));
    }

    /**
     * Spring's test context cache pauses a cached context while other test classes run and restarts
     * it when one uses it again (Spring Framework 7, spring.test.context.cache.pause). The pools keep
     * running through the pause; they used to be closed by it, and the restart then failed with
     * "was stopped and cannot be restarted", failing every later test class of that configuration.
     */
    @Test
    void aPausedContextKeepsItsPoolsAndServesAgainOnceRestarted() {
        new ApplicationContextRunner().withConfiguration(FOLK)
                .withPropertyValues("folk.shutdown.signal-handler=false", "folk.size=1", "folk.args=" + TestWorkers.ECHO)
                .run(ctx -> {
                    WorkerPool pool = ctx.getBean(WorkerPool.class);
                    assertThat(pool.call("echo", "before")).isEqualTo("before");
                    ConfigurableApplicationContext context = (ConfigurableApplicationContext) ctx.getSourceApplicationContext();
                    context.pause();
                    assertThat(pool.state()).as("through the pause").isEqualTo(PoolState.RUNNING);
                    context.restart();
                    assertThat(context.isRunning()).isTrue();
                    assertThat(pool.call("echo", "after")).isEqualTo("after");
                    assertThat(ctx.getBean(FolkLifecycle.class).isRunning()).isTrue();
                });
    }

    @Test
    void theJvmHookWaitsByDefaultForTheWholeGracefulCloseOfTheLongestPool(CapturedOutput output) {
        // 30 s web drain + 5 s web stop + (20 + 0.5 + 5) s pool stop + 5 s for killed groups.
        runner.withPropertyValues("folk.args=" + TestWorkers.ECHO).run(ctx ->
                assertThat(ctx.getBean(FolkShutdownHook.class).waitBound()).isEqualTo(Duration.ofMillis(65_500)));
        // From the actual settings: the phase, and the pool that takes longest to stop.
        runner.withPropertyValues("folk.args=" + TestWorkers.ECHO, "spring.lifecycle.timeout-per-shutdown-phase=16s",
                        "folk.drain-timeout=5s", "folk.pools.a.drain-timeout=14500ms", "folk.pools.a.stop-grace=500ms",
                        "folk.pools.b.size=1")
                .run(ctx -> assertThat(ctx.getBean(FolkShutdownHook.class).waitBound())
                        .isEqualTo(Duration.ofMillis(16_000 + 5_000 + 15_500 + 5_000)));
        assertThat(output).doesNotContain("jvm-hook-wait");
        // Set by hand: kept, but a value that cuts the drain short is warned about.
        runner.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.shutdown.jvm-hook-wait=45s").run(ctx -> {
            assertThat(ctx.getBean(FolkShutdownHook.class).waitBound()).isEqualTo(Duration.ofSeconds(45));
            assertThat(output).contains("folk.shutdown.jvm-hook-wait=45s is shorter than a graceful shutdown may "
                    + "take (65500ms");
        });
    }

    @Test
    void unknownKeysAreWarnedAboutWithTheKeyMeant(CapturedOutput output) {
        runner.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=2", "folk.sise=3",
                        "folk.pools.web.exec-timout=1s", "folk.pools.web.max-jobs=9", "folk.env.ANY_NAME=x",
                        "folk.http.mapings[0].path=/x", "folk.readiness.pools.web.max-queue=4", "folk.pools.jobs=",
                        "folk.readiness.pools.jobs=", "folk.frobnicate=1")
                .withInitializer(ctx -> ctx.getEnvironment().getPropertySources().addFirst(new MapPropertySource(
                        "commandLineArgs", Map.of("folk.pools.jobs.size", "1", "folk.pools.jobs.max-jbos", "2"))))
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    assertThat(output).contains("Unknown configuration key folk.sise", "Did you mean folk.size?")
                            .contains("Unknown configuration key folk.pools.web.exec-timout",
                                    "Did you mean folk.pools.web.exec-timeout?")
                            .contains("Unknown configuration key folk.http.mapings[0].path",
                                    "Did you mean folk.http.mappings[0].path?")
                            .contains("Unknown configuration key folk.frobnicate", "The auto-configuration README lists every key.")
                            .as("a pool written empty in YAML, its keys from elsewhere")
                            .contains("Unknown configuration key folk.pools.jobs.max-jbos", "Did you mean folk.pools.jobs.max-jobs?");
                    assertThat(output.getAll().lines().filter(l -> l.contains("Unknown configuration key")))
                            .as("nothing else: maps, pools written empty, their right keys").hasSize(5);
                });
    }

    /** A misspelt pool name is no unknown key: a pool of its own, running the shared script. */
    @Test
    void poolsNamedOneLetterApartAreWarnedAbout(CapturedOutput output) {
        runner.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.pools.slim.size=1", "folk.pools.slimm.size=1",
                "folk.pools.web1.size=1", "folk.pools.web2.size=1", "folk.pools.web.size=1").run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    assertThat(output).contains("Pools 'slim' and 'slimm' are named one letter apart",
                            "folk.pools.slimm.*");
                    assertThat(output.getAll().lines().filter(l -> l.contains("named one letter apart")))
                            .as("not web1, web2 and web: they differ in a digit").hasSize(1);
                });
    }

    @Test
    void phpsMemoryLimitFollowsTheHardLimitUnlessTheArgsSetItOrThereIsNone() {
        runner.withPropertyValues("folk.args=-dmemory_limit=64M," + TestWorkers.ECHO).run(ctx -> assertThat(
                ctx.getBean(WorkerPool.class).config().worker().args()).containsExactly("-dmemory_limit=64M",
                TestWorkers.ECHO.toString()));
        runner.withPropertyValues("folk.memory-limit=0", "folk.args=" + TestWorkers.ECHO).run(ctx -> assertThat(
                ctx.getBean(WorkerPool.class).config().worker().args()).containsExactly(TestWorkers.ECHO.toString()));
        runner.withPropertyValues("folk.command=/bin/sh", "folk.args=-c,exec php \"$0\"," + TestWorkers.ECHO)
                .run(ctx -> assertThat(ctx.getBean(WorkerPool.class).config().worker().args()).as("not PHP itself")
                        .containsExactly("-c", "exec php \"$0\"", TestWorkers.ECHO.toString()));
    }

    /** Under spring.main.lazy-initialization, the JVM hook and the signal handler are still made at start. */
    @Test
    void theShutdownSafetyNetsAreMadeAtStartEvenWithLazyInitialization() {
        new ApplicationContextRunner().withConfiguration(FOLK).withUserConfiguration(NotStarted.class)
                .withInitializer(ctx -> ctx.addBeanFactoryPostProcessor(
                        new org.springframework.boot.LazyInitializationBeanFactoryPostProcessor()))
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    var beans = ctx.getSourceApplicationContext().getBeanFactory();
                    assertThat(beans.getBeanDefinition("folkPools").isLazyInit()).as("lazy initialization applies").isTrue();
                    assertThat(beans.containsSingleton("folkShutdownHook")).as("JVM hook made").isTrue();
                    assertThat(beans.containsSingleton("folkSignalHandler")).as("signal handler made").isTrue();
                });
    }

    @Test
    void defaultsBindToOnePoolNamedDefaultWithTheCoreDefaults() {
        new ApplicationContextRunner().withConfiguration(FOLK).withUserConfiguration(NotStarted.class).run(ctx -> {
            assertThat(ctx).hasNotFailed();
            FolkProperties p = ctx.getBean(FolkProperties.class);
            assertThat(p.isEnabled()).isTrue();
            assertThat(p.getCommand()).isEqualTo("php");
            assertThat(p.getArgs()).isEmpty();
            assertThat(p.getPools()).isEmpty();
            assertThat(p.getShutdown().isSignalHandler()).isTrue();
            assertThat(p.getShutdown().isJvmHook()).isTrue();
            assertThat(p.getMetrics().isMethodTag()).isFalse();
            assertThat(p.getReadiness().isEnabled()).isTrue();

            assertThat(ctx).hasSingleBean(Supervisor.class).hasSingleBean(FolkPools.class)
                    .hasSingleBean(FolkReadiness.class).hasSingleBean(FolkShutdownHook.class)
                    .hasSingleBean(FolkSignalHandler.class).hasSingleBean(WorkerPool.class);
            // INT and HUP stay ignored if this JVM was started with them ignored (a background job, nohup).
            long ignored = Long.parseLong(Procs.status(Procs.jvmPid(), "SigIgn"), 16);
            List<String> handled = new java.util.ArrayList<>(List.of("TERM"));
            if ((ignored & (1L << 1)) == 0) {
                handled.add("INT");
            }
            if ((ignored & 1L) == 0) {
                handled.add("HUP");
            }
            assertThat(ctx.getBean(FolkSignalHandler.class).installedSignals()).isEqualTo(handled);
            assertThat(ctx.getBean(FolkPools.class).names()).containsExactly("default");
            WorkerPool pool = ctx.getBean(WorkerPool.class);
            assertThat(ctx.getBean(FolkAutoConfiguration.poolBeanName("default"))).isSameAs(pool);
            assertThat(ctx.getBean(FolkPools.class).minReady(pool)).isEqualTo(4);

            // The starter's defaults are folk-core's defaults.
            PoolConfig expected = PoolConfig.builder("default", WorkerSpec.builder("php").name("default").build())
                    .build();
            assertSameSettings(pool.config(), expected);
            WorkerSpec spec = pool.config().worker();
            assertThat(spec.executable()).isEqualTo("php");
            assertThat(spec.name()).isEqualTo("default");
            // PHP's own memory_limit follows memory-limit (512MB): 90% of it, in MiB.
            assertThat(spec.args()).containsExactly("-d", "memory_limit=460M");
            assertThat(spec.inheritEnvironment()).as("secrets stay in the JVM by default").isFalse();
            assertThat(spec.passEnvironment()).isEmpty();
            assertThat(spec.runAs()).as("the JVM's own user by default").isNull();
            assertThat(spec.output()).isEqualTo(OutputPolicy.log());
            assertThat(spec.workingDirectory()).isNull();
            assertThat(spec.sandboxRoot()).isNull();
        });
    }

    @Test
    void everyTopLevelPropertyBinds(@TempDir Path dir) {
        Path sandbox = dir.resolve("sandbox");
        Path out = dir.resolve("out.log");
        runner.withPropertyValues("folk.command=/usr/bin/php", "folk.args=worker.php,--flag",
                        "folk.env[APP_ENV]=prod", "folk.env.FOLK_TEST_RUN=plain-form",
                        "folk.inherit-env=true", "folk.pass-env=APP_*,HOME", "folk.working-dir=" + dir,
                        "folk.sandbox=" + sandbox, "folk.size=3", "folk.min-ready=2", "folk.max-jobs=100",
                        "folk.max-jobs-jitter=0.25", "folk.max-lifetime=1h", "folk.max-idle=10m",
                        "folk.max-memory=256MB", "folk.boot-timeout=7s", "folk.exec-timeout=45s",
                        "folk.acquire-timeout=2s", "folk.max-queue=10", "folk.drain-timeout=12s", "folk.stop-grace=3s",
                        "folk.close-wait=250ms", "folk.max-concurrent-spawns=2", "folk.backoff-initial=200ms",
                        "folk.backoff-max=5s", "folk.broken-threshold=7", "folk.broken-window=2m",
                        "folk.max-frame-length=1MB", "folk.memory-check-interval=3s", "folk.memory-limit=2GB",
                        "folk.output=file",
                        "folk.output-file=" + out, "folk.shutdown.jvm-hook=false", "folk.shutdown.jvm-hook-wait=7s",
                        "folk.slow-call-threshold=1500ms",
                        "folk.metrics.method-tag=true", "folk.readiness.enabled=false")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    FolkProperties p = ctx.getBean(FolkProperties.class);
                    assertThat(p.getShutdown().isSignalHandler()).isFalse();
                    assertThat(p.getShutdown().getJvmHookWait()).isEqualTo(Duration.ofSeconds(7));
                    assertThat(p.getMetrics().isMethodTag()).isTrue();
                    assertThat(ctx).doesNotHaveBean(FolkReadiness.class).doesNotHaveBean(FolkShutdownHook.class)
                            .doesNotHaveBean(FolkSignalHandler.class);

                    WorkerPool pool = ctx.getBean(WorkerPool.class);
                    PoolConfig c = pool.config();
                    assertThat(c.name()).isEqualTo("default");
                    assertThat(c.size()).isEqualTo(3);
                    assertThat(ctx.getBean(FolkPools.class).minReady(pool)).isEqualTo(2);
                    assertThat(c.maxJobs()).isEqualTo(100);
                    assertThat(c.maxJobsJitter()).isEqualTo(0.25);
                    assertThat(c.maxLifetime()).isEqualTo(Duration.ofHours(1));
                    assertThat(c.maxIdle()).isEqualTo(Duration.ofMinutes(10));
                    assertThat(c.maxMemoryBytes()).isEqualTo(DataSize.ofMegabytes(256).toBytes());
                    assertThat(c.bootTimeout()).isEqualTo(Duration.ofSeconds(7));
                    assertThat(c.execTimeout()).isEqualTo(Duration.ofSeconds(45));
                    assertThat(c.acquireTimeout()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(c.maxQueue()).isEqualTo(10);
                    assertThat(c.drainTimeout()).isEqualTo(Duration.ofSeconds(12));
                    assertThat(c.stopGrace()).isEqualTo(Duration.ofSeconds(3));
                    assertThat(c.closeWait()).isEqualTo(Duration.ofMillis(250));
                    assertThat(c.maxConcurrentSpawns()).isEqualTo(2);
                    assertThat(c.backoffInitial()).isEqualTo(Duration.ofMillis(200));
                    assertThat(c.backoffMax()).isEqualTo(Duration.ofSeconds(5));
                    assertThat(c.brokenThreshold()).isEqualTo(7);
                    assertThat(c.brokenWindow()).isEqualTo(Duration.ofMinutes(2));
                    assertThat(c.maxFrameLength()).isEqualTo(1024 * 1024);
                    assertThat(c.memoryCheckInterval()).isEqualTo(Duration.ofSeconds(3));
                    assertThat(c.memoryLimitBytes()).isEqualTo(DataSize.ofGigabytes(2).toBytes());
                    assertThat(c.slowCallThreshold()).isEqualTo(Duration.ofMillis(1500));

                    WorkerSpec spec = c.worker();
                    assertThat(spec.executable()).isEqualTo("/usr/bin/php");
                    assertThat(spec.args()).containsExactly("-d", "memory_limit=1843M", "worker.php", "--flag");
                    assertThat(spec.environment()).containsEntry("APP_ENV", "prod")
                            .containsEntry("FOLK_TEST_RUN", "plain-form");
                    assertThat(spec.inheritEnvironment()).isTrue();
                    assertThat(spec.passEnvironment()).containsExactlyInAnyOrder("APP_*", "HOME");
                    assertThat(spec.workingDirectory()).isEqualTo(dir);
                    assertThat(spec.sandboxRoot()).isEqualTo(sandbox);
                    assertThat(spec.output()).isEqualTo(OutputPolicy.appendTo(out));
                });
    }

    @Test
    void namedPoolsInheritUnsetKeysFromTheTopLevelAndAreInjectableByQualifier(@TempDir Path dir) {
        runner.withUserConfiguration(QualifiedConsumer.class)
                .withPropertyValues("folk.command=php", "folk.args=" + TestWorkers.ECHO, "folk.size=3",
                        "folk.env[SHARED]=top", "folk.env[OVERRIDDEN]=top", "folk.stop-grace=2s",
                        "folk.output=discard", "folk.max-memory=64MB",
                        "folk.pools.web.size=5", "folk.pools.web.env[OVERRIDDEN]=web", "folk.pools.web.args=web.php",
                        "folk.pools.jobs.command=/usr/bin/php", "folk.pools.jobs.max-jobs=9",
                        "folk.pools.jobs.output=log")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    FolkPools pools = ctx.getBean(FolkPools.class);
                    assertThat(pools.names()).containsExactly("web", "jobs");
                    assertThat(ctx).getBeans(WorkerPool.class).hasSize(2);

                    PoolConfig web = pools.get("web").config();
                    assertThat(web.size()).isEqualTo(5);
                    assertThat(web.stopGrace()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(web.maxMemoryBytes()).isEqualTo(DataSize.ofMegabytes(64).toBytes());
                    assertThat(web.worker().executable()).isEqualTo("php");
                    assertThat(web.worker().args()).containsExactly("-d", "memory_limit=460M", "web.php");
                    assertThat(web.worker().environment()).containsEntry("SHARED", "top")
                            .containsEntry("OVERRIDDEN", "web");
                    assertThat(web.worker().output()).isEqualTo(OutputPolicy.discard());

                    PoolConfig jobs = pools.get("jobs").config();
                    assertThat(jobs.size()).isEqualTo(3);
                    assertThat(jobs.maxJobs()).isEqualTo(9);
                    assertThat(jobs.stopGrace()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(jobs.worker().executable()).isEqualTo("/usr/bin/php");
                    assertThat(jobs.worker().args()).containsExactly("-d", "memory_limit=460M",
                            TestWorkers.ECHO.toString());
                    assertThat(jobs.worker().environment()).containsEntry("SHARED", "top")
                            .containsEntry("OVERRIDDEN", "top");
                    assertThat(jobs.worker().output()).isEqualTo(OutputPolicy.log());

                    QualifiedConsumer consumer = ctx.getBean(QualifiedConsumer.class);
                    assertThat(consumer.web).isSameAs(pools.get("web"));
                    assertThat(consumer.jobs).isSameAs(pools.get("jobs"));
                });
    }

    @Test
    void aPoolWrittenEmptyInYamlTakesItsKeysFromTheCommandLineAndTheEnvironment() {
        // `folk.pools.default: {}` and `folk.readiness.pools.default: {}` in application.yml read as
        // keys with an empty value; the same pool's settings come from sources of higher precedence.
        runner.withPropertyValues("folk.command=php", "folk.args=" + TestWorkers.ECHO, "folk.size=3",
                        "folk.pools.default=", "folk.pools.jobs=", "folk.readiness.pools.default=")
                .withInitializer(ctx -> ctx.getEnvironment().getPropertySources().addFirst(new MapPropertySource(
                        "commandLineArgs", Map.of("folk.pools.default.size", "1", "folk.pools.default.max-jobs", "7",
                                "folk.readiness.pools.default.max-queue", "5"))))
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    FolkPools pools = ctx.getBean(FolkPools.class);
                    assertThat(pools.names()).containsExactly("default", "jobs");
                    assertThat(pools.get("default").config().size()).isEqualTo(1);
                    assertThat(pools.get("default").config().maxJobs()).isEqualTo(7);
                    assertThat(pools.get("jobs").config().size()).as("a pool written empty and nothing else").isEqualTo(3);
                    assertThat(ctx.getBean(FolkProperties.class).getReadiness().getPools().get("default").getMaxQueue())
                            .isEqualTo(5);
                });
    }

    @Test
    void everyKeyBindsPerPool(@TempDir Path dir) {
        Path out = dir.resolve("jobs.log");
        String p = "folk.pools.jobs.";
        runner.withPropertyValues("folk.pools.other.size=1", p + "command=/usr/bin/php", p + "args=a.php,b",
                        p + "env[ONLY_HERE]=yes", p + "inherit-env=true", p + "pass-env=HOME", p + "working-dir=" + dir,
                        p + "sandbox=" + dir.resolve("sb"), p + "size=6", p + "min-ready=3", p + "max-jobs=11",
                        p + "max-jobs-jitter=0.3", p + "max-lifetime=2h", p + "max-idle=1m", p + "max-memory=1GB",
                        p + "memory-limit=3GB",
                        p + "boot-timeout=3s", p + "exec-timeout=4s", p + "acquire-timeout=6s", p + "max-queue=7",
                        p + "drain-timeout=8s", p + "stop-grace=9s", p + "close-wait=1s", p + "max-concurrent-spawns=3",
                        p + "backoff-initial=300ms", p + "backoff-max=3s", p + "broken-threshold=2",
                        p + "broken-window=30s", p + "max-frame-length=2MB", p + "memory-check-interval=5s",
                        p + "output=file", p + "output-file=" + out,
                        p + "slow-call-threshold=2s")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    FolkPools pools = ctx.getBean(FolkPools.class);
                    WorkerPool jobsPool = pools.get("jobs");
                    PoolConfig c = jobsPool.config();
                    assertThat(pools.minReady(jobsPool)).isEqualTo(3);
                    assertThat(List.of(c.size(), c.maxJobs(), c.maxQueue(), c.maxConcurrentSpawns(),
                            c.brokenThreshold(), c.maxFrameLength())).containsExactly(6, 11, 7, 3, 2, 2 * 1024 * 1024);
                    assertThat(c.maxJobsJitter()).isEqualTo(0.3);
                    assertThat(c.maxMemoryBytes()).isEqualTo(DataSize.ofGigabytes(1).toBytes());
                    assertThat(List.of(c.maxLifetime(), c.maxIdle(), c.bootTimeout(), c.execTimeout(),
                            c.acquireTimeout(), c.drainTimeout(), c.stopGrace(), c.closeWait(), c.backoffInitial(),
                            c.backoffMax(), c.brokenWindow(), c.memoryCheckInterval()))
                            .containsExactly(Duration.ofHours(2), Duration.ofMinutes(1), Duration.ofSeconds(3),
                                    Duration.ofSeconds(4), Duration.ofSeconds(6), Duration.ofSeconds(8),
                                    Duration.ofSeconds(9), Duration.ofSeconds(1), Duration.ofMillis(300),
                                    Duration.ofSeconds(3), Duration.ofSeconds(30), Duration.ofSeconds(5));
                    WorkerSpec spec = c.worker();
                    assertThat(spec.executable()).isEqualTo("/usr/bin/php");
                    assertThat(c.memoryLimitBytes()).isEqualTo(DataSize.ofGigabytes(3).toBytes());
                    assertThat(c.slowCallThreshold()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(pools.get("other").config().slowCallThreshold()).as("off by default").isZero();
                    assertThat(spec.args()).containsExactly("-d", "memory_limit=2764M", "a.php", "b");
                    assertThat(spec.environment()).containsEntry("ONLY_HERE", "yes");
                    assertThat(spec.inheritEnvironment()).isTrue();
                    assertThat(pools.get("other").config().worker().inheritEnvironment()).isFalse();
                    assertThat(spec.passEnvironment()).containsExactly("HOME");
                    assertThat(spec.workingDirectory()).isEqualTo(dir);
                    assertThat(spec.sandboxRoot()).isEqualTo(dir.resolve("sb"));
                    assertThat(spec.output()).isEqualTo(OutputPolicy.appendTo(out));

                    // The other pool keeps the top-level defaults.
                    PoolConfig other = pools.get("other").config();
                    assertThat(other.size()).isEqualTo(1);
                    assertThat(other.worker().environment()).doesNotContainKey("ONLY_HERE");
                    assertSameSettings(other, PoolConfig.builder("other", other.worker()).size(1).build());
                });
    }

    @Test
    void aPoolValueEqualToTheDefaultStillOverridesTheTopLevel() {
        runner.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=3", "folk.max-jobs=50",
                        "folk.output=discard", "folk.pools.web.size=4", "folk.pools.web.max-jobs=0",
                        "folk.pools.web.output=log", "folk.pools.jobs.min-ready=1")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    FolkPools pools = ctx.getBean(FolkPools.class);
                    PoolConfig web = pools.get("web").config();
                    assertThat(web.size()).isEqualTo(4);
                    assertThat(web.maxJobs()).isZero();
                    assertThat(web.worker().output()).isEqualTo(OutputPolicy.log());
                    PoolConfig jobs = pools.get("jobs").config();
                    assertThat(jobs.size()).isEqualTo(3);
                    assertThat(jobs.maxJobs()).isEqualTo(50);
                    assertThat(jobs.worker().output()).isEqualTo(OutputPolicy.discard());
                    assertThat(pools.minReady(pools.get("jobs"))).isEqualTo(1);
                    assertThat(pools.minReady(pools.get("web"))).isEqualTo(4);
                });
    }

    @Test
    void aPoolNamedDefaultIsPrimaryAmongSeveral() {
        runner.withPropertyValues("folk.pools.default.size=1", "folk.pools.other.size=2").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBean(WorkerPool.class).name()).isEqualTo("default");
        });
    }

    @Test
    void userBeansReplaceOurs() {
        runner.withUserConfiguration(UserBeans.class).withPropertyValues("folk.size=1").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBean(Supervisor.class)).isSameAs(ctx.getBean("mySupervisor"));
            assertThat(ctx).doesNotHaveBean("folkSupervisor");
            FolkPools pools = ctx.getBean(FolkPools.class);
            assertThat(pools).isSameAs(ctx.getBean("myPools"));
            assertThat(pools.names()).containsExactly("mine");
            // Our per-pool beans back off with our registry.
            assertThat(ctx).doesNotHaveBean(FolkAutoConfiguration.poolBeanName("default"));
            assertThat(ctx.getBean(FolkReadiness.class)).isSameAs(ctx.getBean("myReadiness"));
            assertThat(ctx.getBean(FolkShutdownHook.class)).isSameAs(ctx.getBean("myHook"));
        });
    }

    @Test
    void disabledCreatesNothing() {
        new ApplicationContextRunner().withConfiguration(FOLK).withConfiguration(METRICS)
                .withPropertyValues("folk.enabled=false", "management.endpoints.web.exposure.include=*",
                        "folk.args=" + TestWorkers.ECHO)
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    assertThat(ctx).doesNotHaveBean(FolkProperties.class).doesNotHaveBean(Supervisor.class)
                            .doesNotHaveBean(FolkPools.class).doesNotHaveBean(WorkerPool.class)
                            .doesNotHaveBean(FolkLifecycle.class).doesNotHaveBean(FolkReadiness.class)
                            .doesNotHaveBean(FolkShutdownHook.class).doesNotHaveBean(FolkSignalHandler.class)
                            .doesNotHaveBean(CompositeHealthContributor.class).doesNotHaveBean(WorkersEndpoint.class)
                            .doesNotHaveBean(FolkMetrics.class);
                    assertThat(ctx.getBean(MeterRegistry.class).find("folk.workers").meters()).isEmpty();
                });
    }

    @Test
    void withoutActuatorTheCoreBeansWorkAndNoActuatorBeanExists() {
        String tag = Workers.newTag();
        new ApplicationContextRunner().withConfiguration(FOLK)
                .withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate",
                        "org.springframework.boot.health", "org.springframework.boot.micrometer", "io.micrometer"))
                .withPropertyValues("folk.shutdown.signal-handler=false", "folk.args=" + TestWorkers.ECHO,
                        "folk.size=2", "folk.env.FOLK_TEST_RUN=" + tag, "management.endpoints.web.exposure.include=*")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    assertThat(ctx).hasSingleBean(Supervisor.class).hasSingleBean(FolkPools.class)
                            .hasSingleBean(FolkLifecycle.class).hasSingleBean(WorkerPool.class);
                    assertThat(ctx).doesNotHaveBean("folkHealthContributor").doesNotHaveBean("workersEndpoint")
                            .doesNotHaveBean("folkMetrics");
                    WorkerPool pool = ctx.getBean(WorkerPool.class);
                    assertThat(pool.call("echo", Map.of("k", "v"))).isEqualTo(Map.of("k", "v"));
                    assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).hasSize(2);
                });
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void poolBeanNamesComeFromTheEnvironment() {
        runner.withPropertyValues("folk.pools.a.size=1", "folk.pools.b-2.size=1").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBeanNamesForType(WorkerPool.class))
                    .containsExactlyInAnyOrder("folkPool.a", "folkPool.b-2");
        });
    }

    static void assertSameSettings(PoolConfig actual, PoolConfig expected) {
        assertThat(actual.size()).isEqualTo(expected.size());
        assertThat(actual.maxJobs()).isEqualTo(expected.maxJobs());
        assertThat(actual.maxJobsJitter()).isEqualTo(expected.maxJobsJitter());
        assertThat(actual.maxLifetime()).isEqualTo(expected.maxLifetime());
        assertThat(actual.maxIdle()).isEqualTo(expected.maxIdle());
        assertThat(actual.maxMemoryBytes()).isEqualTo(expected.maxMemoryBytes());
        assertThat(actual.memoryLimitBytes()).isEqualTo(expected.memoryLimitBytes());
        assertThat(actual.bootTimeout()).isEqualTo(expected.bootTimeout());
        assertThat(actual.execTimeout()).isEqualTo(expected.execTimeout());
        assertThat(actual.acquireTimeout()).isEqualTo(expected.acquireTimeout());
        assertThat(actual.maxQueue()).isEqualTo(expected.maxQueue());
        assertThat(actual.drainTimeout()).isEqualTo(expected.drainTimeout());
        assertThat(actual.stopGrace()).isEqualTo(expected.stopGrace());
        assertThat(actual.closeWait()).isEqualTo(expected.closeWait());
        assertThat(actual.maxConcurrentSpawns()).isEqualTo(expected.maxConcurrentSpawns());
        assertThat(actual.backoffInitial()).isEqualTo(expected.backoffInitial());
        assertThat(actual.backoffMax()).isEqualTo(expected.backoffMax());
        assertThat(actual.brokenThreshold()).isEqualTo(expected.brokenThreshold());
        assertThat(actual.brokenWindow()).isEqualTo(expected.brokenWindow());
        assertThat(actual.maxFrameLength()).isEqualTo(expected.maxFrameLength());
        assertThat(actual.memoryCheckInterval()).isEqualTo(expected.memoryCheckInterval());
        assertThat(actual.slowCallThreshold()).isEqualTo(expected.slowCallThreshold());
    }

    static class QualifiedConsumer {
        final WorkerPool web;
        final WorkerPool jobs;

        QualifiedConsumer(@Qualifier("web") WorkerPool web, @Qualifier("jobs") WorkerPool jobs) {
            this.web = web;
            this.jobs = jobs;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserBeans {
        @Bean
        Supervisor mySupervisor() {
            return new Supervisor();
        }

        @Bean
        FolkPools myPools(Supervisor supervisor) {
            WorkerSpec spec = WorkerSpec.builder("php").args(TestWorkers.ECHO.toString()).build();
            return new FolkPools(List.of(new WorkerPool(PoolConfig.builder("mine", spec).size(1).build(), supervisor)));
        }

        @Bean
        FolkReadiness myReadiness(org.springframework.context.ApplicationEventPublisher publisher) {
            return new FolkReadiness(publisher);
        }

        @Bean
        FolkShutdownHook myHook(Supervisor supervisor, org.springframework.context.ConfigurableApplicationContext c) {
            return new FolkShutdownHook(supervisor, c, Duration.ofSeconds(1));
        }
    }
}
