package dev.folk.spring.boot.autoconfigure;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of the Folk worker pools ({@code folk.*}).
 *
 * <p>The top-level pool keys ({@code folk.command}, {@code folk.size}, ...) describe one pool named
 * {@code default} when no {@code folk.pools} are configured. With {@code folk.pools.<name>.*},
 * one pool is created per entry and the top-level keys become the shared defaults: a key a pool
 * does not set is taken from the top level ({@code folk.env} entries are merged, the pool's own
 * winning; lists such as {@code args} and {@code pass-env} are replaced, not merged).
 *
 * <p>The pool keys are declared once, in {@link PoolProperties}: this class extends it for the
 * top level, and each {@code folk.pools} entry is one.
 */
@ConfigurationProperties("folk")
public class FolkProperties extends PoolProperties {

    /** Name of the pool the top-level keys describe when no 'folk.pools' are configured. */
    public static final String DEFAULT_POOL = "default";

    /** Whether to configure Folk at all. When false, no supervisor, pool, lifecycle, health, endpoint or metric is created. */
    private boolean enabled = true;

    /**
     * Named pools. When empty, one pool named 'default' is built from the top-level keys; otherwise
     * one pool per entry, each taking the keys it does not set from the top level.
     */
    private Map<String, PoolProperties> pools = new LinkedHashMap<>();

    /** Shutdown behaviour: signal handler and last-resort JVM shutdown hook. */
    private final Shutdown shutdown = new Shutdown();

    private final State state = new State();

    /** Metrics options. */
    private final Metrics metrics = new Metrics();

    /** How the pools take part in the application's readiness state. */
    private final Readiness readiness = new Readiness();

    /** Shutdown options ({@code folk.shutdown.*}). */
    public static class Shutdown {

        /**
         * Whether to install a handler for SIGINT and SIGTERM that chains to the JVM's. The first
         * signal runs the JVM's own handling (graceful shutdown; the JVM exits with 128 + signal:
         * 130 for INT, 143 for TERM). A second INT or TERM during that shutdown kills and reaps
         * every worker at once and halts the JVM with 128 + signal (130 or 143).
         */
        private boolean signalHandler = true;

        /**
         * Whether to register a JVM shutdown hook that kills and reaps every worker still
         * registered once Spring's own graceful close has finished (or 'jvm-hook-wait' passed).
         */
        private boolean jvmHook = true;

        /**
         * How long the JVM shutdown hook waits for Spring's graceful close before killing what is
         * left. Default: as long as that close may take: 'spring.lifecycle.timeout-per-shutdown-phase'
         * (the web server's drain) + 5 s (its stop) + the longest pool stop (drain-timeout + close-wait +
         * stop-grace) + 5 s; 65.5 s with the defaults.
         */
        private @Nullable Duration jvmHookWait;

        public boolean isSignalHandler() { return signalHandler; }
        public void setSignalHandler(boolean signalHandler) { this.signalHandler = signalHandler; }
        public boolean isJvmHook() { return jvmHook; }
        public void setJvmHook(boolean jvmHook) { this.jvmHook = jvmHook; }
        public @Nullable Duration getJvmHookWait() { return jvmHookWait; }
        public void setJvmHookWait(@Nullable Duration jvmHookWait) { this.jvmHookWait = jvmHookWait; }
    }

    /** The state file of live worker groups ({@code folk.state.*}). */
    public static class State {

        /**
         * Whether to record live worker groups in a state file, so that after a crash of this JVM
         * the next start ends the workers it left behind (and nothing else: a group is ended only
         * if its leader still has the recorded start time).
         */
        private boolean enabled = true;

        /**
         * The state file. Default: folk-<user>/<spring.application.name>.state under java.io.tmpdir.
         * Its directory must be private (not writable by group or others); otherwise the state
         * file is turned off with a warning.
         */
        private @Nullable Path file;

        public boolean isEnabled() { return enabled; }
        public void setEnabled(boolean enabled) { this.enabled = enabled; }
        public @Nullable Path getFile() { return file; }
        public void setFile(@Nullable Path file) { this.file = file; }
    }

    /** Metrics options ({@code folk.metrics.*}). */
    public static class Metrics {

        /**
         * Whether the call timers get a 'method' tag (and the folk.call observation a low-cardinality
         * 'method' key). Off by default: method names come from callers and an unbounded set of
         * them would create unbounded time series. On, at most 100 methods per pool are tagged;
         * calls of further ones are tagged 'other', with a warning.
         */
        private boolean methodTag = false;

        public boolean isMethodTag() { return methodTag; }
        public void setMethodTag(boolean methodTag) { this.methodTag = methodTag; }
    }

    /** Readiness options ({@code folk.readiness.*}). */
    public static class Readiness {

        /**
         * Whether the pools take part in the application's readiness state: while a pool drains
         * or is closed, the application publishes ReadinessState.REFUSING_TRAFFIC (start-up
         * already waits for 'min-ready' workers before the application can become ready).
         * Liveness is never changed.
         */
        private boolean enabled = true;

        /**
         * Readiness that follows saturation: while any pool has more calls waiting for a worker than
         * this (or than its own 'pools.<name>.max-queue'), the application publishes
         * ReadinessState.REFUSING_TRAFFIC (what /actuator/health/readiness reports), and
         * ACCEPTING_TRAFFIC again once every queue has stayed at or below half of it for
         * 'recovery'. Never undoes a refusal it did not make (shutdown, a draining pool). Default:
         * not set (off, unless a pool sets its own).
         */
        private @Nullable Integer maxQueue;

        /** How long every pool's queue must stay at or below half of 'max-queue' before the application is ready again. */
        private Duration recovery = Duration.ofSeconds(5);

        /**
         * Saturation readiness per pool, by pool name: 'max-queue' for that pool (default: the one
         * above), or 'enabled: false' so that the pool's queue never makes the application refuse
         * traffic (a pool of background jobs, whose queue is no sign of an overloaded instance).
         */
        private Map<String, PoolReadiness> pools = new LinkedHashMap<>();

        public boolean isEnabled() { return enabled; }
        public void setEnabled(boolean enabled) { this.enabled = enabled; }
        public @Nullable Integer getMaxQueue() { return maxQueue; }
        public void setMaxQueue(@Nullable Integer maxQueue) { this.maxQueue = maxQueue; }
        public Duration getRecovery() { return recovery; }
        public void setRecovery(Duration recovery) { this.recovery = recovery; }
        public Map<String, PoolReadiness> getPools() { return pools; }
        public void setPools(Map<String, PoolReadiness> pools) { this.pools = pools; }
    }

    /** Saturation readiness for one pool ({@code folk.readiness.pools.<name>.*}). */
    public static class PoolReadiness {

        /** Whether this pool's queue counts for saturation readiness. */
        private boolean enabled = true;

        /**
         * Calls waiting for one of this pool's workers above which the application refuses traffic.
         * Default: folk.readiness.max-queue.
         */
        private @Nullable Integer maxQueue;

        public boolean isEnabled() { return enabled; }
        public void setEnabled(boolean enabled) { this.enabled = enabled; }
        public @Nullable Integer getMaxQueue() { return maxQueue; }
        public void setMaxQueue(@Nullable Integer maxQueue) { this.maxQueue = maxQueue; }
    }

    public boolean isEnabled() { return enabled; }
    public void setEnabled(boolean enabled) { this.enabled = enabled; }
    public Map<String, PoolProperties> getPools() { return pools; }
    public void setPools(Map<String, PoolProperties> pools) { this.pools = pools; }
    public Shutdown getShutdown() { return shutdown; }
    public State getState() { return state; }
    public Metrics getMetrics() { return metrics; }
    public Readiness getReadiness() { return readiness; }
}
