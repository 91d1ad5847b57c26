package dev.folk.spring.boot.lifecycle;

import java.util.ArrayList;
import java.util.List;

import java.time.Duration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import dev.folk.core.FolkException;
import dev.folk.core.pool.PoolSnapshot;
import dev.folk.core.pool.PoolState;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.util.DaemonThreads;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * Starts the pools before the web server takes traffic and stops them after it has drained.
 *
 * <p>Phase {@value #PHASE} = {@code SmartLifecycle.DEFAULT_PHASE - 3072}. Spring starts lifecycles
 * in ascending phase order and stops them in descending order. Spring Boot's web server
 * lifecycles are {@code WebServerApplicationContext.START_STOP_LIFECYCLE_PHASE}
 * ({@code DEFAULT_PHASE - 2048}: starts the server, stops it) and
 * {@code GRACEFUL_SHUTDOWN_PHASE} ({@code DEFAULT_PHASE - 1024}: graceful drain of requests). One
 * step (1024) below the server's start/stop phase, the pools are started and ready before the
 * server accepts connections, and at shutdown they are stopped only after the graceful shutdown
 * has drained in-flight requests and the server has stopped, so no request finds its pool gone.
 *
 * <p>{@link #start()} waits, per pool, for its minimum of ready workers ({@code min-ready}, default
 * all) for as long as workers keep becoming ready (no more than its boot timeout without
 * progress), and fails start-up with a {@link FolkStartupException} naming the pool, its last
 * failure, the worker's exit status and last output otherwise — at once when every boot fails the
 * same way. A JVM shutdown during the wait (a SIGTERM during start-up; see
 * {@link ShutdownDuringStartup}), or a pool stopped meanwhile, ends the wait at once and fails
 * start-up as stopped, not as a boot failure; the context then closes the pools as usual.
 * {@link #stop(Runnable)} closes all pools in parallel: each refuses new calls, lets in-flight
 * calls finish up to its drain timeout, then stops its workers. The validation of {@code folk.*}
 * guarantees this fits in {@code spring.lifecycle.timeout-per-shutdown-phase}.
 */
public class FolkLifecycle implements SmartLifecycle {

    /** {@code SmartLifecycle.DEFAULT_PHASE - 3072}: below the web server's start/stop phase. */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 3072;

    private static final Logger log = LoggerFactory.getLogger(FolkLifecycle.class);

    private final FolkPools pools;
    private volatile boolean running;

    public FolkLifecycle(FolkPools pools) {
        this.pools = pools;
    }

    @Override
    public void start() {
        for (WorkerPool pool : pools.all()) {
            PoolState state = pool.state();
            if (state == PoolState.NEW) {
                pool.start();
            } else if (state == PoolState.DRAINING || state == PoolState.CLOSED) {
                throw new IllegalStateException("Pool '" + pool.name() + "' was stopped and cannot be restarted");
            }
        }
        List<FolkStartupException.NotReady> notReady = new ArrayList<>();
        List<String> stopped = new ArrayList<>();
        ShutdownDuringStartup shutdown = ShutdownDuringStartup.watchCurrentThread();
        try {
            for (WorkerPool pool : pools.all()) {
                int min = pools.minReady(pool);
                long t0 = System.nanoTime();
                // Waits as long as workers keep becoming ready (a pool of hundreds boots for a while),
                // and gives up at once when every boot fails the same way, when the pool is stopped,
                // or when the JVM begins to shut down.
                if (!pool.awaitReady(min, pool.config().bootTimeout())) {
                    PoolSnapshot snapshot = pool.snapshot();
                    if (pool.stopped() || shutdown.fired()) {
                        // A shutdown during start-up (a signal, whose close cannot begin before the
                        // refresh ends): not a boot failure.
                        stopped.add("Pool '" + pool.name() + "': start-up stopped by the application's shutdown with "
                                + snapshot.ready() + " of " + min + " required workers ready after "
                                + Duration.ofNanos(System.nanoTime() - t0).toMillis() + " ms");
                        continue;
                    }
                    if (Thread.currentThread().isInterrupted()) {
                        throw new FolkException("Pool '" + pool.name() + "': start-up interrupted while it waited for "
                                + min + " ready workers (" + snapshot.ready() + " ready)");
                    }
                    notReady.add(new FolkStartupException.NotReady(pool.name(), snapshot.ready(), min,
                            Duration.ofNanos(System.nanoTime() - t0), pool.lastFailure(), commandLine(pool),
                            pool.lastBootFailure(), snapshot.bootFailures(), pool.config().bootTimeout()));
                }
            }
        } finally {
            if (shutdown.end() && stopped.isEmpty()) {
                stopped.add("Start-up stopped by the application's shutdown once its pools were ready");
            }
        }
        if (!stopped.isEmpty()) {
            String message = String.join("\n", stopped) + "\nThe application was shut down (SIGTERM, SIGINT from Ctrl-C, or SIGHUP) "
                    + "while its workers started; their boot did not fail. Nothing to fix unless that shutdown was "
                    + "unexpected: then look for what sent the signal.";
            // Logged here too: the JVM is exiting and may be gone before Spring Boot reports the failure.
            log.warn(message);
            throw new FolkException(message);
        }
        if (!notReady.isEmpty()) {
            throw new FolkStartupException(notReady);
        }
        running = true;
        if (log.isInfoEnabled()) {
            List<String> ready = new ArrayList<>();
            for (WorkerPool pool : pools.all()) {
                ready.add(pool.name() + " (" + pool.snapshot().ready() + "/" + pool.config().size() + ")");
            }
            log.info("Folk pools ready: {}", String.join(", ", ready));
        }
    }

    @Override
    public void stop() {
        running = false;
        pools.close();
    }

    @Override
    public void stop(Runnable callback) {
        running = false;
        Thread t = DaemonThreads.newThread(() -> {
            try {
                pools.close();
            } finally {
                callback.run();
            }
        }, "folk-lifecycle-stop");
        t.start();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public boolean isAutoStartup() {
        return true;
    }

    /**
     * Not stopped when the context pauses, only when it closes: a closed pool cannot start again. A
     * paused context (Spring's test context cache pauses the contexts it keeps while other test
     * classes run; {@code ConfigurableApplicationContext.pause()}) stops its web server, so its idle
     * workers take no calls meanwhile and serve again, warm, at its restart.
     */
    @Override
    public boolean isPauseable() {
        return false;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    static String commandLine(WorkerPool pool) {
        var spec = pool.config().worker();
        return (spec.executable() + " " + String.join(" ", spec.args())).trim();
    }
}
