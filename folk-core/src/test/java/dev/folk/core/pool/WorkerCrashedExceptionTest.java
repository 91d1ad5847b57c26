package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A call's crashed worker: the message says where to look, by how the worker ended. */
class WorkerCrashedExceptionTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "exit 255|for a fatal error",
        "exit 0|for a fatal error",
        "killed by SIGKILL|OOM killer",
        "killed by SIGSEGV|PHP itself crashed",
        "killed by SIGABRT|PHP itself crashed",
        "killed by SIGTERM|from outside the worker",
        "killed by signal 40|from outside the worker",
    })
    void theAdviceFollowsHowTheWorkerEnded(String exit, String advice) {
        WorkerCrashedException e = new WorkerCrashedException("web", "http.handle", 4242, exit, new EOFException());
        assertThat(e.getMessage()).contains("pool 'web'", "worker 4242", "(" + exit + ")", advice);
        if (exit.startsWith("killed by")) {
            assertThat(e.getMessage()).doesNotContain("fatal error");
        }
    }
}
