package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import dev.folk.core.testing.Procs;
import dev.folk.spring.boot.lifecycle.FolkSignalHandler;

/** An application in a child JVM, for the tests that end it with signals: its process and every line it printed. */
final class ChildJvm {

    private final Process process;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private volatile long lastSignalNanos;

    private ChildJvm(Process process) {
        this.process = process;
    }

    /**
     * Starts {@code main} on {@code classPath} with {@code args}, with the JVM options the build gives
     * tests ({@code folk.test.jvm-args}), its output read into {@link #log()} as it comes.
     */
    static ChildJvm start(String classPath, Class<?> main, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String jvmArgs = System.getProperty("folk.test.jvm-args", "--enable-native-access=ALL-UNNAMED");
        command.addAll(Arrays.stream(jvmArgs.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList());
        command.addAll(List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classPath, main.getName()));
        command.addAll(args);
        ChildJvm child = new ChildJvm(new ProcessBuilder(command).redirectErrorStream(true).start());
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(child.process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    child.output.add(line);
                }
            } catch (IOException ignored) {
                // the child is gone
            }
        }, "child-output");
        reader.setDaemon(true);
        reader.start();
        return child;
    }

    Process process() {
        return process;
    }

    /** The first line holding {@code fragment}, once printed; fails if the child exits first or the time passes. */
    String awaitLine(String fragment, Duration timeout) {
        String[] found = new String[1];
        try {
            Procs.await(timeout, "a line with '" + fragment + "'", () -> {
                found[0] = output.stream().filter(l -> l.contains(fragment)).findFirst().orElse(null);
                return found[0] != null || !process.isAlive();
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; output:\n" + log());
        }
        if (found[0] == null) {
            throw new AssertionError("child exited (" + process.exitValue() + ") before '" + fragment + "'; output:\n"
                    + log());
        }
        return found[0];
    }

    /** Sends the signal {@code name} (TERM, INT...) with kill(1), as an operator would. */
    void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
        assertThat(kill.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
        lastSignalNanos = System.nanoTime();
    }

    /**
     * An operator's second signal: sent once more than {@link FolkSignalHandler#SAME_SIGNAL_WINDOW}
     * has passed since the one before, within which it would be taken as the same one sent twice.
     */
    void signalAgain(String name) throws Exception {
        long after = lastSignalNanos + FolkSignalHandler.SAME_SIGNAL_WINDOW.toNanos() + 200_000_000L;
        while (System.nanoTime() - after < 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
        }
        signal(name);
    }

    /** Everything the child printed so far. */
    String log() {
        return String.join("\n", output);
    }

    /** Ends the child if it still runs, and prints what it printed, for the test's report. */
    void destroy() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
        System.out.println("---- child output ----\n" + log());
    }
}
