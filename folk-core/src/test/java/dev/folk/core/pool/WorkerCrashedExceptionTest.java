package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.folk.core.supervision.ExitStatus;

/** A call's crashed worker: the message says where to look, by how the worker ended. */
class WorkerCrashedExceptionTest {

    @ParameterizedTest(name = "{2}")
    @CsvSource(delimiter = '|', value = {
        "255|0|exit 255|for a fatal error",
        "0|0|exit 0|for a fatal error",
        "-1|9|killed by SIGKILL|OOM killer",
        "-1|11|killed by SIGSEGV|PHP itself crashed",
        "-1|6|killed by SIGABRT|PHP itself crashed",
        "-1|31|killed by SIGSYS|PHP itself crashed",
        "-1|15|killed by SIGTERM|KillMode=mixed",
        "-1|40|killed by signal 40|from outside the worker",
    })
    void theAdviceFollowsHowTheWorkerEnded(int exitCode, int signal, String exit, String advice) {
        ExitStatus status = new ExitStatus(exitCode, signal, 0, Duration.ZERO, Duration.ZERO);
        assertThat(status).hasToString(exit);
        WorkerCrashedException e = new WorkerCrashedException("web", "http.handle", 4242, exit, status, new EOFException());
        assertThat(e.getMessage()).contains("pool 'web'", "worker 4242", "(" + exit + ")", advice);
        if (signal != 0) {
            assertThat(e.getMessage()).doesNotContain("fatal error");
        }
    }

    @Test
    void aWorkerNotReapedIsAdvisedToBeLookedUpInItsLog() {
        WorkerCrashedException e = new WorkerCrashedException("web", "http.handle", 4242, "died before reading the request",
                null, new EOFException());
        assertThat(e.getMessage()).contains("(died before reading the request)", "for a fatal error");
    }
}
