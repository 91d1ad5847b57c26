package dev.folk.benchmarks;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.protocol.Message;
import dev.folk.core.protocol.MessageCodec;
import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerProcess;
import dev.folk.core.supervision.WorkerSpec;

/** The workers the benchmarks drive, and the few protocol steps done without a pool. */
final class Workers {

    /** The 64-byte message of every echo comparison (the C master sends the same bytes as a str). */
    static final String PAYLOAD_64 = payload(64);

    private Workers() {
    }

    /** 'a'..'z' repeated, like the C master's payload. */
    static String payload(int size) {
        StringBuilder sb = new StringBuilder(size);
        for (int i = 0; i < size; i++) {
            sb.append((char) ('a' + i % 26));
        }
        return sb.toString();
    }

    /** A worker kind of the comparisons: its label and its command line. */
    record Kind(String label, List<String> command) {
        WorkerSpec spec(String name) {
            return WorkerSpec.builder(command.get(0)).name(name).args(command.subList(1, command.size()))
                    .output(OutputPolicy.discard()).build();
        }
    }

    static Kind cEcho(Env env) {
        return new Kind("C echo-worker", List.of(env.cEcho.toString()));
    }

    /** The PHP echo worker of folk-worker-php, with the distribution's php.ini (ext-msgpack loaded). */
    static Kind phpEcho(Env env) {
        return new Kind("PHP echo-worker", List.of(env.php, env.phpEcho.toString()));
    }

    /** The same worker without php.ini: only ext-msgpack is loaded. */
    static Kind phpEchoBare(Env env) {
        return new Kind("PHP echo-worker (php -n -d extension=msgpack)",
                List.of(env.php, "-n", "-d", "extension=msgpack", env.phpEcho.toString()));
    }

    static WorkerPool pool(Supervisor supervisor, Kind kind, int size) {
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("bench-" + size, kind.spec("bench")).size(size)
                .build(), supervisor);
        if (!pool.awaitReady(size, Duration.ofSeconds(30))) {
            pool.close();
            throw new IllegalStateException(kind.label() + " pool of " + size + " did not become ready: "
                    + pool.lastFailure());
        }
        return pool;
    }

    /** Reads the worker's control.ready from fd 4 (blocking). */
    static void handshake(WorkerProcess p) throws IOException {
        MessageCodec codec = new MessageCodec(4096, "worker " + p.pid());
        Message m = codec.readMessage(p.controlChannel());
        if (!(m instanceof Message.Notify n) || !n.method().equals("control.ready")) {
            throw new IOException("worker " + p.pid() + " sent " + m + " instead of control.ready");
        }
    }

    /** Stops a worker the clean way (close fd 3: a Folk worker exits 0), then the ladder. */
    static void stop(Supervisor supervisor, WorkerProcess p) {
        p.taskChannel().close();
        supervisor.awaitExit(p, Duration.ofSeconds(2));
        supervisor.terminate(p, Duration.ofSeconds(1));
    }

    /** Pids of a pool's workers. */
    static List<Integer> pids(WorkerPool pool) {
        List<Integer> pids = new ArrayList<>();
        pool.snapshot().workers().forEach(w -> pids.add(w.pid()));
        return pids;
    }

    static Path abs(Path p) {
        return p.toAbsolutePath().normalize();
    }
}
