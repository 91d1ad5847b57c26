package dev.folk.benchmarks.jmh;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerSpec;

/**
 * {@code WorkerPool.call("echo", 64-char string)} from JMH's threads (1..16, set by the runner)
 * against a pool of the C echo worker or the PHP echo worker, 1 or 2 workers. Throughput of all
 * threads together. The worker programs are found under {@code -Dfolk.bench.root} (the checkout).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class CallBench {

    @Param({"c", "php"})
    public String worker;

    @Param({"1", "2"})
    public int size;

    private static final String PAYLOAD;

    static {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 64; i++) {
            sb.append((char) ('a' + i % 26));
        }
        PAYLOAD = sb.toString();
    }

    private Supervisor supervisor;
    private WorkerPool pool;

    @Setup(Level.Trial)
    public void start() {
        Path root = Path.of(System.getProperty("folk.bench.root", "."));
        List<String> command = worker.equals("c")
                ? List.of(root.resolve("benchmarks/target/native/echo-worker").toString())
                : List.of(System.getProperty("folk.bench.php", "php"),
                        root.resolve("folk-worker-php/src/main/php/bin/echo-worker.php").toString());
        WorkerSpec spec = WorkerSpec.builder(command.get(0)).name("jmh").args(command.subList(1, command.size()))
                .output(OutputPolicy.discard()).build();
        supervisor = new Supervisor();
        pool = WorkerPool.start(PoolConfig.builder("jmh", spec).size(size).build(), supervisor);
        if (!pool.awaitReady(size, Duration.ofSeconds(30))) {
            throw new IllegalStateException("pool not ready: " + pool.lastFailure());
        }
    }

    @TearDown(Level.Trial)
    public void stop() {
        pool.close();
        supervisor.close();
    }

    @Benchmark
    public Object call() {
        return pool.call("echo", PAYLOAD);
    }
}
