package dev.folk.spring.boot.actuate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.testing.LogCapture;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.autoconfigure.endpoint.FolkWorkersEndpointAutoConfiguration;

/**
 * A reset asked through the actuator answers at once ("started"); whether it completes is said only
 * in the log, so one that gives up must say so there, with what to do.
 */
class WorkersEndpointResetTest {

    @Test
    void aResetWhoseReplacementsCannotBootIsAWarningAndTheWorkersKeepServing(@TempDir Path dir) throws Exception {
        Path broken = dir.resolve("broken");
        String tag = Workers.newTag();
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class,
                        FolkWorkersEndpointAutoConfiguration.class))
                .withPropertyValues("folk.shutdown.signal-handler=false", "folk.size=1",
                        "folk.args=" + TestWorkers.TEST, "folk.env.FOLK_TEST_RUN=" + tag,
                        "folk.env.FOLK_TEST_FAIL_BOOT_WHILE=" + broken,
                        // the reset gives up after twice boot-timeout plus backoff-max
                        "folk.boot-timeout=1s", "folk.backoff-max=200ms",
                        "management.endpoints.web.exposure.include=workers",
                        "management.endpoint.workers.access=UNRESTRICTED")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    WorkersEndpoint endpoint = ctx.getBean(WorkersEndpoint.class);
                    WorkerPool pool = ctx.getBean(WorkerPool.class);
                    long pid = pool.call("pid", null, Long.class);
                    Files.createFile(broken);
                    try (LogCapture log = LogCapture.of(WorkersEndpoint.class)) {
                        assertThat(endpoint.reset(pool.name()).reset()).isEqualTo("started");
                        Procs.await(Duration.ofSeconds(20), "the reset's warning",
                                () -> !log.warningsContaining("did not complete").isEmpty());
                        assertThat(log.warningsContaining("did not complete")).singleElement().asString()
                                .contains("Pool '" + pool.name() + "'", "no replacement became ready",
                                        "ask again once the cause is fixed");
                    }
                    assertThat(pool.call("pid", null, Long.class)).as("the old worker serves on").isEqualTo(pid);

                    Files.delete(broken);
                    pool.reset().get(20, TimeUnit.SECONDS);
                    assertThat(pool.call("pid", null, Long.class)).as("replaced once the cause is fixed")
                            .isNotEqualTo(pid);
                });
        Procs.await(Duration.ofSeconds(10), "no worker left", () -> Procs.aliveWithEnv(Workers.RUN_TAG, tag).isEmpty());
    }
}
