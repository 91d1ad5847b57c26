package dev.folk.spring.boot.autoconfigure.app;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;

/**
 * {@link SignalTestApplication} started from a JVM shutdown hook: the whole start-up runs while
 * the JVM shuts down, as one that SIGTERM reaches while its context is being made.
 */
public final class StartedDuringShutdownApplication {

    private StartedDuringShutdownApplication() {
    }

    public static void main(String[] args) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                new SpringApplicationBuilder(SignalTestApplication.class).web(WebApplicationType.NONE)
                        .registerShutdownHook(false).run(args);
                System.out.println("STARTED");
            } catch (RuntimeException e) {
                System.out.println("START-FAILED " + e);
            }
        }, "starts-during-shutdown"));
    }
}
