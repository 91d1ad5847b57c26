package dev.folk.spring.boot.lifecycle;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.ContextClosedEvent;

import dev.folk.core.FolkException;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.util.Preload;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * The last resort at JVM exit: a shutdown hook that kills and reaps every worker still registered
 * with the supervisor.
 *
 * <p>JVM shutdown hooks run concurrently, Spring Boot's own (which closes the context gracefully:
 * drain, then stop the workers) among them. Killing at once would cut the graceful close short, so
 * this hook first waits, bounded by {@code folk.shutdown.jvm-hook-wait} (by default {@link
 * #defaultWait}: as long as that close may take), for the context's close to finish. If no close
 * has begun within {@value #CLOSE_START_GRACE_MILLIS} ms (Spring Boot's hook disabled, or the
 * context was never closing), it does not wait further; nor once the thread that began the close
 * has ended with the context still active (the close failed part-way, as when the application's
 * jar was replaced under it and classes no longer load). When the context is closed normally (not
 * at JVM exit), the hook is removed: the supervisor is closed by then.
 */
public class FolkShutdownHook implements ApplicationListener<ContextClosedEvent>, DisposableBean {

    static final long CLOSE_START_GRACE_MILLIS = 2000;

    /**
     * How long the web server's stop may take after its graceful drain gave up: Tomcat waits up to
     * 5 s (its executor termination timeout) for request threads still running, here blocked in
     * pool calls, before the pools' phase can begin.
     */
    public static final Duration WEB_SERVER_STOP = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(FolkShutdownHook.class);

    private final Supervisor supervisor;
    private final ConfigurableApplicationContext context;
    private final Duration wait;
    private final Thread hook;
    /**
     * The thread closing the context, null until the close begins: it publishes the
     * ContextClosedEvent, then does the rest of the close.
     */
    private volatile @Nullable Thread closingThread;

    public FolkShutdownHook(Supervisor supervisor, ConfigurableApplicationContext context, Duration wait) {
        this.supervisor = supervisor;
        this.context = context;
        this.wait = wait;
        this.hook = new Thread(this::runHook, "folk-shutdown-hook");
        loadShutdownPath();
        try {
            Runtime.getRuntime().addShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // SIGTERM or Ctrl-C while the context is made, before any worker started: end the start-up
            // here, in words that say so (Spring's line names this bean, which did nothing wrong).
            // Spring logs the message at once in its WARN of the cancelled refresh (the JVM is exiting).
            throw new FolkException("Start-up stopped by the application's shutdown (SIGTERM, SIGINT from Ctrl-C, or SIGHUP) before any worker"
                    + " started. Nothing to fix unless that shutdown was unexpected: then look for what sent the signal.");
        }
    }

    /**
     * Loads the classes of the starter's part of the shutdown (this hook, the signal handler's
     * escalation, the pools' close) now, while the application's jar is whole: a deploy that
     * overwrites it makes the first class loaded later fail with NoClassDefFoundError, and the
     * workers would outlive the JVM. The supervisor and the pools load theirs when they are made
     * ({@link Preload} says more).
     */
    static void loadShutdownPath() {
        Preload.classes(FolkShutdownHook.class, FolkSignalHandler.class, FolkLifecycle.class, FolkPools.class);
    }

    /**
     * The default of {@code folk.shutdown.jvm-hook-wait}: the longest graceful close, in the
     * order Spring runs it. The web server's graceful drain (up to {@code shutdownPhase}), its stop
     * ({@link #WEB_SERVER_STOP}), then the pools' close ({@code poolsClose}: the longest
     * drain-timeout + close-wait + stop-grace, plus the seconds a killed group is given). The hook
     * returns as soon as the close ends, so a step the application does not have costs nothing;
     * a shorter wait would kill workers whose calls are still draining.
     */
    public static Duration defaultWait(Duration shutdownPhase, Duration poolsClose) {
        return shutdownPhase.plus(WEB_SERVER_STOP).plus(poolsClose);
    }

    /** How long this hook waits for the context's close. */
    public Duration waitBound() {
        return wait;
    }

    @Override
    public void onApplicationEvent(ContextClosedEvent event) {
        if (event.getApplicationContext() == context) {
            closingThread = Thread.currentThread();
        }
    }

    void runHook() {
        try {
            awaitClose();
        } finally {
            // Even if a log line above failed: a logging library's classes are loaded lazily too,
            // and a deploy that overwrote the jar can make its first use of one fail.
            supervisor.killAndReapAll();
        }
    }

    /** Returns once the context's close is over, or it cannot end well, or the wait's bound has passed. */
    private void awaitClose() {
        long start = System.nanoTime();
        long pause = 1_000_000;
        while (context.isActive()) {
            long elapsed = System.nanoTime() - start;
            Thread closer = closingThread;
            if (closer == null && elapsed > CLOSE_START_GRACE_MILLIS * 1_000_000) {
                log.info("Folk shutdown hook: the application context is not closing; stopping workers now");
                return;
            }
            if (closer != null && !closer.isAlive() && context.isActive()) {
                log.warn("Folk shutdown hook: the thread closing the application context ({}) ended without "
                        + "closing it (see the errors it logged); killing every worker now", closer.getName());
                return;
            }
            if (elapsed > wait.toNanos()) {
                log.warn("Folk shutdown hook: the graceful close did not finish within {}; killing every worker",
                        wait);
                return;
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 50_000_000);
        }
    }

    /** The JVM hook thread (for tests and diagnostics). */
    Thread hookThread() {
        return hook;
    }

    @Override
    public void destroy() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shutdownInProgress) {
            // The JVM is exiting: the hook runs (or ran) and waits for this close.
        }
    }
}
