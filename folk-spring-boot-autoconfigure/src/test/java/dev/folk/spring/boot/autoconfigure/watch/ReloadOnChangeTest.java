package dev.folk.spring.boot.autoconfigure.watch;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.folk.core.pool.ExitReason;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.testing.Procs;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.pool.ClasspathScripts;
import dev.folk.spring.boot.watch.SourceWatcher;
import dev.folk.spring.boot.watch.WatchRoot;

/**
 * Reload on change with real PHP workers: a script changes on disk, its pool reloads, and callers
 * hammering the pool meanwhile see no failure, then the new code's answer.
 */
@ExtendWith(OutputCaptureExtension.class)
class ReloadOnChangeTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class, FolkWatchAutoConfiguration.class))
            .withPropertyValues("folk.watch.enabled=true", "folk.watch.debounce=50ms",
                    "folk.shutdown.signal-handler=false", "folk.state.enabled=false");

    @TempDir
    Path tmp;

    /** A worker whose method 'version' answers {@code version}. */
    static String worker(String version) {
        return "<?php\nrequire getenv('FOLK_WORKER_PHP');\n$worker = new Folk\\Worker\\Worker();\n"
                + "$worker->register('version', fn () => '" + version + "');\n$worker->run();\n";
    }

    @Test
    void aClasspathScriptServedFromADirectoryIsExtractedAgainAndEveryWorkerReplacedWithoutAFailedCall(
            CapturedOutput output) throws Exception {
        Path classes = tmp.resolve("classes");
        Path script = classes.resolve("reload/app.php");
        Files.createDirectories(script.getParent());
        Files.writeString(script, worker("v1"));
        URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader());
        runner.withClassLoader(loader).withPropertyValues("folk.args=classpath:reload/app.php", "folk.size=2")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    WorkerPool pool = ctx.getBean(WorkerPool.class);
                    SourceWatcher watcher = ctx.getBean(SourceWatcher.class);
                    assertThat(watcher.watched().get(0).roots()).containsExactly(
                            new WatchRoot(classes.resolve("reload"), true, "reload"));

                    Hammer hammer = new Hammer(pool, 3);
                    try {
                        hammer.await("v1");
                        Files.writeString(classes.resolve("reload/notes.txt"), "not PHP: no reload");
                        Files.writeString(script, worker("v2")); // as the IDE or mvn copies a resource
                        Procs.await(WAIT, "both workers replaced", () -> exits(pool) >= 2);
                        hammer.await("v2");
                    } finally {
                        hammer.stop();
                    }
                    assertThat(hammer.failures).isEmpty();
                    assertThat(hammer.answers.get("v1").get()).isPositive();
                    for (int i = 0; i < 10; i++) {
                        assertThat(pool.call("version", "", String.class)).isEqualTo("v2");
                    }
                    assertThat(exits(pool)).as("one reset of 2 workers").isEqualTo(2);
                    assertThat(watcher.reloads("default")).isEqualTo(1);
                    assertThat(watcher.lastChangedFiles("default")).containsExactly(script);
                    Path extracted = ctx.getBean(ClasspathScripts.class).directory().resolve("reload/app.php");
                    assertThat(Files.readString(extracted)).contains("'v2'");
                    assertThat(output).contains("Pool 'default': reloading its workers (changed: " + script + ")");
                });
    }

    @Test
    void aScriptOnDiskIsWatchedInItsDirectoryByDefaultAndEvenOneWorkerIsReplacedWithoutAFailedCall()
            throws Exception {
        Path script = tmp.resolve("app/worker.php");
        Files.createDirectories(script.getParent());
        Files.writeString(script, worker("v1"));
        runner.withPropertyValues("folk.args=" + script, "folk.size=1").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            WorkerPool pool = ctx.getBean(WorkerPool.class);
            SourceWatcher watcher = ctx.getBean(SourceWatcher.class);
            assertThat(watcher.watched().get(0).roots()).containsExactly(new WatchRoot(script.getParent(), true, null));

            Hammer hammer = new Hammer(pool, 2);
            try {
                hammer.await("v1");
                // As an editor saves: a new file renamed over the old one.
                Path saved = script.resolveSibling(".worker.php.swp");
                Files.writeString(saved, worker("v2"));
                Files.move(saved, script, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                hammer.await("v2");
                Procs.await(WAIT, "the worker replaced", () -> exits(pool) >= 1);
            } finally {
                hammer.stop();
            }
            assertThat(hammer.failures).isEmpty();
            assertThat(pool.call("version", "", String.class)).isEqualTo("v2");
            assertThat(watcher.reloads("default")).isEqualTo(1);
        });
    }

    @Test
    void aScriptReachedThroughASymbolicLinkIsWatchedWhereTheLinkLeads() throws Exception {
        // A release directory and the `current` link a deploy tool points at it: inotify follows no link.
        Path release = tmp.resolve("releases/1");
        writeApp(release, "v1");
        Path current = Files.createSymbolicLink(tmp.resolve("current"), release);
        runner.withPropertyValues("folk.args=" + current.resolve("app.php"), "folk.size=1").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            WorkerPool pool = ctx.getBean(WorkerPool.class);
            SourceWatcher watcher = ctx.getBean(SourceWatcher.class);
            assertThat(watcher.watched().get(0).roots()).containsExactly(new WatchRoot(release.toRealPath(), true, null));
            assertThat(pool.call("version", "", String.class)).isEqualTo("v1");
            Files.writeString(release.resolve("lib/v.php"), "<?php\nreturn 'v2';\n");
            Procs.await(WAIT, "the worker replaced", () -> exits(pool) >= 1);
            assertThat(pool.call("version", "", String.class)).isEqualTo("v2");
            assertThat(watcher.reloads("default")).isEqualTo(1);
        });
    }

    @Test
    void aWatchedDirectoryDeletedWarnsAtOnceAndReloadsOnlyOnceItIsBack(CapturedOutput output) throws Exception {
        // As mvn clean does to target/classes: the directory and everything in it go, then come back.
        // The old workers keep app.php open, which keeps the deleted directory's inode (and its watch) alive.
        Path dir = tmp.resolve("x");
        Path script = dir.resolve("app.php");
        writeApp(dir, "v1");
        runner.withPropertyValues("folk.args=" + script, "folk.size=2").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            WorkerPool pool = ctx.getBean(WorkerPool.class);
            SourceWatcher watcher = ctx.getBean(SourceWatcher.class);
            Hammer hammer = new Hammer(pool, 2);
            try {
                hammer.await("v1");
                deleteTree(dir);
                Procs.await(WAIT, "the warning that " + dir + " went",
                        () -> output.toString().contains(dir + " was deleted or moved away"));
                // An absence takes a window to observe: 20 debounce times, none of them with a reload.
                long end = System.nanoTime() + Duration.ofSeconds(1).toNanos();
                while (System.nanoTime() - end < 0) {
                    assertThat(watcher.reloads("default")).as("reloads while it is gone").isZero();
                    Thread.onSpinWait();
                }
                assertThat(output.toString()).doesNotContain(dir + " is back");
                writeApp(dir, "v2");
                hammer.await("v2");
                Procs.await(WAIT, "both workers replaced", () -> exits(pool) >= 2);
            } finally {
                hammer.stop();
            }
            assertThat(hammer.failures).isEmpty();
            assertThat(output).contains(dir + " is back");
            assertThat(watcher.reloads("default")).as("one reload, once it is back").isEqualTo(1);
            assertThat(watcher.lastChangedFiles("default")).contains(script, dir.resolve("lib/v.php"));
            assertThat(pool.snapshot().bootFailures()).as("no worker booted while it was gone").isZero();
            assertThat(output).doesNotContain("Could not open input file");
        });
    }

    /** x/app.php, a worker whose method 'version' answers what x/lib/v.php returned when it booted. */
    private static void writeApp(Path dir, String version) throws Exception {
        Files.createDirectories(dir.resolve("lib"));
        Files.writeString(dir.resolve("lib/v.php"), "<?php\nreturn '" + version + "';\n");
        Files.writeString(dir.resolve("app.php"), "<?php\nrequire getenv('FOLK_WORKER_PHP');\n"
                + "$version = require __DIR__ . '/lib/v.php';\n$worker = new Folk\\Worker\\Worker();\n"
                + "$worker->register('version', fn () => $version);\n$worker->run();\n");
    }

    private static void deleteTree(Path top) throws Exception {
        try (var all = Files.walk(top)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static long exits(WorkerPool pool) {
        return pool.snapshot().exits().getOrDefault(ExitReason.RESET, 0L);
    }

    /** Callers calling the pool without pause, each on its own thread, counting answers and failures. */
    static final class Hammer {
        final Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
        final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        private final List<Thread> threads = new ArrayList<>();
        private volatile boolean running = true;

        Hammer(WorkerPool pool, int callers) {
            for (int i = 0; i < callers; i++) {
                Thread t = new Thread(() -> {
                    while (running) {
                        try {
                            String v = pool.call("version", "", String.class);
                            answers.computeIfAbsent(v, k -> new AtomicInteger()).incrementAndGet();
                        } catch (RuntimeException e) {
                            failures.add(e);
                        }
                    }
                }, "hammer-" + i);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
        }

        /** Waits until {@code version} has answered a few times. */
        void await(String version) {
            Procs.await(WAIT, "answers " + version, () -> answers.getOrDefault(version, new AtomicInteger()).get() >= 20,
                    () -> "answers " + answers + ", failures " + failures);
        }

        void stop() throws InterruptedException {
            running = false;
            for (Thread t : threads) {
                t.join(WAIT.toMillis());
            }
        }
    }
}
