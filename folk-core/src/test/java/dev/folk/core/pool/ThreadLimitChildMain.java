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
 * exists already) with the pool's ready and stopping counts and its workers' pids. With a second
 * argument "later", it prints "WAITING" and starts the pool at a "START" line (once in the limited
 * group: the workers count against its limit); "CLOSE" closes the pool and prints "CLOSED"; "ASYNC"
 * makes an asynchronous call and prints "ASYNC OK <pid>" or "ASYNC FAILED <message>" when it ends.
 */
public final class ThreadLimitChildMain {

    public static void main(String[] args) throws Exception {
        Supervisor supervisor = new Supervisor();
        WorkerPool pool = null;
        if (args.length > 1 && args[1].equals("later")) {
            System.out.println("WAITING");
        } else {
            pool = start(args[0], supervisor);
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("START") && pool == null) {
                pool = start(args[0], supervisor);
            } else if (line.equals("STATUS") && pool != null) {
                PoolSnapshot s = pool.snapshot();
                System.out.println("STATUS ready=" + s.ready() + " stopping=" + s.count(WorkerState.STOPPING)
                        + " busy=" + s.count(WorkerState.BUSY)
                        + " pids=" + pids(pool));
            } else if (line.equals("ASYNC") && pool != null) {
                pool.callAsync("pid", null).whenComplete((pid, error) -> System.out.println(
                        error == null ? "ASYNC OK " + pid : "ASYNC FAILED " + error.getMessage()));
            } else if (line.equals("CLOSE") && pool != null) {
                pool.close();
                System.out.println("CLOSED");
            }
        }
        if (pool != null) {
            pool.close();
        }
        supervisor.close();
    }

    private static WorkerPool start(String tag, Supervisor supervisor) {
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("limited", PhpWorkers.testWorker(tag).build())
                .size(3).backoffMax(Duration.ofMillis(500)).acquireTimeout(Duration.ofSeconds(2)).build(), supervisor);
        if (!pool.awaitReady(3, Duration.ofSeconds(20))) {
            throw new IllegalStateException("pool not ready: " + pool.lastFailure());
        }
        System.out.println("READY " + pids(pool));
        return pool;
    }

    private static String pids(WorkerPool pool) {
        return pool.snapshot().workers().stream().map(w -> String.valueOf(w.pid())).sorted()
                .collect(Collectors.joining(","));
    }
}
