package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/** Global teardown: one snapshot, KILL all groups, reap all, release all, in bounded time. */
class KillAndReapAllTest {

    @Test
    void twoHundredWorkersHalfIgnoringTermEachWithAGrandchildAreGoneWithinTheTeardownBound() throws Exception {
        String tag = Workers.newTag();
        Supervisor supervisor = new Supervisor();
        List<WorkerProcess> workers = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String script = (i % 2 == 0 ? "trap '' TERM; " : "") + "sleep 1000 & echo ready >&4; wait";
            workers.add(supervisor.spawn(Workers.sh(tag, script).build()));
        }
        for (WorkerProcess w : workers) {
            Workers.awaitLine(w.controlChannel(), "ready", Duration.ofSeconds(10));
        }
        Procs.await(Duration.ofSeconds(10), "400 tagged processes",
                () -> Procs.aliveWithEnv(Workers.RUN_TAG, tag).size() == 400);

        // Others keep using the supervisor meanwhile: a terminate in flight and a spawner.
        CompletableFuture<ExitStatus> concurrentStop = CompletableFuture.supplyAsync(
                () -> supervisor.terminate(workers.get(0), Duration.ofSeconds(30)));
        CompletableFuture<Integer> spawner = CompletableFuture.supplyAsync(() -> {
            int spawned = 0;
            try {
                while (true) {
                    supervisor.spawn(Workers.sh(tag, "exec sleep 1000").build());
                    spawned++;
                }
            } catch (SupervisorClosedException refused) {
                return spawned;
            }
        });

        long t0 = System.nanoTime();
        supervisor.killAndReapAll();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        System.out.printf("KILL_AND_REAP_ALL groups=200 ms=%d%n", ms);
        // Quiet 2-core machine: ~0.1-0.3 s. The teardown's own deadline is 2 s; a busy machine
        // (two busy loops beside the build) adds scheduling delay on top: bound 3 s.
        assertThat(ms).as("kill-and-reap-all of 200 groups, ms").isLessThanOrEqualTo(3000);
        assertThat(spawner.get(5, TimeUnit.SECONDS)).isNotNegative();
        assertThat(concurrentStop.get(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(supervisor.workers()).isEmpty();
        Procs.await(Duration.ofSeconds(2), "no tagged process alive",
                () -> Procs.aliveWithEnv(Workers.RUN_TAG, tag).isEmpty());
        assertThat(Procs.zombieChildren()).isEmpty();
        for (WorkerProcess w : workers) {
            assertThat(w.state()).isEqualTo(WorkerProcess.State.RELEASED);
        }
        SupervisorClosedException refused = assertThrows(SupervisorClosedException.class,
                () -> supervisor.spawn(Workers.sh(tag, "exit 0").build()));
        assertThat(refused.getMessage()).contains("shut down");
        supervisor.close(); // idempotent
    }
}
