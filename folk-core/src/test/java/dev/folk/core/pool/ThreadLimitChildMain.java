package dev.folk.core.pool;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.stream.Collectors;

import dev.folk.core.supervision.Supervisor;

/**
 * A JVM that {@link ThreadLimitTest} puts under a limit on its tasks: three PHP workers; it prints
 * "READY" with their pids, then answers each "STATUS" line on stdin (on the main thread, which
 * exists already) with the pool's ready and stopping counts and its workers' pids.
 */
public final class ThreadLimitChildMain {

    public static void main(String[] args) throws Exception {
        Supervisor supervisor = new Supervisor();
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("limited", PhpWorkers.testWorker(args[0]).build())
                .size(3).backoffMax(Duration.ofMillis(500)).build(), supervisor);
        if (!pool.awaitReady(3, Duration.ofSeconds(20))) {
            throw new IllegalStateException("pool not ready: " + pool.lastFailure());
        }
        System.out.println("READY " + pids(pool));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("STATUS")) {
                PoolSnapshot s = pool.snapshot();
                System.out.println("STATUS ready=" + s.ready() + " stopping=" + s.count(WorkerState.STOPPING)
                        + " pids=" + pids(pool));
            }
        }
        pool.close();
        supervisor.close();
    }

    private static String pids(WorkerPool pool) {
        return pool.snapshot().workers().stream().map(w -> String.valueOf(w.pid())).sorted()
                .collect(Collectors.joining(","));
    }
}
