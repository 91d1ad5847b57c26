package dev.folk.spring.boot.autoconfigure.app;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;

/**
 * A minimal application run in a child JVM by the signal tests. It starts its pool, optionally
 * puts one long call in flight ({@code --test.in-flight-ms=N}), prints {@code READY <pids>} and
 * then waits for a signal to end it.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
public class SignalTestApplication {

    public static void main(String[] args) throws InterruptedException {
        ConfigurableApplicationContext ctx = new SpringApplicationBuilder(SignalTestApplication.class)
                .web(WebApplicationType.NONE).run(args);
        WorkerPool pool = ctx.getBean(WorkerPool.class);
        String inFlight = ctx.getEnvironment().getProperty("test.in-flight-ms");
        if (inFlight != null) {
            Thread caller = new Thread(() -> {
                try {
                    System.out.println("CALL-RESULT " + pool.call("sleep", Long.parseLong(inFlight)));
                } catch (RuntimeException e) {
                    System.out.println("CALL-FAILED " + e);
                }
            }, "in-flight-call");
            caller.setDaemon(true);
            caller.start();
            while (pool.snapshot().count(WorkerState.BUSY) < 1) {
                LockSupport.parkNanos(2_000_000);
            }
            pool.snapshot().workers().stream().filter(w -> w.state() == WorkerState.BUSY)
                    .forEach(w -> System.out.println("BUSY " + w.pid()));
        }
        String pids = pool.snapshot().workers().stream().map(w -> Integer.toString(w.pid()))
                .collect(Collectors.joining(","));
        System.out.println("READY " + pids);
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
