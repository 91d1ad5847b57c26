package dev.folk.spring.boot.autoconfigure;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.NestedConfigurationProperty;
import org.springframework.util.unit.DataSize;

/**
 * The settings of one worker pool, each declared once here: its key (the field's name in kebab
 * case), type, default (the field's initial value), simple bounds ({@link AtLeast},
 * {@link NotNegative}, {@link Positive}, checked at start-up) and documentation (the field's
 * comment, which the configuration metadata is generated from).
 *
 * <p>Used twice: {@link FolkProperties} extends it for the top-level keys ({@code folk.size}, the
 * defaults every pool shares) and each {@code folk.pools.<name>} entry is one. A pool takes every
 * setting it did not configure itself from the top level; whether it did is recorded by its
 * setters (the binder calls a setter only for a key that is configured), so that configuring a
 * pool's value to the default still overrides the top level. {@link PoolDefinitions} checks the
 * values (the bounds declared here, and what involves several settings), naming the key. Defaults mirror {@code dev.folk.core.pool.PoolConfig}
 * (a test checks that they agree). A zero recycling limit ({@code max-jobs}, {@code max-lifetime},
 * {@code max-idle}, {@code max-memory}) means "no limit".
 *
 * <p>Every setter is one line that also records its property; the accessors are kept flat on
 * purpose (the metadata processor needs a getter and a setter per key).
 */
public class PoolProperties {

    /**
     * Executable that runs one worker: a command name looked up in PATH (the worker's own PATH
     * from 'folk.env' if set, else the JVM's) or a path. Checked at start-up.
     */
    private String command = "php";

    /** Arguments of the command, typically the worker script, e.g. 'worker.php'. */
    private List<String> args = new ArrayList<>();

    /**
     * Environment variables added to every worker's environment. In 'folk.pools.<name>.env' they
     * are merged with these, the pool's value winning. Use the bracket form for names with
     * upper-case letters or underscores in .properties files: folk.env[APP_ENV]=prod.
     */
    private Map<String, String> env = new LinkedHashMap<>();

    /**
     * Whether workers inherit all of the JVM's environment (plus 'env'), secrets included. When
     * false (the default), a worker sees only the JVM's PATH, HOME, LANG, LC_*, TZ and TMPDIR, the
     * variables listed in 'pass-env', 'env' and the protocol's own FOLK_* variables.
     */
    private Boolean inheritEnv = false;

    /**
     * JVM environment variables passed to workers besides PATH, HOME, LANG, LC_*, TZ and TMPDIR,
     * when 'inherit-env' is false: names, or prefixes ending in '*' (e.g. APP_*).
     */
    private List<String> passEnv = new ArrayList<>();

    /**
     * User the workers run as (a name or uid), instead of the JVM's. Needs a JVM running as root
     * and util-linux's setpriv. The workers get the user's supplementary groups, its HOME, and
     * no_new_privs (setuid programs gain nothing). Their command, scripts and working directory
     * must be readable by that user (checked at start-up).
     */
    private @Nullable String user;

    /**
     * Group the workers run as (a name or gid). Default: the primary group of 'user'. Alone
     * (without 'user'), workers keep the JVM's uid with this group and no supplementary groups.
     */
    private @Nullable String group;

    /** Working directory of the workers. Default: the JVM's. Ignored when 'sandbox' is set. */
    private @Nullable Path workingDir;

    /**
     * Directory under which each worker gets its own private directory (its working directory and
     * TMPDIR), removed when the worker ends. Default: none.
     */
    private @Nullable Path sandbox;

    /** Number of workers in the pool (fixed), unless 'min-size' or 'max-size' make it elastic. */
    @AtLeast(value = 1, action = "Set it to the number of workers the pool should run (1 or more).")
    private Integer size = 4;

    /**
     * Fewest workers of an elastic pool (0 or more). Setting 'min-size' or 'max-size' makes the pool
     * elastic: it starts at 'min-size' (one worker if 0, to check that the script boots), grows when
     * calls wait longer than 'grow-after', up to 'max-size', and retires workers idle for 'max-idle'
     * (10s if 'max-idle' is 0) above 'min-size'. The one not set defaults to 'size'. Default: not set
     * (fixed 'size').
     */
    private @Nullable Integer minSize;

    /** Most workers of an elastic pool (see 'min-size'). Default: not set (fixed 'size'). */
    private @Nullable Integer maxSize;

    /**
     * How long the oldest waiting call must have waited before an elastic pool starts another
     * worker (0: at once). About the time a PHP worker takes to start, so a worker given back
     * meanwhile usually serves the call first.
     */
    @NotNegative
    private Duration growAfter = Duration.ofMillis(20);

    /**
     * Workers that must be ready before start-up completes; start-up fails if fewer are ready
     * within 'boot-timeout'. Default: all ('size', or the starting size of an elastic pool).
     */
    private @Nullable Integer minReady;

    /** Recycle a worker after this many calls (0: never). */
    @AtLeast(value = 0, action = "Use 0 to never recycle by job count, or a positive number.")
    private Integer maxJobs = 0;

    /** Random spread of 'max-jobs' and 'max-lifetime' per worker, as a fraction in [0, 1) (0.1 = +-10%), so workers do not recycle together. */
    private Double maxJobsJitter = 0.1;

    /** Recycle a worker older than this (0: never). */
    @NotNegative
    private Duration maxLifetime = Duration.ZERO;

    /** Recycle a worker idle for longer than this (0: never). */
    @NotNegative
    private Duration maxIdle = Duration.ZERO;

    /**
     * Recycle a worker whose resident memory (RSS) exceeds this (0: never). Soft: a busy worker
     * finishes its call, and it keeps serving until its replacement is ready. Must be below 'memory-limit'.
     */
    private DataSize maxMemory = DataSize.ofBytes(0);

    /**
     * Hard limit of a worker's resident memory (RSS): past it the worker's process group is killed
     * at once, even mid-call (the call fails), and the worker is replaced; checked every
     * 'memory-check-interval'. For PHP workers, PHP's own memory_limit is set to 90% of it unless
     * 'args' set memory_limit. 0: no limit.
     */
    private DataSize memoryLimit = DataSize.ofMegabytes(512);

    /** How long a new worker may take to complete its handshake; also the start-up wait for 'min-ready' workers. */
    @Positive
    private Duration bootTimeout = Duration.ofSeconds(10);

    /** Hard limit of one call; past it the worker's process group is killed and the call fails. */
    @Positive
    private Duration execTimeout = Duration.ofSeconds(30);

    /**
     * A call running longer is logged once (WARN, logger dev.folk.core.pool.WorkerPool) with the
     * pool, worker pid, method, the URI of an HTTP call, the time so far and the worker's PHP stack
     * at that moment (Folk PHP library with ext-pcntl), and counted (metric folk.calls.slow). Seen
     * by the pool's 50 ms housekeeping tick. 0: off.
     */
    @NotNegative
    private Duration slowCallThreshold = Duration.ZERO;

    /** How long a call may wait for a free worker before it fails. */
    @NotNegative
    private Duration acquireTimeout = Duration.ofSeconds(5);

    /** Calls allowed to wait for a free worker; beyond that, calls are rejected at once. */
    @AtLeast(value = 0, action = "Use 0 to reject calls at once when no worker is free, or a positive number.")
    private Integer maxQueue = 256;

    /**
     * At shutdown, how long the calls accepted before it may still take: those in flight, and those
     * queued for a worker, which the pool's workers still serve. Past it, queued calls fail and busy
     * workers are killed.
     */
    @NotNegative
    private Duration drainTimeout = Duration.ofSeconds(20);

    /**
     * When stopping a worker, the grace between SIGTERM and SIGKILL to its process group.
     * 'drain-timeout' + 'close-wait' + 'stop-grace' must fit in
     * 'spring.lifecycle.timeout-per-shutdown-phase'.
     */
    @NotNegative
    private Duration stopGrace = Duration.ofSeconds(5);

    /** When stopping a worker, how long to wait for a clean exit after closing its task channel before SIGTERM. */
    @NotNegative
    private Duration closeWait = Duration.ofMillis(500);

    /** Worker spawns in flight at once (0: min(size, max(2, CPUs))). */
    @AtLeast(value = 0, action = "Use 0 for the automatic limit, or a positive number.")
    private Integer maxConcurrentSpawns = 0;

    /** First delay before retrying after a failed worker boot; doubles per consecutive failure. */
    @Positive
    private Duration backoffInitial = Duration.ofMillis(100);

    /** Cap of the boot retry delay. */
    @Positive
    private Duration backoffMax = Duration.ofSeconds(10);

    /** Boot failures within 'broken-window' that mark the pool BROKEN (retries at 'backoff-max'; health DOWN once it has no worker ready). */
    @AtLeast(value = 1, action = "Use a positive number of boot failures.")
    private Integer brokenThreshold = 5;

    /** Window in which 'broken-threshold' boot failures mark the pool BROKEN. */
    @Positive
    private Duration brokenWindow = Duration.ofSeconds(60);

    /**
     * Largest protocol frame sent to or accepted from a worker. At most 2 GB. Workers are told it
     * in FOLK_MAX_FRAME_LENGTH, which folk-worker-php keeps to.
     */
    private DataSize maxFrameLength = DataSize.ofMegabytes(16);

    /** How often worker memory (RSS) is sampled from /proc. */
    @Positive
    private Duration memoryCheckInterval = Duration.ofSeconds(1);

    /** Where the workers' stdout and stderr lines go: LOG (SLF4J logger 'dev.folk.worker.POOL', stdout at INFO, stderr at WARN), DISCARD, or FILE ('output-file'). */
    private Output output = Output.LOG;

    /** File the workers' output is appended to when 'output' is FILE. */
    private @Nullable Path outputFile;

    /** Reload on change (development): replace the workers when their PHP sources change. */
    @NestedConfigurationProperty
    private final Watch watch = new Watch();

    /** Names of the properties set on this instance (by binding or in code). */
    private final Set<String> configured = new HashSet<>();

    {
        watch.configured = this::configured;
    }

    /**
     * Reload on change ({@code watch.*}), for development: when a watched file changes, the pool's
     * workers are replaced one at a time, each new worker ready before an old one is retired.
     * Each key is inherited on its own, like the pool keys: a pool that sets
     * {@code watch.patterns} still takes {@code folk.watch.enabled}. Its setters record
     * {@code watch.<property>} as configured in the owning pool.
     */
    public static class Watch {

        /** Records a key of it as configured in the pool that holds it. */
        private Consumer<String> configured = property -> { };

        /** Whether to replace the pool's workers when a watched file changes (development). */
        private boolean enabled = false;

        /**
         * Directories (watched recursively) and files to watch: file system paths, relative to the
         * JVM's working directory, or 'classpath:dir/' for the directories on disk a class path
         * directory is served from (e.g. target/classes/dir). Default: the directory of the pool's
         * script (its first argument that is a 'classpath:' script or an existing file).
         */
        private List<String> paths = new ArrayList<>();

        /**
         * Which files in the watched directories count, as globs (java.nio PathMatcher syntax). A
         * pattern containing a slash matches the path relative to the watched directory; '**' crosses
         * directories, and a leading '**' and slash also match no directory at all, so the default
         * matches app.php as well as src/Controller/Home.php. A pattern without a slash matches the
         * file name in any directory ('*.php', '.env'). Files named in 'paths' always count.
         */
        private List<String> patterns = new ArrayList<>(List.of("**/*.php"));

        /**
         * Quiet time before reloading: changes are collected until none came for this long (an
         * editor's save or a git checkout is one reload), but never for more than 10 times this.
         */
        private Duration debounce = Duration.ofMillis(300);

        public boolean isEnabled() { return enabled; }
        public void setEnabled(boolean enabled) { this.enabled = enabled; configured.accept("watch.enabled"); }
        public List<String> getPaths() { return paths; }
        public void setPaths(List<String> paths) { this.paths = paths; configured.accept("watch.paths"); }
        public List<String> getPatterns() { return patterns; }
        public void setPatterns(List<String> patterns) { this.patterns = patterns; configured.accept("watch.patterns"); }
        public Duration getDebounce() { return debounce; }
        public void setDebounce(Duration debounce) { this.debounce = debounce; configured.accept("watch.debounce"); }
    }

    /** What happens to the workers' stdout and stderr lines. */
    public enum Output {
        /** Each line to SLF4J (logger 'dev.folk.worker.POOL'): stdout at INFO, stderr at WARN. */
        LOG,
        /** Read and dropped. */
        DISCARD,
        /** Appended to 'output-file'. */
        FILE
    }

    /** An integer setting must be at least {@link #value()}; {@link #action()} tells the user what to do. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    @interface AtLeast {
        int value();

        String action();
    }

    /** A duration setting must be 0 or more. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    @interface NotNegative {
    }

    /** A duration setting must be above 0. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    @interface Positive {
    }

    /**
     * Whether {@code property} (a Java property name, e.g. {@code maxJobs}) was set on this
     * instance rather than left at its default.
     */
    public boolean isConfigured(String property) {
        return configured.contains(property);
    }

    /** The properties set on this instance, by Java property name. */
    public Set<String> configuredProperties() {
        return Collections.unmodifiableSet(configured);
    }

    private void configured(String property) {
        configured.add(property);
    }

    public String getCommand() { return command; }
    public void setCommand(String command) { this.command = command; configured("command"); }
    public List<String> getArgs() { return args; }
    public void setArgs(List<String> args) { this.args = args; configured("args"); }
    public Map<String, String> getEnv() { return env; }
    public void setEnv(Map<String, String> env) { this.env = env; configured("env"); }
    public Boolean getInheritEnv() { return inheritEnv; }
    public void setInheritEnv(Boolean inheritEnv) { this.inheritEnv = inheritEnv; configured("inheritEnv"); }
    public List<String> getPassEnv() { return passEnv; }
    public void setPassEnv(List<String> passEnv) { this.passEnv = passEnv; configured("passEnv"); }
    public @Nullable String getUser() { return user; }
    public void setUser(@Nullable String user) { this.user = user; configured("user"); }
    public @Nullable String getGroup() { return group; }
    public void setGroup(@Nullable String group) { this.group = group; configured("group"); }
    public @Nullable Path getWorkingDir() { return workingDir; }
    public void setWorkingDir(@Nullable Path workingDir) { this.workingDir = workingDir; configured("workingDir"); }
    public @Nullable Path getSandbox() { return sandbox; }
    public void setSandbox(@Nullable Path sandbox) { this.sandbox = sandbox; configured("sandbox"); }
    public Integer getSize() { return size; }
    public void setSize(Integer size) { this.size = size; configured("size"); }
    public @Nullable Integer getMinSize() { return minSize; }
    public void setMinSize(@Nullable Integer minSize) { this.minSize = minSize; configured("minSize"); }
    public @Nullable Integer getMaxSize() { return maxSize; }
    public void setMaxSize(@Nullable Integer maxSize) { this.maxSize = maxSize; configured("maxSize"); }
    public Duration getGrowAfter() { return growAfter; }
    public void setGrowAfter(Duration growAfter) { this.growAfter = growAfter; configured("growAfter"); }
    public @Nullable Integer getMinReady() { return minReady; }
    public void setMinReady(@Nullable Integer minReady) { this.minReady = minReady; configured("minReady"); }
    public Integer getMaxJobs() { return maxJobs; }
    public void setMaxJobs(Integer maxJobs) { this.maxJobs = maxJobs; configured("maxJobs"); }
    public Double getMaxJobsJitter() { return maxJobsJitter; }
    public void setMaxJobsJitter(Double maxJobsJitter) { this.maxJobsJitter = maxJobsJitter; configured("maxJobsJitter"); }
    public Duration getMaxLifetime() { return maxLifetime; }
    public void setMaxLifetime(Duration maxLifetime) { this.maxLifetime = maxLifetime; configured("maxLifetime"); }
    public Duration getMaxIdle() { return maxIdle; }
    public void setMaxIdle(Duration maxIdle) { this.maxIdle = maxIdle; configured("maxIdle"); }
    public DataSize getMaxMemory() { return maxMemory; }
    public void setMaxMemory(DataSize maxMemory) { this.maxMemory = maxMemory; configured("maxMemory"); }
    public DataSize getMemoryLimit() { return memoryLimit; }
    public void setMemoryLimit(DataSize memoryLimit) { this.memoryLimit = memoryLimit; configured("memoryLimit"); }
    public Duration getBootTimeout() { return bootTimeout; }
    public void setBootTimeout(Duration bootTimeout) { this.bootTimeout = bootTimeout; configured("bootTimeout"); }
    public Duration getExecTimeout() { return execTimeout; }
    public void setExecTimeout(Duration execTimeout) { this.execTimeout = execTimeout; configured("execTimeout"); }
    public Duration getSlowCallThreshold() { return slowCallThreshold; }
    public void setSlowCallThreshold(Duration slowCallThreshold) { this.slowCallThreshold = slowCallThreshold; configured("slowCallThreshold"); }
    public Duration getAcquireTimeout() { return acquireTimeout; }
    public void setAcquireTimeout(Duration acquireTimeout) { this.acquireTimeout = acquireTimeout; configured("acquireTimeout"); }
    public Integer getMaxQueue() { return maxQueue; }
    public void setMaxQueue(Integer maxQueue) { this.maxQueue = maxQueue; configured("maxQueue"); }
    public Duration getDrainTimeout() { return drainTimeout; }
    public void setDrainTimeout(Duration drainTimeout) { this.drainTimeout = drainTimeout; configured("drainTimeout"); }
    public Duration getStopGrace() { return stopGrace; }
    public void setStopGrace(Duration stopGrace) { this.stopGrace = stopGrace; configured("stopGrace"); }
    public Duration getCloseWait() { return closeWait; }
    public void setCloseWait(Duration closeWait) { this.closeWait = closeWait; configured("closeWait"); }
    public Integer getMaxConcurrentSpawns() { return maxConcurrentSpawns; }
    public void setMaxConcurrentSpawns(Integer maxConcurrentSpawns) { this.maxConcurrentSpawns = maxConcurrentSpawns; configured("maxConcurrentSpawns"); }
    public Duration getBackoffInitial() { return backoffInitial; }
    public void setBackoffInitial(Duration backoffInitial) { this.backoffInitial = backoffInitial; configured("backoffInitial"); }
    public Duration getBackoffMax() { return backoffMax; }
    public void setBackoffMax(Duration backoffMax) { this.backoffMax = backoffMax; configured("backoffMax"); }
    public Integer getBrokenThreshold() { return brokenThreshold; }
    public void setBrokenThreshold(Integer brokenThreshold) { this.brokenThreshold = brokenThreshold; configured("brokenThreshold"); }
    public Duration getBrokenWindow() { return brokenWindow; }
    public void setBrokenWindow(Duration brokenWindow) { this.brokenWindow = brokenWindow; configured("brokenWindow"); }
    public DataSize getMaxFrameLength() { return maxFrameLength; }
    public void setMaxFrameLength(DataSize maxFrameLength) { this.maxFrameLength = maxFrameLength; configured("maxFrameLength"); }
    public Duration getMemoryCheckInterval() { return memoryCheckInterval; }
    public void setMemoryCheckInterval(Duration memoryCheckInterval) { this.memoryCheckInterval = memoryCheckInterval; configured("memoryCheckInterval"); }
    public Output getOutput() { return output; }
    public void setOutput(Output output) { this.output = output; configured("output"); }
    public Watch getWatch() { return watch; }
    public @Nullable Path getOutputFile() { return outputFile; }
    public void setOutputFile(@Nullable Path outputFile) { this.outputFile = outputFile; configured("outputFile"); }
}
