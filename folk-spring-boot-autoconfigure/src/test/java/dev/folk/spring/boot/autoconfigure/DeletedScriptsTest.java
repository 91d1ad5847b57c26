package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.folk.core.pool.PoolState;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.testing.LogCapture;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.pool.ClasspathScripts;
import dev.folk.spring.boot.pool.DeletedScriptsRestorer;

/**
 * The class path scripts extracted for the workers, deleted while the application runs (a cleaner of
 * /tmp after 10 days, docs/operations.md): the next worker to start fails once, the scripts are
 * extracted again, and the pool is whole again without waiting for its back-off or turning BROKEN.
 */
class DeletedScriptsTest {

    private final String tag = Workers.newTag();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class))
            .withPropertyValues("folk.shutdown.signal-handler=false", "folk.args=classpath:php/identity-app.php",
                    "folk.size=2", "folk.backoff-initial=30s", "folk.backoff-max=30s", "folk.env.FOLK_TEST_RUN=" + tag);

    @Test
    void workersStartAgainOnceTheDeletedScriptsAreExtractedAgain() {
        runner.run(ctx -> {
            assertThat(ctx).hasNotFailed();
            WorkerPool pool = ctx.getBean(WorkerPool.class);
            Path extracted = ctx.getBean(ClasspathScripts.class).directory();
            assertThat(extracted).isNotNull();
            assertThat(pool.awaitReady(2, Duration.ofSeconds(15))).isTrue();
            try (LogCapture logs = LogCapture.of(DeletedScriptsRestorer.class)) {
                deleteTree(extracted);
                int victim = pool.snapshot().workers().get(0).pid();
                ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly);
                // Well within backoff-initial (30 s): the failed start is retried at once.
                Procs.await(Duration.ofSeconds(15), "the pool whole again, its scripts extracted again",
                        () -> pool.readyCount() == 2 && pool.snapshot().workers().stream().noneMatch(w -> w.pid() == victim)
                                && !logs.warningsContaining("extracted again").isEmpty());
                assertThat(logs.warningsContaining("extracted again").get(0)).contains("Pool 'default'",
                        extracted.toString(), "cleaning of /tmp");
            }
            assertThat(extracted.resolve("php/identity-app.php")).isRegularFile();
            assertThat(pool.state()).isEqualTo(PoolState.RUNNING);
            assertThat(pool.snapshot().bootFailures()).isEqualTo(1);
            assertThat(pool.call("identity", null, java.util.Map.class)).containsKey("uid");
        });
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
