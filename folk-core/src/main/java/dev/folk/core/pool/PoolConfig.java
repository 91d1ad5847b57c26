package dev.folk.core.pool;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import dev.folk.core.protocol.MessageCodec;
import dev.folk.core.supervision.WorkerSpec;

/**
 * Everything a {@link WorkerPool} is configured with. Immutable; {@link #builder(String, WorkerSpec)}
 * validates and says which setting is wrong. A zero {@code Duration} or count means "no limit"
 * where the setting is a recycling limit ({@code maxJobs}, {@code maxLifetime}, {@code maxIdle},
 * {@code maxMemoryBytes}).
 */
public final class PoolConfig {

    /** Default hard memory limit of a worker: 512 MiB, four times PHP's own default memory_limit. */
    public static final long DEFAULT_MEMORY_LIMIT_BYTES = 512L * 1024 * 1024;

    /**
     * Default of grow-after: about the time a PHP worker takes from spawn to ready with Debian's
     * php.ini (21 ms measured, BENCHMARKS.md): a call that has already waited that long would
     * likely have been served sooner by a new worker than by the next one given back.
     */
    public static final Duration DEFAULT_GROW_AFTER = Duration.ofMillis(20);

    /** How long an elastic pool keeps an idle worker above min-size when max-idle is 0 (PHP-FPM's process_idle_timeout). */
    public static final Duration DEFAULT_ELASTIC_IDLE = Duration.ofSeconds(10);

    private final String name;
    private final WorkerSpec worker;
    private final int size;
    private final int minSize;
    private final int maxSize;
    private final Duration growAfter;
    private final int maxJobs;
    private final double maxJobsJitter;
    private final Duration maxLifetime;
    private final Duration maxIdle;
    private final long maxMemoryBytes;
    private final long memoryLimitBytes;
    private final Duration bootTimeout;
    private final Duration execTimeout;
    private final Duration acquireTimeout;
    private final int maxQueue;
    private final Duration drainTimeout;
    private final Duration stopGrace;
    private final Duration closeWait;
    private final int maxConcurrentSpawns;
    private final Duration backoffInitial;
    private final Duration backoffMax;
    private final int brokenThreshold;
    private final Duration brokenWindow;
    private final int maxFrameLength;
    private final Duration memoryCheckInterval;
    private final Duration slowCallThreshold;
    private final ValueMapper valueMapper;

    private PoolConfig(Builder b) {
        this.name = b.name;
        this.worker = b.worker;
        // Elastic bounds: one left unset defaults to size (clamped to the other), both unset: fixed size.
        this.minSize = b.minSize >= 0 ? b.minSize : b.maxSize >= 0 ? Math.min(b.size, b.maxSize) : b.size;
        this.maxSize = b.maxSize >= 0 ? b.maxSize : b.minSize >= 0 ? Math.max(b.size, b.minSize) : b.size;
        this.size = minSize == maxSize ? minSize : Math.max(1, minSize);
        this.growAfter = b.growAfter;
        this.maxJobs = b.maxJobs;
        this.maxJobsJitter = b.maxJobsJitter;
        this.maxLifetime = b.maxLifetime;
        this.maxIdle = b.maxIdle;
        this.maxMemoryBytes = b.maxMemoryBytes;
        this.memoryLimitBytes = b.memoryLimitBytes;
        this.bootTimeout = b.bootTimeout;
        this.execTimeout = b.execTimeout;
        this.acquireTimeout = b.acquireTimeout;
        this.maxQueue = b.maxQueue;
        this.drainTimeout = b.drainTimeout;
        this.stopGrace = b.stopGrace;
        this.closeWait = b.closeWait;
        this.maxConcurrentSpawns = b.maxConcurrentSpawns > 0 ? b.maxConcurrentSpawns
                : Math.max(1, Math.min(maxSize, Math.max(2, Runtime.getRuntime().availableProcessors())));
        this.backoffInitial = b.backoffInitial;
        this.backoffMax = b.backoffMax;
        this.brokenThreshold = b.brokenThreshold;
        this.brokenWindow = b.brokenWindow;
        this.maxFrameLength = b.maxFrameLength;
        this.memoryCheckInterval = b.memoryCheckInterval;
        this.slowCallThreshold = b.slowCallThreshold;
        this.valueMapper = b.valueMapper;
    }

    /** A builder with the defaults below; {@code worker} names the command the pool runs. */
    public static Builder builder(String name, WorkerSpec worker) {
        return new Builder(name, worker);
    }

    public Builder toBuilder() {
        Builder b = new Builder(name, worker);
        b.size = size;
        b.minSize = minSize == maxSize ? -1 : minSize;
        b.maxSize = minSize == maxSize ? -1 : maxSize;
        b.growAfter = growAfter;
        b.maxJobs = maxJobs;
        b.maxJobsJitter = maxJobsJitter;
        b.maxLifetime = maxLifetime;
        b.maxIdle = maxIdle;
        b.maxMemoryBytes = maxMemoryBytes;
        b.memoryLimitBytes = memoryLimitBytes;
        b.bootTimeout = bootTimeout;
        b.execTimeout = execTimeout;
        b.acquireTimeout = acquireTimeout;
        b.maxQueue = maxQueue;
        b.drainTimeout = drainTimeout;
        b.stopGrace = stopGrace;
        b.closeWait = closeWait;
        b.maxConcurrentSpawns = maxConcurrentSpawns;
        b.backoffInitial = backoffInitial;
        b.backoffMax = backoffMax;
        b.brokenThreshold = brokenThreshold;
        b.brokenWindow = brokenWindow;
        b.maxFrameLength = maxFrameLength;
        b.memoryCheckInterval = memoryCheckInterval;
        b.slowCallThreshold = slowCallThreshold;
        b.valueMapper = valueMapper;
        return b;
    }

    public String name() { return name; }
    public WorkerSpec worker() { return worker; }
    /**
     * Workers the pool starts with: the fixed size, or for an elastic pool max(min-size, 1) (one
     * worker even with min-size 0, so start-up checks that the script boots).
     */
    public int size() { return size; }
    /** Fewest workers an elastic pool keeps; the size of a fixed pool. */
    public int minSize() { return minSize; }
    /** Most workers an elastic pool grows to; the size of a fixed pool. */
    public int maxSize() { return maxSize; }
    /** Whether the pool grows and shrinks between min-size and max-size. */
    public boolean elastic() { return minSize != maxSize; }
    /** How long the oldest queued call must have waited before an elastic pool grows. */
    public Duration growAfter() { return growAfter; }
    /** After how long idle an elastic pool retires a worker above min-size: max-idle, or {@link #DEFAULT_ELASTIC_IDLE} if that is 0. */
    public Duration shrinkAfter() { return maxIdle.isZero() ? DEFAULT_ELASTIC_IDLE : maxIdle; }
    public int maxJobs() { return maxJobs; }
    public double maxJobsJitter() { return maxJobsJitter; }
    public Duration maxLifetime() { return maxLifetime; }
    public Duration maxIdle() { return maxIdle; }
    public long maxMemoryBytes() { return maxMemoryBytes; }
    public long memoryLimitBytes() { return memoryLimitBytes; }
    public Duration bootTimeout() { return bootTimeout; }
    public Duration execTimeout() { return execTimeout; }
    public Duration acquireTimeout() { return acquireTimeout; }
    public int maxQueue() { return maxQueue; }
    public Duration drainTimeout() { return drainTimeout; }
    public Duration stopGrace() { return stopGrace; }
    public Duration closeWait() { return closeWait; }
    public int maxConcurrentSpawns() { return maxConcurrentSpawns; }
    public Duration backoffInitial() { return backoffInitial; }
    public Duration backoffMax() { return backoffMax; }
    public int brokenThreshold() { return brokenThreshold; }
    public Duration brokenWindow() { return brokenWindow; }
    public int maxFrameLength() { return maxFrameLength; }
    public Duration memoryCheckInterval() { return memoryCheckInterval; }
    /** A call running longer is logged once, with the worker's PHP stack; zero: off. */
    public Duration slowCallThreshold() { return slowCallThreshold; }
    /** How typed calls convert parameters and results; {@link ValueMapper#PROTOCOL} unless set. */
    public ValueMapper valueMapper() { return valueMapper; }

    @Override
    public String toString() {
        return "PoolConfig[" + name + (elastic() ? ", size=" + minSize + ".." + maxSize : ", size=" + size) + ", "
                + worker + ']';
    }

    public static final class Builder {
        private final String name;
        private final WorkerSpec worker;
        private int size = 4;
        private int minSize = -1;
        private int maxSize = -1;
        private Duration growAfter = DEFAULT_GROW_AFTER;
        private int maxJobs = 0;
        private double maxJobsJitter = 0.1;
        private Duration maxLifetime = Duration.ZERO;
        private Duration maxIdle = Duration.ZERO;
        private long maxMemoryBytes = 0;
        private long memoryLimitBytes = DEFAULT_MEMORY_LIMIT_BYTES;
        private Duration bootTimeout = Duration.ofSeconds(10);
        private Duration execTimeout = Duration.ofSeconds(30);
        private Duration acquireTimeout = Duration.ofSeconds(5);
        private int maxQueue = 256;
        private Duration drainTimeout = Duration.ofSeconds(20);
        private Duration stopGrace = Duration.ofSeconds(5);
        private Duration closeWait = Duration.ofMillis(500);
        private int maxConcurrentSpawns = 0;
        private Duration backoffInitial = Duration.ofMillis(100);
        private Duration backoffMax = Duration.ofSeconds(10);
        private int brokenThreshold = 5;
        private Duration brokenWindow = Duration.ofSeconds(60);
        private int maxFrameLength = MessageCodec.DEFAULT_MAX_FRAME_LENGTH;
        private Duration memoryCheckInterval = Duration.ofSeconds(1);
        private Duration slowCallThreshold = Duration.ZERO;
        private ValueMapper valueMapper = ValueMapper.PROTOCOL;

        private Builder(String name, WorkerSpec worker) {
            this.name = Objects.requireNonNull(name, "name");
            this.worker = Objects.requireNonNull(worker, "worker");
        }

        /** Number of workers (fixed). Default 4. */
        public Builder size(int size) { this.size = size; return this; }
        /**
         * Fewest workers (0 or more) of an elastic pool. Setting min-size or max-size makes the pool
         * elastic; the one not set defaults to size. Default: not set (fixed size).
         */
        public Builder minSize(int n) { this.minSize = n; return this; }
        /** Most workers of an elastic pool (see {@link #minSize}). Default: not set (fixed size). */
        public Builder maxSize(int n) { this.maxSize = n; return this; }
        /** An elastic pool grows once the oldest queued call has waited this long (0: at once). Default 20 ms. */
        public Builder growAfter(Duration d) { this.growAfter = d; return this; }
        /** Recycle a worker after this many calls (0: never). Default 0. */
        public Builder maxJobs(int maxJobs) { this.maxJobs = maxJobs; return this; }
        /** Spread of max-jobs and max-lifetime per worker, as a fraction (0.1 = +-10%). Default 0.1. */
        public Builder maxJobsJitter(double jitter) { this.maxJobsJitter = jitter; return this; }
        /** Recycle a worker older than this (0: never). Default 0. */
        public Builder maxLifetime(Duration d) { this.maxLifetime = d; return this; }
        /** Recycle a worker idle longer than this (0: never). Default 0. */
        public Builder maxIdle(Duration d) { this.maxIdle = d; return this; }
        /** Recycle a worker whose resident memory exceeds this many bytes (0: never). Default 0. */
        public Builder maxMemoryBytes(long bytes) { this.maxMemoryBytes = bytes; return this; }
        /**
         * Hard limit of a worker's resident memory: past it the worker is killed at once, even
         * mid-call (which then fails), and replaced; checked every memory-check-interval
         * (0: none). Default 512 MiB.
         */
        public Builder memoryLimitBytes(long bytes) { this.memoryLimitBytes = bytes; return this; }
        /** How long a new worker may take to say control.ready. Default 10 s. */
        public Builder bootTimeout(Duration d) { this.bootTimeout = d; return this; }
        /** Hard limit on one call; past it the worker's group is killed. Default 30 s. */
        public Builder execTimeout(Duration d) { this.execTimeout = d; return this; }
        /** How long a call may wait for a free worker. Default 5 s. */
        public Builder acquireTimeout(Duration d) { this.acquireTimeout = d; return this; }
        /** Calls allowed to wait for a worker; beyond, calls are rejected at once. Default 256. */
        public Builder maxQueue(int n) { this.maxQueue = n; return this; }
        /** On close, how long the calls accepted before it (in flight or queued) may still take. Default 20 s. */
        public Builder drainTimeout(Duration d) { this.drainTimeout = d; return this; }
        /** TERM-to-KILL grace when stopping a worker's group. Default 5 s. */
        public Builder stopGrace(Duration d) { this.stopGrace = d; return this; }
        /** After closing fd 3, how long to wait for a clean exit before the TERM ladder. Default 500 ms. */
        public Builder closeWait(Duration d) { this.closeWait = d; return this; }
        /** Spawns in flight at once (0: min(size, max(2, CPUs))). */
        public Builder maxConcurrentSpawns(int n) { this.maxConcurrentSpawns = n; return this; }
        /** First delay after a failed boot; doubles per consecutive failure. Default 100 ms. */
        public Builder backoffInitial(Duration d) { this.backoffInitial = d; return this; }
        /** Cap of the boot back-off. Default 10 s. */
        public Builder backoffMax(Duration d) { this.backoffMax = d; return this; }
        /** Boot failures within {@code brokenWindow} that mark the pool BROKEN. Default 5. */
        public Builder brokenThreshold(int n) { this.brokenThreshold = n; return this; }
        public Builder brokenWindow(Duration d) { this.brokenWindow = d; return this; }
        /** Largest frame sent or accepted, in bytes. Default 16 MiB. */
        public Builder maxFrameLength(int bytes) { this.maxFrameLength = bytes; return this; }
        /** How often worker memory is sampled from /proc. Default 1 s. */
        public Builder memoryCheckInterval(Duration d) { this.memoryCheckInterval = d; return this; }
        /**
         * A call running longer than this is logged once (WARN) with the pool, worker, method,
         * label, elapsed time and, from workers that declared the {@code backtrace} feature, the
         * PHP stack at that moment; and counted. Seen by the housekeeper, so up to one tick late.
         * Zero (the default): off.
         */
        public Builder slowCallThreshold(Duration d) { this.slowCallThreshold = d; return this; }
        /**
         * How typed calls ({@code call(method, params, type)}) convert parameters and results:
         * {@link ValueMapper#PROTOCOL} by default; the Spring Boot starter sets the application's
         * JSON mapper so that records and POJOs work.
         */
        public Builder valueMapper(ValueMapper mapper) {
            this.valueMapper = Objects.requireNonNull(mapper, "valueMapper");
            return this;
        }

        /** @throws IllegalArgumentException naming each invalid setting */
        public PoolConfig build() {
            List<String> errors = new ArrayList<>();
            if (name.isBlank()) {
                errors.add("name must not be blank");
            }
            if (size < 1) {
                errors.add("size must be at least 1 (was " + size + ")");
            }
            if (minSize < -1) {
                errors.add("min-size must be 0 or more (was " + minSize + ")");
            }
            if (maxSize < -1 || maxSize == 0) {
                errors.add("max-size must be at least 1 (was " + maxSize + ")");
            }
            if (minSize >= 0 && maxSize >= 1 && minSize > maxSize) {
                errors.add("min-size (" + minSize + ") must not be above max-size (" + maxSize + ")");
            }
            if (minSize == 0 && maxQueue == 0) {
                errors.add("min-size 0 needs max-queue of 1 or more: with no worker and no queue every first call"
                        + " would be refused");
            }
            nonNegative(errors, "grow-after", growAfter);
            if (maxJobs < 0) {
                errors.add("max-jobs must be 0 (unlimited) or positive (was " + maxJobs + ")");
            }
            if (!(maxJobsJitter >= 0 && maxJobsJitter < 1)) {
                errors.add("max-jobs-jitter must be in [0, 1) (was " + maxJobsJitter + ")");
            }
            if (maxMemoryBytes < 0) {
                errors.add("max-memory must not be negative (was " + maxMemoryBytes + ")");
            }
            if (memoryLimitBytes < 0) {
                errors.add("memory-limit must not be negative (was " + memoryLimitBytes + ")");
            } else if (memoryLimitBytes > 0 && maxMemoryBytes >= memoryLimitBytes) {
                errors.add("max-memory (" + maxMemoryBytes + " bytes, soft) must be below memory-limit ("
                        + memoryLimitBytes + " bytes, hard)");
            }
            if (maxQueue < 0) {
                errors.add("max-queue must not be negative (was " + maxQueue + ")");
            }
            if (maxConcurrentSpawns < 0) {
                errors.add("max-concurrent-spawns must not be negative (was " + maxConcurrentSpawns + ")");
            }
            if (brokenThreshold < 1) {
                errors.add("broken-threshold must be at least 1 (was " + brokenThreshold + ")");
            }
            if (maxFrameLength < 16) {
                errors.add("max-frame-length must be at least 16 bytes (was " + maxFrameLength + ")");
            }
            nonNegative(errors, "max-lifetime", maxLifetime);
            nonNegative(errors, "max-idle", maxIdle);
            nonNegative(errors, "drain-timeout", drainTimeout);
            nonNegative(errors, "stop-grace", stopGrace);
            nonNegative(errors, "close-wait", closeWait);
            nonNegative(errors, "acquire-timeout", acquireTimeout);
            nonNegative(errors, "slow-call-threshold", slowCallThreshold);
            positive(errors, "boot-timeout", bootTimeout);
            positive(errors, "exec-timeout", execTimeout);
            positive(errors, "backoff-initial", backoffInitial);
            positive(errors, "memory-check-interval", memoryCheckInterval);
            if (backoffMax == null || backoffMax.compareTo(backoffInitial == null ? Duration.ZERO : backoffInitial) < 0) {
                errors.add("backoff-max must be at least backoff-initial (was " + backoffMax + ")");
            }
            positive(errors, "broken-window", brokenWindow);
            if (!errors.isEmpty()) {
                throw new IllegalArgumentException("Invalid configuration of pool '" + name + "': "
                        + String.join("; ", errors));
            }
            return new PoolConfig(this);
        }

        private static void nonNegative(List<String> errors, String key, Duration d) {
            if (d == null || d.isNegative()) {
                errors.add(key + " must not be negative (was " + d + ")");
            }
        }

        private static void positive(List<String> errors, String key, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                errors.add(key + " must be positive (was " + d + ")");
            }
        }
    }
}
