package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/**
 * PHP's socket streams give up a read after {@code default_socket_timeout} (60 s by default): a
 * worker that took that for the master's end of stream left every idle pool a minute after it
 * went quiet, and the pool recorded each exit as a crash.
 */
class IdleWorkerTest {

    @Test
    void idleWorkersOutliveThePhpSocketTimeoutAndAnswerAfterIt() throws Exception {
        WorkerSpec spec = WorkerSpec.builder("php").name("php-idle")
                .args("-d", "default_socket_timeout=1", PhpWorkers.TEST_WORKER.toString())
                .environment(Workers.RUN_TAG, Workers.newTag()).output(OutputPolicy.log()).build();
        try (Supervisor supervisor = new Supervisor();
                WorkerPool pool = PoolTesting.ready(PoolConfig.builder("idle-timeout", spec).size(2).build(), supervisor)) {
            Set<Integer> pids = PoolTesting.pids(pool);
            assertThat(pids).hasSize(2);

            // The scenario itself, not synchronisation: both workers stay idle for five times
            // their socket timeout.
            Thread.sleep(5_000);

            // One worker is held by a slow call, so the echo must be served by the other one.
            CompletableFuture<Object> slow = pool.callAsync("sleep", 500);
            Procs.await(Duration.ofSeconds(10), "one worker busy with the slow call", () -> pool.snapshot().workers()
                    .stream().anyMatch(w -> w.state() == WorkerState.BUSY));
            assertThat(pool.call("echo", "from the other worker")).isEqualTo("from the other worker");
            assertThat(slow.get(10, TimeUnit.SECONDS)).isEqualTo(500L);
            assertThat(pool.call("echo", "again")).isEqualTo("again");

            PoolSnapshot snapshot = pool.snapshot();
            assertThat(snapshot.recentExits()).as("no worker left the pool").isEmpty();
            assertThat(PoolTesting.pids(pool)).as("the same two workers").isEqualTo(pids);
            assertThat(snapshot.workers()).as("both answered after idling").allMatch(w -> w.jobs() >= 1);
        }
    }
}
