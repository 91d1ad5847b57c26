package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.folk.core.testing.ChildJvm;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/**
 * The JVM cannot start a thread for a while: the limit on its tasks is reached (a container's
 * pids.max, the user's ulimit -u), which the PHP workers count against too. A worker that exits
 * then is still stopped, reaped and replaced once threads start again; it used to stay "stopping"
 * for good (the OutOfMemoryError of the stopper's thread start was lost), the pool short of a
 * worker with health UP.
 *
 * <p>A child JVM is put in a pids cgroup (v1, as root) whose limit is its task count at that moment.
 */
class ThreadLimitTest {

    private static final Path PIDS = Path.of("/sys/fs/cgroup/pids");

    @Test
    void aWorkerThatExitsWhileNoThreadCanStartIsReplacedOnceThreadsStartAgain() throws Exception {
        String tag = Workers.newTag();
        Path group = newGroup(tag);
        try (ChildJvm child = child(tag)) {
            String[] pids = child.awaitLine("READY ", Duration.ofSeconds(60)).substring(6).split(",");
            assertThat(pids).hasSize(3);
            Files.writeString(group.resolve("cgroup.procs"), String.valueOf(child.pid()));
            Files.writeString(group.resolve("pids.max"), Files.readString(group.resolve("pids.current")).trim());

            int victim = Integer.parseInt(pids[0]);
            ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL
            Procs.await(Duration.ofSeconds(10), "the pool's error line about threads",
                    () -> child.transcript().contains("could not start a thread"));
            assertThat(child.transcript()).contains("Pool 'limited'", "ulimit -u", "pids.max");

            Files.writeString(group.resolve("pids.max"), "max");
            OutputStream stdin = child.process().getOutputStream();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            String status;
            do {
                send(stdin, "STATUS");
                status = child.awaitLine("STATUS ", Duration.ofSeconds(5));
            } while (!status.contains("ready=3 stopping=0") && System.nanoTime() - deadline < 0 && pause());
            assertThat(status).as("back to 3 workers once threads start; the transcript:%n%s", child.transcript())
                    .contains("ready=3 stopping=0").doesNotContain(String.valueOf(victim) + ",")
                    .doesNotEndWith("," + victim);
            assertThat(Path.of("/proc/" + victim)).as("the killed worker reaped").doesNotExist();
        } finally {
            removeGroup(group);
        }
    }

    /**
     * Idle workers retired while no thread can start for their stop (a pool closed, an elastic pool
     * shrinking after a burst): their fd 3 is closed at once, which needs no thread, so they exit and
     * free the tasks the stop's thread needs. Their stop used to wait for a thread, holding those
     * very tasks: the pool stayed "stopping" until the limit was raised.
     */
    @Test
    void idleWorkersRetiredWhileNoThreadCanStartExitAndFreeTheTasksTheirStopNeeds() throws Exception {
        String tag = Workers.newTag();
        Path group = newGroup(tag);
        try (ChildJvm child = child(tag, "later")) {
            String[] pids = startAtTheLimit(child, group);
            OutputStream stdin = child.process().getOutputStream();

            send(stdin, "CLOSE");
            child.awaitLine("CLOSED", Duration.ofSeconds(15));
            assertThat(child.transcript()).as("no thread could start for the stop").contains("could not start a thread");
            for (String pid : pids) {
                assertThat(Path.of("/proc/" + pid)).as("worker %s exited and reaped (%s); the transcript:%n%s", pid, readQuietly(Path.of("/proc/" + pid + "/stat")), child.transcript()).doesNotExist();
            }
        } finally {
            removeGroup(group);
        }
    }

    /**
     * An asynchronous call that takes an idle worker while no thread can start to run it fails once
     * it has waited acquire-timeout, and its worker goes back to the pool. It used to wait for a
     * thread as long as the limit lasted, its caller (an HTTP client of the gateway) without an answer.
     */
    @Test
    void anAsyncCallNoThreadCanStartForFailsAfterAcquireTimeoutAndGivesItsWorkerBack() throws Exception {
        String tag = Workers.newTag();
        Path group = newGroup(tag);
        try (ChildJvm child = child(tag, "later")) {
            startAtTheLimit(child, group);
            OutputStream stdin = child.process().getOutputStream();

            send(stdin, "ASYNC");
            // acquire-timeout 2 s, then up to a second until the next retry: 15 s is ample
            String failed = child.awaitLine("ASYNC ", Duration.ofSeconds(15));
            assertThat(failed).as("the transcript:%n%s", child.transcript()).startsWith("ASYNC FAILED")
                    .contains("'pid'", "could not start a thread", "acquire-timeout 2s",
                            "pids.max");
            send(stdin, "STATUS");
            assertThat(child.awaitLine("STATUS ", Duration.ofSeconds(5))).as("its worker given back")
                    .contains("ready=3", "busy=0");

            Files.writeString(group.resolve("pids.max"), "max");
            send(stdin, "ASYNC");
            assertThat(child.awaitLine("ASYNC ", Duration.ofSeconds(15))).as("the pool serves async calls again")
                    .startsWith("ASYNC OK");
        } finally {
            removeGroup(group);
        }
    }

    /**
     * Moves a "later" child into {@code group}, starts its pool there (the workers count against the
     * group's limit), then sets the limit to the tasks it has: no thread can start. Returns the workers' pids.
     */
    private static String[] startAtTheLimit(ChildJvm child, Path group) throws Exception {
        child.awaitLine("WAITING", Duration.ofSeconds(60));
        Files.writeString(group.resolve("cgroup.procs"), String.valueOf(child.pid()));
        send(child.process().getOutputStream(), "START");
        String[] pids = child.awaitLine("READY ", Duration.ofSeconds(60)).substring(6).split(",");
        assertThat(pids).hasSize(3);
        Files.writeString(group.resolve("pids.max"), Files.readString(group.resolve("pids.current")).trim());
        return pids;
    }

    /** A new pids cgroup (v1); skips the test where there is none to write to. */
    private static Path newGroup(String tag) throws IOException {
        assumeTrue(Files.isWritable(PIDS.resolve("cgroup.procs")) && "root".equals(System.getProperty("user.name")),
                "needs a writable cgroup v1 pids hierarchy and root");
        return Files.createDirectory(PIDS.resolve("folk-test-" + tag));
    }

    /** Lifts the group's limit, waits for its tasks to end and removes it. */
    private static void removeGroup(Path group) throws IOException {
        Files.writeString(group.resolve("pids.max"), "max");
        Procs.await(Duration.ofSeconds(10), "the cgroup empty", () -> readQuietly(group.resolve("cgroup.procs")).isBlank());
        Files.delete(group);
    }

    private static ChildJvm child(String... args) throws IOException {
        return ChildJvm.start(Path.of(System.getProperty("java.home")), Runtime.version().feature(), List.of(),
                List.of("-XX:+UseSerialGC", "-Xss512k"), ThreadLimitChildMain.class, args);
    }

    private static void send(OutputStream stdin, String line) throws IOException {
        stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

    private static boolean pause() {
        java.util.concurrent.locks.LockSupport.parkNanos(200_000_000L);
        return true;
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }
}
