package dev.folk.core.pool;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import dev.folk.core.supervision.Supervisor;

/**
 * A JVM about to be SIGKILLed: four PHP workers, each with a child of its own, two of them busy
 * in a call when "READY" is printed.
 */
public final class PoolInChildMain {

    public static void main(String[] args) throws Exception {
        Supervisor supervisor = new Supervisor();
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("doomed", PhpWorkers.testWorker(args[0]).build())
                .size(4).build(), supervisor);
        if (!pool.awaitReady(4, Duration.ofSeconds(20))) {
            throw new IllegalStateException("pool not ready: " + pool.lastFailure());
        }
        // Four concurrent calls land on four different workers: each starts a `sleep 1000` child.
        List<CompletableFuture<Object>> children = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            children.add(pool.callAsync("child_then_sleep", 300L));
        }
        for (CompletableFuture<Object> f : children) {
            f.join();
        }
        pool.callAsync("sleep", 400L);
        pool.callAsync("sleep", 400L);
        while (pool.snapshot().count(WorkerState.BUSY) < 2) {
            Thread.onSpinWait();
        }
        System.out.println("READY");
        Thread.sleep(Long.MAX_VALUE);
    }
}
