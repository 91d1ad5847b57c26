package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import dev.folk.core.testing.LogCapture;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.SharedSupervisor;
import dev.folk.core.testing.Workers;

/** How workers' output lines reach the log or the output file: as PHP-FPM would log them, nothing lost. */
class WorkerOutputTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    private static final String CUT = " [line cut at 16 KiB: continued on the next line]";

    @Test
    void aLineLongerThan16KiBGoesOnInFurtherLinesAndACharacterIsNeverSplit() throws Exception {
        String name = "long-lines-" + System.nanoTime();
        // 16383 x, then é (2 bytes) across the 16 KiB mark, then 20000 y: 36385 bytes in one line.
        String script = "head -c 16383 /dev/zero | tr '\\0' x; printf '\\303\\251'; head -c 20000 /dev/zero | tr '\\0' y;"
                + " echo; echo after";
        try (LogCapture logs = LogCapture.of("dev.folk.worker." + name)) {
            WorkerProcess p = SUPERVISOR.get().spawn(Workers.sh(Workers.newTag(), script).name(name).build());
            p.onExit().get(10, TimeUnit.SECONDS);
            SUPERVISOR.get().terminate(p, Duration.ofSeconds(5));
            p.onOutputClosed().get(10, TimeUnit.SECONDS);
            String pid = "[pid " + p.pid() + "] ";
            List<String> lines = logs.containing(pid).stream().map(m -> runs(m.substring(pid.length()))).toList();
            assertThat(lines).containsExactly("x*16383 +", "éy*16382 +", "y*3618", "after");
        }
    }

    @Test
    void aPartialLineQuietFor200MsIsALineOfItsOwnNotGluedToTheNextOne(@TempDir Path tmp) throws Exception {
        String name = "partial-lines-" + System.nanoTime();
        // What error_log($m, 3, 'php://stderr') writes: no newline. Each next write waits for the test.
        String script = "printf PARTIAL-1 >&2; " + awaitFile(tmp.resolve("go-1")) + "printf PARTIAL-2 >&2; "
                + awaitFile(tmp.resolve("go-2")) + "echo 'real line' >&2; exec sleep 1000";
        try (LogCapture logs = LogCapture.of("dev.folk.worker." + name)) {
            WorkerProcess p = SUPERVISOR.get().spawn(Workers.sh(Workers.newTag(), script).name(name).build());
            String pid = "[pid " + p.pid() + "] ";
            try {
                Procs.await(Duration.ofSeconds(5), "the first fragment logged, the worker idle",
                        () -> !logs.warningsContaining(pid + "PARTIAL-1").isEmpty());
                Files.createFile(tmp.resolve("go-1"));
                Procs.await(Duration.ofSeconds(5), "the second fragment logged",
                        () -> !logs.warningsContaining(pid + "PARTIAL-2").isEmpty());
                Files.createFile(tmp.resolve("go-2"));
                Procs.await(Duration.ofSeconds(5), "the line logged", () -> !logs.warningsContaining("real line").isEmpty());
                assertThat(logs.warningsContaining(pid)).containsExactly(pid + "PARTIAL-1", pid + "PARTIAL-2",
                        pid + "real line");
            } finally {
                SUPERVISOR.get().terminate(p, Duration.ofSeconds(5));
            }
        }
    }

    @Test
    void aFragmentBeforeABacktraceBlockLeavesTheBlockWholeForItsSink(@TempDir Path tmp) throws Exception {
        String name = "partial-block-" + System.nanoTime();
        String block = "folk-backtrace-begin pid=1 msgid=7\\n#0 /app/x.php:5 f()\\nfolk-backtrace-end\\n";
        // The fragment, quiet, then the block in one write(2) as folk-worker-php writes it, then a line.
        String script = "printf 'app fragment' >&2; " + awaitFile(tmp.resolve("go")) + "printf '" + block + "' >&2; "
                + "echo after >&2; exec sleep 1000";
        List<List<String>> taken = new CopyOnWriteArrayList<>();
        try (LogCapture logs = LogCapture.of("dev.folk.worker." + name)) {
            WorkerProcess p = SUPERVISOR.get().spawn(Workers.sh(Workers.newTag(), script).name(name).build());
            p.divertStderrBlocks(new StderrBlocks("folk-backtrace-begin ", "folk-backtrace-end", 60, taken::add));
            String pid = "[pid " + p.pid() + "] ";
            try {
                Procs.await(Duration.ofSeconds(5), "the fragment logged", () -> !logs.warningsContaining("app fragment").isEmpty());
                Files.createFile(tmp.resolve("go"));
                Procs.await(Duration.ofSeconds(5), "the line after the block logged",
                        () -> !logs.warningsContaining("after").isEmpty());
                assertThat(taken).containsExactly(List.of("folk-backtrace-begin pid=1 msgid=7", "#0 /app/x.php:5 f()",
                        "folk-backtrace-end"));
                assertThat(logs.warningsContaining(pid)).containsExactly(pid + "app fragment", pid + "after");
            } finally {
                SUPERVISOR.get().terminate(p, Duration.ofSeconds(5));
            }
        }
    }

    @Test
    void anOutputFileRotatedAwayIsReopenedAndNoLineIsLostOrWrittenTwice(@TempDir Path tmp) throws Exception {
        Path log = tmp.resolve("workers.log");
        Path rotated = tmp.resolve("workers.log.1");
        try (LogCapture logs = LogCapture.of(IoLoop.class)) {
            WorkerProcess p = SUPERVISOR.get().spawn(counter(log).build());
            try {
                awaitLines(log, 3);
                // logrotate without copytruncate, its create option in one step: the old file is
                // moved away and a new empty one has its name
                Path fresh = Files.createFile(tmp.resolve("workers.log.new"));
                Files.createLink(rotated, log);
                Files.move(fresh, log, StandardCopyOption.ATOMIC_MOVE);
                awaitLines(log, 3);
            } finally {
                SUPERVISOR.get().terminate(p, Duration.ofSeconds(5));
                p.onOutputClosed().get(10, TimeUnit.SECONDS);
            }
            List<Integer> before = numbers(rotated);
            List<Integer> after = numbers(log);
            assertThat(before).as("lines before the reopen").isEqualTo(IntStream.range(0, before.size()).boxed().toList());
            assertThat(after).as("lines after it, each once, none missing")
                    .isEqualTo(IntStream.range(before.size(), before.size() + after.size()).boxed().toList());
            assertThat(logs.containing("Reopened worker output file " + log)).singleElement().asString()
                    .contains("named another file").doesNotContain("no file");
        }
    }

    @Test
    void anOutputFileRemovedIsCreatedAgain(@TempDir Path tmp) throws Exception {
        Path log = tmp.resolve("workers.log");
        try (LogCapture logs = LogCapture.of(IoLoop.class)) {
            WorkerProcess p = SUPERVISOR.get().spawn(counter(log).build());
            try {
                awaitLines(log, 3);
                Files.delete(log);
                awaitLines(log, 3);
            } finally {
                SUPERVISOR.get().terminate(p, Duration.ofSeconds(5));
                p.onOutputClosed().get(10, TimeUnit.SECONDS);
            }
            List<Integer> after = numbers(log);
            assertThat(after.get(0)).as("written into the removed file until the reopen").isPositive();
            assertThat(after).isEqualTo(IntStream.range(after.get(0), after.get(0) + after.size()).boxed().toList());
            assertThat(logs.containing("Reopened worker output file " + log)).singleElement().asString()
                    .contains("named no file");
        }
    }

    /** A full disk: one warning for the first line that cannot be written, not one per line. */
    @Test
    void anOutputFileThatCannotBeWrittenIsWarnedOfOnceNotAtEveryLine() throws Exception {
        Path full = Path.of("/dev/full"); // every write(2) fails with ENOSPC
        // Linux always has it; skipped (said so) only on a system without it, where no write can be made to fail so.
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(full),
                "needs a writable /dev/full (the device whose every write fails with ENOSPC) to stand for a full disk");
        try (LogCapture logs = LogCapture.of(IoLoop.class)) {
            WorkerProcess p = SUPERVISOR.get().spawn(counter(full).build());
            try {
                Procs.await(Duration.ofSeconds(10), "10 lines written by the worker",
                        () -> p.recentOutput().stream().anyMatch(l -> l.contains("line 10")));
            } finally {
                SUPERVISOR.get().terminate(p, Duration.ofSeconds(5));
                p.onOutputClosed().get(10, TimeUnit.SECONDS);
            }
            assertThat(logs.warningsContaining("Cannot append worker output to " + full)).singleElement().asString()
                    .contains("No space left on device").contains("dropped until it works again");
        }
    }

    /** A worker appending {@code line <n>} to {@code log}, counting from 0, 20 lines a second. */
    private static WorkerSpec.Builder counter(Path log) {
        return Workers.sh(Workers.newTag(), "i=0; while :; do echo \"line $i\"; i=$((i + 1)); sleep 0.05; done")
                .name("counter").output(OutputPolicy.appendTo(log));
    }

    private static void awaitLines(Path file, int count) {
        Procs.await(Duration.ofSeconds(10), count + " lines in " + file, () -> Files.exists(file) && numbers(file).size() >= count);
    }

    /** The numbers of the {@code line <n>} lines of an output file. */
    private static List<Integer> numbers(Path file) {
        try {
            return Files.readAllLines(file).stream().map(l -> Integer.parseInt(l.substring(l.indexOf("line ") + 5))).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A shell loop until {@code file} exists: the worker waits for the test, whatever the machine's load. */
    private static String awaitFile(Path file) {
        return "while [ ! -e '" + file + "' ]; do sleep 0.02; done; ";
    }

    /**
     * The line with each run of x or y written as its count and the cut mark as {@code +}, e.g.
     * {@code x*16383 +}: readable when it fails.
     */
    private static String runs(String line) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("x+|y+").matcher(line.replace(CUT, " +"));
        return m.replaceAll(r -> r.group().charAt(0) + "*" + r.group().length());
    }
}
