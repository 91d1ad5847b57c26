package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;

import dev.folk.core.supervision.Supervisor;

/** What most pool tests start with. */
final class PoolTesting {

    private PoolTesting() {
    }

    /** Starts the pool and waits until every worker is ready. */
    static WorkerPool ready(PoolConfig config, Supervisor supervisor) {
        WorkerPool pool = WorkerPool.start(config, supervisor);
        assertThat(pool.awaitReady(config.size(), Duration.ofSeconds(10))).as("pool ready").isTrue();
        return pool;
    }

    /** The pids of the pool's live workers. */
    static Set<Integer> pids(WorkerPool pool) {
        return pool.snapshot().workers().stream().map(WorkerInfo::pid).collect(Collectors.toSet());
    }
}
