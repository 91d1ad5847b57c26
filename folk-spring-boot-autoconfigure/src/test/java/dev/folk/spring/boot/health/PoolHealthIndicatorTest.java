package dev.folk.spring.boot.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

import dev.folk.core.os.NativeOs;
import dev.folk.core.os.Os;
import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.PoolState;
import dev.folk.core.pool.WorkerInfo;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.TestWorkers;

/** The health of one pool through its states, with real workers. */
class PoolHealthIndicatorTest {

    private final String tag = Workers.newTag();
    private final Supervisor supervisor = new Supervisor();

    @AfterEach
    void close() {
        supervisor.close();
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void unknownBeforeStartUpWhileRunningOutOfServiceOnceClosed() {
        WorkerSpec spec = WorkerSpec.builder("php").args(TestWorkers.ECHO.toString())
                .environment(Workers.RUN_TAG, tag).build();
        WorkerPool pool = new WorkerPool(PoolConfig.builder("web", spec).size(2).build(), supervisor);
        PoolHealthIndicator indicator = new PoolHealthIndicator(pool);
        assertThat(indicator.health().getStatus()).isEqualTo(Status.UNKNOWN);

        pool.start();
        assertThat(pool.awaitReady(2, Duration.ofSeconds(10))).isTrue();
        Health up = indicator.health();
        assertThat(up.getStatus()).isEqualTo(Status.UP);
        assertThat(up.getDetails()).containsEntry("size", 2).containsEntry("ready", 2L).containsEntry("idle", 2L)
                .containsEntry("busy", 0L).containsEntry("starting", 0L).containsEntry("state", "RUNNING")
                .doesNotContainKey("lastFailure").doesNotContainKey("lastFailureAt");

        pool.close();
        assertThat(indicator.health().getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
    }

    /**
     * An elastic pool with min-size 0 lets its last idle worker go (as PHP-FPM's pm = ondemand does):
     * nothing is wrong, the next call starts a worker, so the instance must not report itself down.
     */
    @Test
    void upWhileAnElasticPoolHasScaledToZero() throws Exception {
        WorkerSpec spec = WorkerSpec.builder("php").args(TestWorkers.ECHO.toString())
                .environment(Workers.RUN_TAG, tag).build();
        WorkerPool pool = new WorkerPool(PoolConfig.builder("ondemand", spec).minSize(0).maxSize(2)
                .maxIdle(Duration.ofMillis(200)).build(), supervisor);
        PoolHealthIndicator indicator = new PoolHealthIndicator(pool);
        pool.start();
        assertThat(pool.awaitReady(1, Duration.ofSeconds(10))).isTrue();
        Procs.await(Duration.ofSeconds(10), "the idle worker gone", () -> pool.snapshot().workers().isEmpty());

        Health idle = indicator.health();
        assertThat(idle.getStatus()).isEqualTo(Status.UP);
        assertThat(idle.getDetails()).containsEntry("state", "RUNNING").containsEntry("ready", 0L)
                .containsEntry("targetSize", 0).containsEntry("minSize", 0);
        assertThat(pool.call("echo", "back")).isEqualTo("back");
        assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
        pool.close();
    }

    /**
     * The script broke (a deploy, an edit) after the pool started: the worker that is left serves on,
     * so the pool is UP with its state BROKEN and the failure, not DOWN, which a readiness group
     * including folk would turn into no traffic at all. DOWN once it has no worker ready.
     */
    @Test
    void upWhileBrokenButServingWithTheWorkersItHasDownOnceNoneIsLeft(@TempDir Path tmp) throws Exception {
        Path healthy = Files.createFile(tmp.resolve("healthy"));
        WorkerSpec spec = WorkerSpec.builder("sh").args("-c",
                "[ -e \"$1\" ] || { echo 'cannot start: script broken' >&2; exit 3; }; exec php \"$2\"", "sh",
                healthy.toString(), TestWorkers.ECHO.toString()).environment(Workers.RUN_TAG, tag).build();
        WorkerPool pool = new WorkerPool(PoolConfig.builder("half", spec).size(2).brokenThreshold(2)
                .backoffInitial(Duration.ofMillis(10)).backoffMax(Duration.ofMinutes(5)).build(), supervisor);
        PoolHealthIndicator indicator = new PoolHealthIndicator(pool);
        pool.start();
        assertThat(pool.awaitReady(2, Duration.ofSeconds(10))).isTrue();
        Files.delete(healthy);
        List<Integer> pids = pool.snapshot().workers().stream().map(WorkerInfo::pid).toList();
        assertThat(NativeOs.get().kill(pids.get(0), Os.SIGKILL)).isZero();
        Procs.await(Duration.ofSeconds(10), "pool BROKEN", () -> pool.state() == PoolState.BROKEN);

        Health serving = indicator.health();
        assertThat(serving.getStatus()).isEqualTo(Status.UP);
        assertThat(serving.getDetails()).containsEntry("state", "BROKEN").containsEntry("ready", 1L);
        assertThat((String) serving.getDetails().get("lastFailure")).contains("ended before control.ready", "exit 3");
        // Why it ended, as the worker said it: the failure itself only says how.
        Procs.await(Duration.ofSeconds(10), "the failed boot's output in the details", () -> String.valueOf(
                indicator.health().getDetails().get("lastFailureOutput")).contains("stderr: cannot start: script broken"));
        assertThat(pool.call("echo", "still")).isEqualTo("still");

        assertThat(NativeOs.get().kill(pids.get(1), Os.SIGKILL)).isZero();
        Procs.await(Duration.ofSeconds(10), "no worker ready", () -> pool.snapshot().ready() == 0);
        assertThat(indicator.health().getStatus()).isEqualTo(Status.DOWN);
        pool.close();
    }

    @Test
    void downWhenBrokenWithTheLastFailure() {
        WorkerSpec spec = WorkerSpec.builder("/bin/sh").args("-c", "exit 3").environment(Workers.RUN_TAG, tag).build();
        WorkerPool pool = new WorkerPool(PoolConfig.builder("broken", spec).size(1).brokenThreshold(2)
                .backoffInitial(Duration.ofMillis(10)).backoffMax(Duration.ofMillis(50)).build(), supervisor);
        PoolHealthIndicator indicator = new PoolHealthIndicator(pool);
        pool.start();
        Procs.await(Duration.ofSeconds(10), "pool BROKEN", () -> pool.state() == PoolState.BROKEN);

        Health down = indicator.health();
        assertThat(down.getStatus()).isEqualTo(Status.DOWN);
        assertThat(down.getDetails()).containsEntry("state", "BROKEN").containsEntry("ready", 0L);
        assertThat((String) down.getDetails().get("lastFailure")).isNotBlank();
        assertThat(down.getDetails()).as("it printed nothing").doesNotContainKey("lastFailureOutput");
        assertThat(Instant.parse((String) down.getDetails().get("lastFailureAt"))).isBefore(Instant.now());
        pool.close();
    }
}
