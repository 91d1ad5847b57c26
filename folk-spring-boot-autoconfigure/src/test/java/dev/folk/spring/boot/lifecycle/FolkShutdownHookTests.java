package dev.folk.spring.boot.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.support.GenericApplicationContext;

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

    @Test
    void stopsWaitingOnceTheThreadClosingTheContextEndedWithoutClosingIt() throws Exception {
        Supervisor supervisor = new Supervisor();
        GenericApplicationContext context = new GenericApplicationContext();
        context.refresh();
        FolkShutdownHook hook = new FolkShutdownHook(supervisor, context, Duration.ofSeconds(30));
        try {
            // A close that began (its ContextClosedEvent went out) and died before the context became inactive,
            // as a close that throws leaves it.
            Thread closer = new Thread(() -> hook.onApplicationEvent(new ContextClosedEvent(context)), "failed-close");
            closer.start();
            closer.join();
            assertThat(context.isActive()).isTrue();

            long start = System.nanoTime();
            hook.runHook();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("not the 30 s jvm-hook-wait")
                    .isLessThan(Duration.ofSeconds(5));
            assertThat(supervisor.isClosed()).isTrue();
        } finally {
            hook.destroy();
            supervisor.close();
            context.close();
        }
    }

    @Test
    void killsAndReapsEvenWhenItsWaitFailsOnAClassTheOverwrittenJarNoLongerHas() {
        // As a log line of the wait fails when a deploy overwrote the jar and the logging library
        // first needs a class at shutdown (logback's WarnStatus, seen in ReplacedJarShutdownTest).
        Supervisor supervisor = new Supervisor();
        GenericApplicationContext context = new GenericApplicationContext() {
            @Override
            public boolean isActive() {
                throw new NoClassDefFoundError("ch/qos/logback/core/status/WarnStatus");
            }
        };
        FolkShutdownHook hook = new FolkShutdownHook(supervisor, context, Duration.ofSeconds(30));
        try {
            assertThatThrownBy(hook::runHook).isInstanceOf(NoClassDefFoundError.class);
            assertThat(supervisor.isClosed()).as("killAndReapAll ran").isTrue();
        } finally {
            hook.destroy();
            supervisor.close();
        }
    }
}
