package dev.folk.spring.boot.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.folk.core.supervision.Supervisor;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.NotStarted;

/** The JVM shutdown hook as the auto-configuration registers it. */
class FolkShutdownHookTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class))
            .withUserConfiguration(NotStarted.class)
            .withPropertyValues("folk.shutdown.signal-handler=false");

    @Test
    void shutdownHookIsRemovedWhenTheContextClosesAndKillsAfterTheClose() {
        Supervisor[] supervisor = new Supervisor[1];
        FolkShutdownHook[] hook = new FolkShutdownHook[1];
        runner.withPropertyValues("folk.size=1").run(ctx -> {
            hook[0] = ctx.getBean(FolkShutdownHook.class);
            supervisor[0] = ctx.getBean(Supervisor.class);
        });
        // Closed normally: the hook is gone from the JVM (removing it again reports false) ...
        assertThat(Runtime.getRuntime().removeShutdownHook(hook[0].hookThread())).isFalse();
        // ... and run anyway, it does not wait for a context that is already closed.
        long start = System.nanoTime();
        hook[0].runHook();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        assertThat(supervisor[0].isClosed()).isTrue();
    }
}
