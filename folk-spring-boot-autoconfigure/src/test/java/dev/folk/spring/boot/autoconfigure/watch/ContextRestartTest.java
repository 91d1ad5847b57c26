package dev.folk.spring.boot.autoconfigure.watch;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.folk.core.pool.WorkerInfo;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.testing.Procs;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.lifecycle.FolkShutdownHook;
import dev.folk.spring.boot.lifecycle.FolkSignalHandler;
import dev.folk.spring.boot.pool.ClasspathScripts;
import dev.folk.spring.boot.watch.SourceWatcher;
import dev.folk.spring.boot.watch.SourceWatcherTest;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * What a Spring Boot DevTools restart does to Folk: the application context is closed and a new
 * one built, in the same JVM. Done here several times in a row with everything on (signal handler,
 * JVM hook, state file, extracted scripts, reload on change), the last close in the middle of a
 * reload; after each close nothing of that context may be left: no worker (alive or zombie), no
 * Folk thread, no inotify instance, no extracted script folder, the JVM hook removed and the
 * signal handlers back to what they were. While a context runs, its workers are the only ones.
 *
 * <p>Not DevTools' {@code Restarter} itself: it relaunches the application's main method on a new
 * thread with a new class loader, which a test cannot host without being that application. What it
 * does to Folk's beans is what this test does: close the context, then build a new one.
 */
class ContextRestartTest {

    private static final int RESTARTS = 3;
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class, FolkWatchAutoConfiguration.class))
            .withPropertyValues("spring.application.name=folk-restart-test", "folk.size=2",
                    "folk.watch.enabled=true", "folk.watch.debounce=20ms");

    @Test
    void restartsLeaveNoWorkerThreadHookHandlerWatchOrScriptFolderBehind() throws Exception {
        Path script = tmp.resolve("app/worker.php");
        Files.createDirectories(script.getParent());
        Files.writeString(script, ReloadOnChangeTest.worker("v1"));
        Set<Thread> threadsBefore = folkThreads();
        long inotifyBefore = SourceWatcherTest.inotifyInstances();
        String termBefore = currentHandler("TERM");
        String intBefore = currentHandler("INT");
        List<Integer> earlierWorkers = new ArrayList<>();
        Set<Path> stateFiles = new HashSet<>();

        for (int i = 0; i < RESTARTS; i++) {
            boolean last = i == RESTARTS - 1;
            Leftovers context = new Leftovers();
            runner.withPropertyValues("folk.args=" + script).run(ctx -> {
                assertThat(ctx).hasNotFailed();
                WorkerPool pool = ctx.getBean(WorkerPool.class);
                context.runId = ctx.getBean(Supervisor.class).runId();
                context.hook = hookThread(ctx.getBean(FolkShutdownHook.class));
                context.scripts = ctx.getBean(ClasspathScripts.class).directory();
                // The state file's lock was released by the previous close: the same file, not <file>.1.
                stateFiles.add(ctx.getBean(Supervisor.class).stateFile().orElseThrow());
                assertThat(ctx.getBean(FolkSignalHandler.class).installedSignals()).contains("TERM");
                List<Integer> workers = pool.snapshot().workers().stream().map(WorkerInfo::pid).toList();
                assertThat(workers).hasSize(2);
                // One set of workers: this context's, and none of an earlier one.
                assertThat(Procs.aliveWithEnv("FOLK_RUN_ID", context.runId)).containsExactlyInAnyOrderElementsOf(workers);
                assertThat(earlierWorkers).noneMatch(Procs::alive);
                earlierWorkers.addAll(workers);
                if (last) {
                    // Restarted in the middle of a reload: the reset is cut short, nothing is left.
                    Files.writeString(script, ReloadOnChangeTest.worker("v2"));
                    SourceWatcher watcher = ctx.getBean(SourceWatcher.class);
                    Procs.await(WAIT, "a reload to start", () -> watcher.reloads("default") == 1);
                }
            });
            // Closed: what a restart leaves of the context is nothing.
            Procs.await(WAIT, "no process of run " + context.runId,
                    () -> Procs.withEnv("FOLK_RUN_ID", context.runId).isEmpty(),
                    () -> "left: " + Procs.describe(Procs.withEnv("FOLK_RUN_ID", context.runId)));
            Procs.await(WAIT, "no Folk thread of the closed context", () -> newThreads(threadsBefore).isEmpty(),
                    () -> "left: " + newThreads(threadsBefore));
            assertThat(SourceWatcherTest.inotifyInstances()).as("inotify instances").isEqualTo(inotifyBefore);
            assertThat(context.scripts).isNotNull();
            assertThat(Files.exists(context.scripts)).as("extracted scripts %s", context.scripts).isFalse();
            assertThat(Runtime.getRuntime().removeShutdownHook(context.hook)).as("JVM hook still registered").isFalse();
            assertThat(currentHandler("TERM")).isEqualTo(termBefore);
            assertThat(currentHandler("INT")).isEqualTo(intBefore);
        }
        assertThat(earlierWorkers).hasSize(2 * RESTARTS).noneMatch(Procs::alive);
        assertThat(stateFiles).hasSize(1);
    }

    /** What one context leaves to check once it is closed. */
    private static final class Leftovers {
        String runId;
        Thread hook;
        Path scripts;
    }

    private static Thread hookThread(FolkShutdownHook hook) throws ReflectiveOperationException {
        Method m = FolkShutdownHook.class.getDeclaredMethod("hookThread");
        m.setAccessible(true);
        return (Thread) m.invoke(hook);
    }

    private static Set<Thread> folkThreads() {
        Set<Thread> threads = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("folk-")) {
                threads.add(t);
            }
        }
        return threads;
    }

    private static List<String> newThreads(Set<Thread> before) {
        return folkThreads().stream().filter(t -> !before.contains(t)).map(Thread::getName).sorted().toList();
    }

    /**
     * The handler of {@code signal} now, left in place, by identity (sun.misc wraps the JVM's own
     * handler in a new object each time; its string names the handler and its identity hash). The
     * probe swapped in meanwhile is a Java handler: HotSpot never lets a shutdown signal that was
     * set to SIG_IGN be handled again.
     */
    private static String currentHandler(String signal) {
        Signal s = new Signal(signal);
        SignalHandler current = Signal.handle(s, sig -> { });
        Signal.handle(s, current);
        return current.toString();
    }
}
