package dev.folk.core.pool;

import java.nio.file.Path;

import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.Workers;

/** Real PHP workers for pool tests. Paths are relative to the folk-core module directory. */
final class PhpWorkers {

    static final Path TEST_WORKER = Path.of("src/test/resources/workers/test-worker.php").toAbsolutePath();
    static final Path RAW_WORKER = Path.of("src/test/resources/workers/raw-worker.php").toAbsolutePath();
    static final Path ECHO_WORKER = Path.of("../folk-worker-php/src/main/php/bin/echo-worker.php").toAbsolutePath()
            .normalize();

    private PhpWorkers() {
    }

    /** Our library's test worker, tagged for /proc scans. */
    static WorkerSpec.Builder testWorker(String tag) {
        return WorkerSpec.builder("php").name("php-test").args(TEST_WORKER.toString())
                .environment(Workers.RUN_TAG, tag).output(OutputPolicy.log());
    }

    /** The raw-protocol worker in one of its modes (see raw-worker.php). */
    static WorkerSpec.Builder rawWorker(String tag, String... modeArgs) {
        String[] args = new String[modeArgs.length + 1];
        args[0] = RAW_WORKER.toString();
        System.arraycopy(modeArgs, 0, args, 1, modeArgs.length);
        return WorkerSpec.builder("php").name("php-raw").args(args).environment(Workers.RUN_TAG, tag);
    }
}
