package dev.folk.spring.boot.autoconfigure.watch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.folk.core.testing.LogCapture;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.FolkConfigurationException;
import dev.folk.spring.boot.autoconfigure.NotStarted;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.watch.SourceWatcher;
import dev.folk.spring.boot.watch.WatchRoot;
import dev.folk.spring.boot.watch.WatchedPool;

/** Conditions, per-pool inheritance and validation of folk.watch.*, with pools that are not started. */
class FolkWatchAutoConfigurationTests {

    private static final Path TEST_PHP = TestWorkers.TEST.getParent();
    private static final Path ECHO_PHP = TestWorkers.ECHO.getParent();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class, FolkWatchAutoConfiguration.class))
            .withUserConfiguration(NotStarted.class)
            .withPropertyValues("folk.shutdown.signal-handler=false", "folk.args=" + TestWorkers.TEST);

    private static Map<String, WatchedPool> watched(SourceWatcher watcher) {
        return watcher.watched().stream().collect(Collectors.toMap(WatchedPool::pool, Function.identity()));
    }

    @Test
    void offByDefault() {
        runner.withPropertyValues("folk.pools.web.size=1").run(ctx ->
                assertThat(ctx).hasNotFailed().hasSingleBean(FolkPools.class).doesNotHaveBean(SourceWatcher.class));
    }

    @Test
    void enabledWithoutPathsWatchesTheDirectoryOfThePoolsScriptForPhpFiles() {
        runner.withPropertyValues("folk.watch.enabled=true").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            SourceWatcher watcher = ctx.getBean(SourceWatcher.class);
            assertThat(watcher.getPhase()).isGreaterThan(dev.folk.spring.boot.lifecycle.FolkLifecycle.PHASE);
            WatchedPool pool = watched(watcher).get("default");
            assertThat(pool.roots()).containsExactly(new WatchRoot(TEST_PHP, true, null));
            assertThat(pool.patterns()).containsExactly("**/*.php");
            assertThat(pool.debounce()).isEqualTo(Duration.ofMillis(300));
        });
    }

    /** A pause (Spring's test context cache) leaves the watcher on: its reloaders, once stopped, stay stopped. */
    @Test
    void aPausedContextKeepsWatching() {
        runner.withPropertyValues("folk.watch.enabled=true").run(ctx -> {
            SourceWatcher watcher = ctx.getBean(SourceWatcher.class);
            assertThat(watcher.isRunning()).isTrue();
            org.springframework.context.ConfigurableApplicationContext context =
                    (org.springframework.context.ConfigurableApplicationContext) ctx.getSourceApplicationContext();
            context.pause();
            assertThat(watcher.isRunning()).as("through the pause").isTrue();
            context.restart();
            assertThat(watcher.isRunning()).isTrue();
        });
    }

    /** Symfony's or Laravel's public/index.php: watched by default, the code beside it would not be. */
    @Test
    void aFrontControllerWatchedByDefaultIsToldThatTheApplicationBesideItIsNot(@TempDir Path project) throws Exception {
        Files.writeString(project.resolve("composer.json"), "{}");
        Path front = Files.createDirectories(project.resolve("public")).resolve("index.php");
        Files.writeString(front, "<?php\n");
        try (LogCapture logs = LogCapture.of(WatchDefinitions.class)) {
            runner.withPropertyValues("folk.watch.enabled=true", "folk.args=" + front).run(ctx -> {
                assertThat(ctx).hasNotFailed();
                assertThat(watched(ctx.getBean(SourceWatcher.class)).get("default").roots())
                        .containsExactly(new WatchRoot(project.resolve("public").toRealPath(), true, null));
            });
            assertThat(logs.warningsContaining("reload on change watches only")).singleElement().asString()
                    .contains("Pool 'default'", "the application beside it (" + project + ", with its composer.json) is not watched",
                            "folk.watch.paths", "not var/, storage/ or bootstrap/cache/");
            // Named paths, or a script whose directory is not a front controller's: nothing to say.
            runner.withPropertyValues("folk.watch.enabled=true", "folk.args=" + front, "folk.watch.paths=" + project)
                    .run(ctx -> assertThat(ctx).hasNotFailed());
            runner.withPropertyValues("folk.watch.enabled=true").run(ctx -> assertThat(ctx).hasNotFailed());
            assertThat(logs.warningsContaining("reload on change watches only")).hasSize(1);
        }
    }

    @Test
    void eachKeyIsInheritedOnItsOwnAndAPoolCanTurnItOnOrOff() {
        runner.withPropertyValues("folk.watch.enabled=true", "folk.watch.debounce=1s",
                        "folk.pools.web.size=1",
                        "folk.pools.images.size=1", "folk.pools.images.args=" + TestWorkers.ECHO,
                        "folk.pools.images.watch.patterns=*.php,*.inc",
                        "folk.pools.batch.size=1", "folk.pools.batch.watch.enabled=false")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    Map<String, WatchedPool> watched = watched(ctx.getBean(SourceWatcher.class));
                    assertThat(watched).containsOnlyKeys("web", "images");
                    assertThat(watched.get("web").roots()).containsExactly(new WatchRoot(TEST_PHP, true, null));
                    assertThat(watched.get("web").debounce()).isEqualTo(Duration.ofSeconds(1));
                    assertThat(watched.get("images").roots()).containsExactly(new WatchRoot(ECHO_PHP, true, null));
                    assertThat(watched.get("images").patterns()).containsExactly("*.php", "*.inc");
                    assertThat(watched.get("images").debounce()).isEqualTo(Duration.ofSeconds(1));
                });
        runner.withPropertyValues("folk.pools.web.size=1", "folk.pools.admin.size=1",
                        "folk.pools.admin.watch.enabled=true", "folk.pools.admin.watch.paths=" + ECHO_PHP)
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    Map<String, WatchedPool> watched = watched(ctx.getBean(SourceWatcher.class));
                    assertThat(watched).containsOnlyKeys("admin");
                    assertThat(watched.get("admin").roots()).containsExactly(new WatchRoot(ECHO_PHP, true, null));
                });
    }

    @Test
    void aClasspathScriptIsWatchedWhereTheClassPathServesItFromDisk() {
        runner.withPropertyValues("folk.args=classpath:php/test-app.php", "folk.watch.enabled=true",
                "folk.pools.web.size=1", "folk.pools.other.size=1",
                "folk.pools.other.watch.paths=classpath:php/test-app.php").run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    Map<String, WatchedPool> watched = watched(ctx.getBean(SourceWatcher.class));
                    Path onDisk = Path.of("target/test-classes/php").toAbsolutePath();
                    assertThat(watched.get("web").roots()).containsExactly(new WatchRoot(onDisk, true, "php"));
                    assertThat(watched.get("other").roots()).containsExactly(
                            new WatchRoot(onDisk.resolve("test-app.php"), false, "php/test-app.php"));
                });
    }

    @Test
    void settingsThatCannotWorkFailStartUpNamingTheKey() {
        runner.withPropertyValues("folk.watch.enabled=true", "folk.watch.paths=no/such/dir", "folk.watch.debounce=0s",
                "folk.pools.web.size=1", "folk.pools.web.watch.patterns=src/[a-").run(ctx -> {
                    assertThat(ctx).hasFailed();
                    FolkConfigurationException e = findCause(ctx.getStartupFailure());
                    assertThat(e.violations()).extracting(FolkConfigurationException.Violation::key)
                            .containsExactly("folk.watch.paths", "folk.watch.debounce", "folk.pools.web.watch.patterns");
                    assertThat(e.violations().get(0).problem()).contains("does not exist");
                    assertThat(e.violations().get(1).value()).isEqualTo("0ms");
                    assertThat(e.violations().get(2).problem()).contains("not a valid glob");
                });
        runner.withPropertyValues("folk.watch.enabled=true", "folk.args=-r,echo 1;").run(ctx -> {
            FolkConfigurationException e = findCause(ctx.getStartupFailure());
            assertThat(e.violations()).singleElement().satisfies(v -> {
                assertThat(v.key()).isEqualTo("folk.watch.paths");
                assertThat(v.problem()).contains("no script to watch");
            });
        });
    }

    @Test
    void aMissingScriptFailsStartUpNamingTheScriptNotTheWatchPaths() {
        runner.withPropertyValues("folk.watch.enabled=true", "folk.args=/missing.php").run(ctx -> {
            FolkConfigurationException e = findCause(ctx.getStartupFailure());
            assertThat(e.violations()).singleElement().satisfies(v -> {
                assertThat(v.key()).isEqualTo("folk.args");
                assertThat(v.value()).isEqualTo("/missing.php");
                assertThat(v.problem()).contains("the worker script does not exist (/missing.php)",
                        "Could not open input file");
                assertThat(v.action()).contains("Check folk.args");
            });
        });
        runner.withPropertyValues("folk.watch.enabled=true", "folk.pools.web.size=1",
                "folk.pools.web.args=-d,memory_limit=64M,-f,missing/worker.php").run(ctx -> {
                    FolkConfigurationException e = findCause(ctx.getStartupFailure());
                    assertThat(e.violations()).singleElement().satisfies(v -> {
                        assertThat(v.key()).isEqualTo("folk.pools.web.args");
                        assertThat(v.value()).isEqualTo("missing/worker.php");
                    });
                });
    }

    @Test
    void backsOffWhenTheApplicationHasItsOwnWatcher() {
        runner.withPropertyValues("folk.watch.enabled=true").withUserConfiguration(OwnWatcher.class).run(ctx -> {
            assertThat(ctx).hasNotFailed().hasSingleBean(SourceWatcher.class);
            assertThat(ctx.getBean(SourceWatcher.class).watched()).isEmpty();
        });
    }

    private static FolkConfigurationException findCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof FolkConfigurationException e) {
                return e;
            }
        }
        throw new AssertionError("no FolkConfigurationException in " + t, t);
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnWatcher {
        @Bean
        SourceWatcher mine(FolkPools pools) {
            return new SourceWatcher(List.of(), pools::get, null);
        }
    }
}
