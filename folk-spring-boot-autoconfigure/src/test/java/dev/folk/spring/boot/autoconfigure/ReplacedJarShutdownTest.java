package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.app.SignalTestApplication;

/**
 * A deploy that copies the new jar over the running one, then SIGTERM. The JVM loads classes
 * lazily, and a jar overwritten in place (same inode) no longer has them where the JVM's open
 * zip index says: a shutdown path that first needs a class then fails with NoClassDefFoundError.
 * The kill-and-reap path must have everything loaded already, so that the workers are still
 * killed and reaped. The child runs from copies of its class path in a temporary directory, which
 * the test overwrites in place before the signal.
 */
class ReplacedJarShutdownTest {

    @TempDir
    Path dir;

    private final String tag = Workers.newTag();
    private final List<Path> copies = new ArrayList<>();
    private ChildJvm jvm;
    private Process child;

    @AfterEach
    void killChild() {
        if (jvm != null) {
            jvm.destroy();
        }
        // Workers a failed run left behind (this run's own, by its tag).
        for (int pid : Procs.aliveWithEnv(Workers.RUN_TAG, tag)) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void folkClassesOverwrittenThenSigtermThePoolsCloseStillKillsAndReapsEveryWorker() throws Exception {
        // Only Folk's classes replaced: Spring's close runs, and with it the pools' close. The busy
        // worker ignores TERM and sleeps for a minute: the drain gives up after a second and the
        // call is killed with its worker.
        start(false, "--folk.drain-timeout=1s");
        List<Integer> pids = awaitWorkers();

        overwriteThenSigterm(pids);
        assertThat(log()).contains("still running after drain-timeout 1s: killing it")
                .contains("Pool 'default' DRAINING -> CLOSED")
                .contains("CALL-FAILED dev.folk.core.pool.PoolClosedException")
                .doesNotContain("NoClassDefFoundError").doesNotContain("ClassNotFoundException")
                .doesNotContain("Exception in thread");
    }

    @Test
    void wholeClassPathOverwrittenThenSigtermTheJvmHookAloneKillsAndReapsEveryWorker() throws Exception {
        // Every jar replaced, as when `java -jar app.jar` runs and app.jar is copied over. Spring
        // Boot's own hook is off, so no close begins: Folk's JVM hook kills and reaps by itself.
        // Logging is left running at exit (by default Spring Boot stops it at once when no context
        // closes), so that the hook's line shows.
        start(true, "--spring.main.register-shutdown-hook=false", "--logging.register-shutdown-hook=false");
        List<Integer> pids = awaitWorkers();

        overwriteThenSigterm(pids);
        assertThat(log()).contains("Folk shutdown hook: the application context is not closing; stopping workers now");
        assertNoFolkClassMissing();
    }

    @Test
    void wholeClassPathOverwrittenThenTwoSigtermsTheSecondStillKillsAndReapsEveryWorker() throws Exception {
        // A graceful close that would wait 30 s for the call, cut short by a second signal.
        start(true, "--folk.drain-timeout=30s", "--spring.lifecycle.timeout-per-shutdown-phase=60s");
        List<Integer> pids = awaitWorkers();

        overwriteCopies();
        jvm.signal("TERM");
        jvm.awaitLine("Pool 'default' RUNNING -> DRAINING", Duration.ofSeconds(3 * 5));
        jvm.signalAgain("TERM");
        assertThat(child.waitFor(3 * 5, TimeUnit.SECONDS)).as("exit after the second SIGTERM; output:\n%s", log())
                .isTrue();

        assertEndedBySigtermWithWorkersReaped(pids);
        assertThat(log()).contains("Second signal (SIGTERM) during shutdown: killing every worker");
        assertNoFolkClassMissing();
    }

    /** Overwrites the copies, sends one SIGTERM, and checks the child ended by it with every worker reaped. */
    private void overwriteThenSigterm(List<Integer> pids) throws Exception {
        overwriteCopies();
        jvm.signal("TERM");
        assertThat(child.waitFor(3 * 10, TimeUnit.SECONDS)).as("exit after SIGTERM; output:\n%s", log()).isTrue();
        assertEndedBySigtermWithWorkersReaped(pids);
    }

    /** The child ended by SIGTERM (exit code 143), and every one of its workers killed and reaped. */
    private void assertEndedBySigtermWithWorkersReaped(List<Integer> pids) {
        assertThat(child.exitValue()).as("exit code; output:\n%s", log()).isEqualTo(143);
        assertReaped(pids);
    }

    /**
     * Starts the application (two workers that ignore TERM, a one-minute call in flight on one of
     * them) with its class path copied: all of it, or only Folk's own classes.
     */
    private void start(boolean wholeClassPath, String... args) throws IOException {
        List<String> classPath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (!Files.exists(path)) {
                continue;
            }
            if (wholeClassPath || holdsFolkClasses(path)) {
                Path copy = dir.resolve(copies.size() + "-" + path.getFileName() + (Files.isDirectory(path) ? ".jar" : ""));
                if (Files.isDirectory(path)) {
                    jar(path, copy);
                } else {
                    Files.copy(path, copy);
                }
                copies.add(copy);
                classPath.add(copy.toString());
            } else {
                classPath.add(entry);
            }
        }
        assertThat(copies).as("copied class path entries").isNotEmpty();

        List<String> all = new ArrayList<>(List.of("--folk.args=" + TestWorkers.TEST,
                "--folk.env.FOLK_TEST_RUN=" + tag, "--spring.main.banner-mode=off", "--folk.size=2",
                // Its own state file: no other run's leftovers ended (and their classes loaded) at start.
                "--folk.state.file=" + dir.resolve("state").resolve("app.state"),
                "--folk.env.FOLK_TEST_IGNORE_TERM=1", "--folk.stop-grace=1s", "--folk.exec-timeout=2m",
                "--test.in-flight-ms=60000"));
        all.addAll(List.of(args));
        jvm = ChildJvm.start(String.join(File.pathSeparator, classPath), SignalTestApplication.class, all);
        child = jvm.process();
    }

    /** The workers' pids, once the application is ready with a call in flight on one of them. */
    private List<Integer> awaitWorkers() {
        String busy = jvm.awaitLine("BUSY ", Duration.ofSeconds(60));
        String ready = jvm.awaitLine("READY ", Duration.ofSeconds(10));
        List<Integer> pids = Arrays.stream(ready.substring(ready.indexOf("READY ") + 6).trim().split(","))
                .map(Integer::parseInt).toList();
        assertThat(pids).hasSize(2).allMatch(Procs::alive)
                .contains(Integer.parseInt(busy.substring(busy.indexOf("BUSY ") + 5).trim()));
        return pids;
    }

    /**
     * Writes other bytes into each copy in place, as {@code cp new.jar app.jar} does: the same
     * inode, so the JVM's open zip index now points into another file. (A rename over it would
     * leave the old file to the JVM.)
     */
    private void overwriteCopies() throws IOException {
        for (Path copy : copies) {
            try (OutputStream out = Files.newOutputStream(copy)) { // truncates the same file
                out.write("not the jar the JVM opened\n".repeat(64).getBytes(StandardCharsets.US_ASCII));
            }
        }
    }

    /**
     * Gone entirely, not even a zombie: the supervisor reaps every worker before the JVM exits; a
     * worker the JVM left behind would still run (the busy one sleeps for a minute, ignoring TERM),
     * or wait as init's zombie.
     */
    private void assertReaped(List<Integer> pids) {
        for (int pid : pids) {
            assertThat(Procs.stat(pid)).as("worker %d after the JVM's exit (state, ppid, pgrp); output:\n%s", pid,
                    log()).isNull();
        }
        assertThat(Procs.withEnv(Workers.RUN_TAG, tag)).as("processes of this test's run").isEmpty();
    }

    /**
     * Classes of other libraries may still be missing (a call that fails as the JVM exits records
     * its failure through tracing's), but no Folk class, and no Folk thread may die.
     */
    private void assertNoFolkClassMissing() {
        assertThat(log()).doesNotContain("NoClassDefFoundError: dev/folk/").doesNotContain("ClassNotFoundException: dev.folk.")
                .doesNotContain("Exception in thread \"folk-").doesNotContain("Exception in thread \"SIGTERM handler\"");
    }

    private static boolean holdsFolkClasses(Path entry) throws IOException {
        if (Files.isDirectory(entry)) {
            return Files.isDirectory(entry.resolve("dev/folk"));
        }
        try (ZipFile zip = new ZipFile(entry.toFile())) {
            return zip.stream().anyMatch(e -> e.getName().startsWith("dev/folk/"));
        }
    }

    private static void jar(Path directory, Path jar) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
             Stream<Path> files = Files.walk(directory)) {
            for (Path file : (Iterable<Path>) files.sorted()::iterator) {
                String name = directory.relativize(file).toString().replace(File.separatorChar, '/');
                if (name.isEmpty()) {
                    continue;
                }
                if (Files.isDirectory(file)) {
                    out.putNextEntry(new JarEntry(name + "/"));
                } else {
                    out.putNextEntry(new JarEntry(name));
                    Files.copy(file, out);
                }
                out.closeEntry();
            }
        }
    }

    private String log() {
        return jvm == null ? "" : jvm.log();
    }
}
