package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.folk.core.testing.LogCapture;
import dev.folk.core.testing.SharedSupervisor;

/**
 * A notice (a line folk-worker-php marks {@code notice:}: advice every worker of a pool gives alike as
 * it starts) is logged at WARN once per worker name; a pool that recycles would repeat it at every
 * start. Other stderr lines stay one WARN each.
 */
class WorkerNoticesTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    @Test
    void aNoticeIsLoggedOnceForAllWorkersOfOneNameAndOtherLinesEachTime() throws Exception {
        String name = "notices-" + System.nanoTime();
        String script = "echo \"folk-worker[$$]: notice: the opcache is off\" >&2; echo \"folk-worker[$$]: something else\" >&2";
        try (LogCapture logs = LogCapture.of("dev.folk.worker." + name)) {
            for (int i = 0; i < 3; i++) {
                WorkerProcess p = SUPERVISOR.get().spawn(WorkerSpec.builder("sh").name(name).args("-c", script)
                        .output(OutputPolicy.log()).build());
                p.onExit().get(10, TimeUnit.SECONDS);
                SUPERVISOR.get().terminate(p, Duration.ofSeconds(5)); // reaped and released
                p.onOutputClosed().get(10, TimeUnit.SECONDS);
            }
            assertThat(logs.warningsContaining("notice: the opcache is off")).hasSize(1);
            assertThat(logs.warningsContaining("something else")).hasSize(3);
        }
        try (LogCapture logs = LogCapture.of("dev.folk.worker." + name + "-other")) {
            WorkerProcess p = SUPERVISOR.get().spawn(WorkerSpec.builder("sh").name(name + "-other").args("-c", script)
                    .output(OutputPolicy.log()).build());
            p.onExit().get(10, TimeUnit.SECONDS);
            SUPERVISOR.get().terminate(p, Duration.ofSeconds(5));
            p.onOutputClosed().get(10, TimeUnit.SECONDS);
            assertThat(logs.warningsContaining("notice: the opcache is off")).as("another pool's first").hasSize(1);
        }
    }
}
