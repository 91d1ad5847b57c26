package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/**
 * The pool runs any executable that speaks the protocol: a Python worker written from
 * docs/PROTOCOL.md alone (workers/python-worker.py). Needs Debian's python3 and python3-msgpack
 * (.ci/run installs them); skipped without them, except on CI ({@code CI=true}), where it fails.
 */
class NonPhpWorkerTest {

    private static final String PYTHON = "/usr/bin/python3";
    private static final Path WORKER = Path.of("src/test/resources/workers/python-worker.py").toAbsolutePath();

    /** Skips (fails with CI=true) without python3-msgpack; in the test, so that the report counts it skipped. */
    private static void needsPythonWithMsgpack() throws Exception {
        boolean usable = false;
        if (Path.of(PYTHON).toFile().canExecute()) {
            Process p = new ProcessBuilder(PYTHON, "-c", "import msgpack").redirectErrorStream(true).start();
            usable = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        }
        if (!usable) {
            String why = "needs " + PYTHON + " with msgpack: apt-get install python3-msgpack";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(why + " (CI=true: this test must run on CI)");
            }
            Assumptions.abort(why);
        }
    }

    @Test
    void aPythonWorkerServesCallsErrorsAndItsOwnExit() throws Exception {
        needsPythonWithMsgpack();
        String tag = Workers.newTag();
        WorkerSpec spec = WorkerSpec.builder(PYTHON).name("python").args(WORKER.toString())
                .environment(Workers.RUN_TAG, tag).output(OutputPolicy.log()).build();
        try (Supervisor supervisor = new Supervisor();
             WorkerPool pool = PoolTesting.ready(PoolConfig.builder("python", spec).size(2).build(), supervisor)) {
            assertThat(pool.call("echo", Map.of("text", "hi"))).isEqualTo(Map.of("text", "hi"));
            assertThat(pool.call("add", Map.of("a", 2, "b", 3), Integer.class)).isEqualTo(5);
            assertThat(pool.call("echo", null)).as("nil params").isNull();
            assertThat(pool.call("nothing", "x")).as("a nil result with a nil error is a success").isNull();
            assertThat((byte[]) pool.call("bytes", null)).hasSize(256);

            WorkerErrorException thrown = assertThrows(WorkerErrorException.class, () -> pool.call("fail", "x"));
            assertThat(thrown.code()).isEqualTo(-32603);
            assertThat(thrown.getMessage()).contains("python says no: x");
            assertThat(thrown.remoteType()).isEqualTo("ValueError");
            assertThat(thrown.remoteLocation()).startsWith(WORKER + ":");
            WorkerErrorException missing = assertThrows(WorkerErrorException.class, () -> pool.call("nope", null));
            assertThat(missing.code()).isEqualTo(-32601);

            // {"exiting": true}: the answer counts, the worker leaves, another takes its place.
            assertThat(pool.call("exit", null)).isEqualTo("bye");
            Procs.await(Duration.ofSeconds(10), "the exiting worker replaced",
                    () -> pool.snapshot().exits().get(ExitReason.EXITED) == 1L && pool.snapshot().ready() == 2);
            assertThat(pool.call("echo", "after")).isEqualTo("after");
        }
        Procs.await(Duration.ofSeconds(10), "no python worker left", () -> Procs.aliveWithEnv(Workers.RUN_TAG, tag).isEmpty());
    }
}
