package dev.folk.spring.boot.autoconfigure;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Configuration of the Folk worker pools ({@code folk.*}).
 *
 * <p>The top-level pool keys ({@code folk.command}, {@code folk.size}, ...) describe one pool named
 * {@code default} when no {@code folk.pools} are configured. With {@code folk.pools.<name>.*},
 * one pool is created per entry and the top-level keys become the shared defaults: a key a pool
 * does not set is taken from the top level ({@code folk.env} entries are merged, the pool's own
 * winning; lists such as {@code args} and {@code pass-env} are replaced, not merged).
 *
 * <p>Defaults mirror {@code dev.folk.core.pool.PoolConfig}. A zero recycling limit
 * ({@code max-jobs}, {@code max-lifetime}, {@code max-idle}, {@code max-memory}) means "no limit".
 */
@ConfigurationProperties("folk")
public class FolkProperties {

    /** Name of the pool the top-level keys describe when no 'folk.pools' are configured. */
    public static final String DEFAULT_POOL = "default";

    /** Whether to configure Folk at all. When false, no supervisor, pool, lifecycle, health, endpoint or metric is created. */
    private boolean enabled = true;

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
    private String user;

    /**
     * Group the workers run as (a name or gid). Default: the primary group of 'user'. Alone
     * (without 'user'), workers keep the JVM's uid with this group and no supplementary groups.
     */
    private String group;

    /** Working directory of the workers. Default: the JVM's. Ignored when 'sandbox' is set. */
    private Path workingDir;

    /**
     * Directory under which each worker gets its own private directory (its working directory and
     * TMPDIR), removed when the worker ends. Default: none.
     */
    private Path sandbox;

    /** Number of workers in the pool (fixed). */
    private Integer size = 4;

    /**
     * Workers that must be ready before start-up completes; start-up fails if fewer are ready
     * within 'boot-timeout'. Default: all ('size').
     */
    private Integer minReady;

    /** Recycle a worker after this many calls (0: never). */
    private Integer maxJobs = 0;

    /** Random spread of 'max-jobs' and 'max-lifetime' per worker, as a fraction in [0, 1) (0.1 = +-10%), so workers do not recycle together. */
    private Double maxJobsJitter = 0.1;

    /** Recycle a worker older than this (0: never). */
    private Duration maxLifetime = Duration.ZERO;

    /** Recycle a worker idle for longer than this (0: never). */
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
    private Duration bootTimeout = Duration.ofSeconds(10);

    /** Hard limit of one call; past it the worker's process group is killed and the call fails. */
    private Duration execTimeout = Duration.ofSeconds(30);

    /** How long a call may wait for a free worker before it fails. */
    private Duration acquireTimeout = Duration.ofSeconds(5);

    /** Calls allowed to wait for a free worker; beyond that, calls are rejected at once. */
    private Integer maxQueue = 256;

    /** At shutdown, how long in-flight calls may still run before their workers are killed. */
    private Duration drainTimeout = Duration.ofSeconds(20);

    /**
     * When stopping a worker, the grace between SIGTERM and SIGKILL to its process group.
     * 'drain-timeout' + 'close-wait' + 'stop-grace' must fit in
     * 'spring.lifecycle.timeout-per-shutdown-phase'.
     */
    private Duration stopGrace = Duration.ofSeconds(5);

    /** When stopping a worker, how long to wait for a clean exit after closing its task channel before SIGTERM. */
    private Duration closeWait = Duration.ofMillis(500);

    /** Worker spawns in flight at once (0: min(size, max(2, CPUs))). */
    private Integer maxConcurrentSpawns = 0;

    /** First delay before retrying after a failed worker boot; doubles per consecutive failure. */
    private Duration backoffInitial = Duration.ofMillis(100);

    /** Cap of the boot retry delay. */
    private Duration backoffMax = Duration.ofSeconds(10);

    /** Boot failures within 'broken-window' that mark the pool BROKEN (health DOWN, retries at 'backoff-max'). */
    private Integer brokenThreshold = 5;

    /** Window in which 'broken-threshold' boot failures mark the pool BROKEN. */
    private Duration brokenWindow = Duration.ofSeconds(60);

    /** Largest protocol frame sent to or accepted from a worker. At most 2 GB. */
    private DataSize maxFrameLength = DataSize.ofMegabytes(16);

    /** How often worker memory (RSS) is sampled from /proc. */
    private Duration memoryCheckInterval = Duration.ofSeconds(1);

    /** Where the workers' stdout and stderr lines go: LOG (SLF4J logger 'dev.folk.worker.POOL', stdout at INFO, stderr at WARN), DISCARD, or FILE ('output-file'). */
    private Output output = Output.LOG;

    /** File the workers' output is appended to when 'output' is FILE. */
    private Path outputFile;

    /**
     * Named pools. When empty, one pool named 'default' is built from the top-level keys; otherwise
     * one pool per entry, each taking the keys it does not set from the top level.
     */
    private Map<String, Pool> pools = new LinkedHashMap<>();

    /** Shutdown behaviour: signal handler and last-resort JVM shutdown hook. */
    private final Shutdown shutdown = new Shutdown();

    private final State state = new State();

    /** Metrics options. */
    private final Metrics metrics = new Metrics();

    /** How the pools take part in the application's readiness state. */
    private final Readiness readiness = new Readiness();

    /** What happens to the workers' stdout and stderr lines. */
    public enum Output {
        /** Each line to SLF4J (logger 'dev.folk.worker.POOL'): stdout at INFO, stderr at WARN. */
        LOG,
        /** Read and dropped. */
        DISCARD,
        /** Appended to 'output-file'. */
        FILE
    }

    /**
     * One named pool ({@code folk.pools.<name>.*}). Every key is optional: an unset key takes the
     * top-level value ({@code folk.<key>}); see {@link FolkProperties} for each key's meaning.
     */
    public static class Pool {

        /** Executable of this pool's workers (default: 'folk.command'). */
        private String command;
        /** Arguments of the command (default: 'folk.args'). */
        private List<String> args;
        /** Environment variables, merged over 'folk.env'. */
        private Map<String, String> env = new LinkedHashMap<>();
        /** Whether workers inherit the JVM's environment (default: 'folk.inherit-env'). */
        private Boolean inheritEnv;
        /** JVM variables passed when not inheriting (default: 'folk.pass-env'). */
        private List<String> passEnv;
        /** User the workers run as (default: 'folk.user'). */
        private String user;
        /** Group the workers run as (default: 'folk.group'). */
        private String group;
        /** Working directory (default: 'folk.working-dir'). */
        private Path workingDir;
        /** Sandbox root (default: 'folk.sandbox'). */
        private Path sandbox;
        /** Number of workers (default: 'folk.size'). */
        private Integer size;
        /** Workers ready before start-up completes (default: 'folk.min-ready', else all). */
        private Integer minReady;
        /** Calls before recycling (default: 'folk.max-jobs'). */
        private Integer maxJobs;
        /** Spread of max-jobs and max-lifetime (default: 'folk.max-jobs-jitter'). */
        private Double maxJobsJitter;
        /** Recycle age (default: 'folk.max-lifetime'). */
        private Duration maxLifetime;
        /** Recycle idleness (default: 'folk.max-idle'). */
        private Duration maxIdle;
        /** Recycle memory (default: 'folk.max-memory'). */
        private DataSize maxMemory;
        /** Hard memory limit (default: 'folk.memory-limit'). */
        private DataSize memoryLimit;
        /** Handshake timeout (default: 'folk.boot-timeout'). */
        private Duration bootTimeout;
        /** Call limit (default: 'folk.exec-timeout'). */
        private Duration execTimeout;
        /** Wait for a free worker (default: 'folk.acquire-timeout'). */
        private Duration acquireTimeout;
        /** Waiting calls allowed (default: 'folk.max-queue'). */
        private Integer maxQueue;
        /** Drain at shutdown (default: 'folk.drain-timeout'). */
        private Duration drainTimeout;
        /** TERM-to-KILL grace (default: 'folk.stop-grace'). */
        private Duration stopGrace;
        /** Wait for a clean exit before TERM (default: 'folk.close-wait'). */
        private Duration closeWait;
        /** Spawns in flight (default: 'folk.max-concurrent-spawns'). */
        private Integer maxConcurrentSpawns;
        /** First boot retry delay (default: 'folk.backoff-initial'). */
        private Duration backoffInitial;
        /** Boot retry delay cap (default: 'folk.backoff-max'). */
        private Duration backoffMax;
        /** Failures that mark the pool BROKEN (default: 'folk.broken-threshold'). */
        private Integer brokenThreshold;
        /** Window of 'broken-threshold' (default: 'folk.broken-window'). */
        private Duration brokenWindow;
        /** Frame limit (default: 'folk.max-frame-length'). */
        private DataSize maxFrameLength;
        /** Memory sampling period (default: 'folk.memory-check-interval'). */
        private Duration memoryCheckInterval;
        /** Output policy (default: 'folk.output'). */
        private Output output;
        /** Output file for FILE (default: 'folk.output-file'). */
        private Path outputFile;

        public String getCommand() { return command; }
        public void setCommand(String command) { this.command = command; }
        public List<String> getArgs() { return args; }
        public void setArgs(List<String> args) { this.args = args; }
        public Map<String, String> getEnv() { return env; }
        public void setEnv(Map<String, String> env) { this.env = env; }
        public Boolean getInheritEnv() { return inheritEnv; }
        public void setInheritEnv(Boolean inheritEnv) { this.inheritEnv = inheritEnv; }
        public List<String> getPassEnv() { return passEnv; }
        public void setPassEnv(List<String> passEnv) { this.passEnv = passEnv; }
        public String getUser() { return user; }
        public void setUser(String user) { this.user = user; }
        public String getGroup() { return group; }
        public void setGroup(String group) { this.group = group; }
        public Path getWorkingDir() { return workingDir; }
        public void setWorkingDir(Path workingDir) { this.workingDir = workingDir; }
        public Path getSandbox() { return sandbox; }
        public void setSandbox(Path sandbox) { this.sandbox = sandbox; }
        public Integer getSize() { return size; }
        public void setSize(Integer size) { this.size = size; }
        public Integer getMinReady() { return minReady; }
        public void setMinReady(Integer minReady) { this.minReady = minReady; }
        public Integer getMaxJobs() { return maxJobs; }
        public void setMaxJobs(Integer maxJobs) { this.maxJobs = maxJobs; }
        public Double getMaxJobsJitter() { return maxJobsJitter; }
        public void setMaxJobsJitter(Double maxJobsJitter) { this.maxJobsJitter = maxJobsJitter; }
        public Duration getMaxLifetime() { return maxLifetime; }
        public void setMaxLifetime(Duration maxLifetime) { this.maxLifetime = maxLifetime; }
        public Duration getMaxIdle() { return maxIdle; }
        public void setMaxIdle(Duration maxIdle) { this.maxIdle = maxIdle; }
        public DataSize getMaxMemory() { return maxMemory; }
        public void setMaxMemory(DataSize maxMemory) { this.maxMemory = maxMemory; }
        public DataSize getMemoryLimit() { return memoryLimit; }
        public void setMemoryLimit(DataSize memoryLimit) { this.memoryLimit = memoryLimit; }
        public Duration getBootTimeout() { return bootTimeout; }
        public void setBootTimeout(Duration bootTimeout) { this.bootTimeout = bootTimeout; }
        public Duration getExecTimeout() { return execTimeout; }
        public void setExecTimeout(Duration execTimeout) { this.execTimeout = execTimeout; }
        public Duration getAcquireTimeout() { return acquireTimeout; }
        public void setAcquireTimeout(Duration acquireTimeout) { this.acquireTimeout = acquireTimeout; }
        public Integer getMaxQueue() { return maxQueue; }
        public void setMaxQueue(Integer maxQueue) { this.maxQueue = maxQueue; }
        public Duration getDrainTimeout() { return drainTimeout; }
        public void setDrainTimeout(Duration drainTimeout) { this.drainTimeout = drainTimeout; }
        public Duration getStopGrace() { return stopGrace; }
        public void setStopGrace(Duration stopGrace) { this.stopGrace = stopGrace; }
        public Duration getCloseWait() { return closeWait; }
        public void setCloseWait(Duration closeWait) { this.closeWait = closeWait; }
        public Integer getMaxConcurrentSpawns() { return maxConcurrentSpawns; }
        public void setMaxConcurrentSpawns(Integer maxConcurrentSpawns) { this.maxConcurrentSpawns = maxConcurrentSpawns; }
        public Duration getBackoffInitial() { return backoffInitial; }
        public void setBackoffInitial(Duration backoffInitial) { this.backoffInitial = backoffInitial; }
        public Duration getBackoffMax() { return backoffMax; }
        public void setBackoffMax(Duration backoffMax) { this.backoffMax = backoffMax; }
        public Integer getBrokenThreshold() { return brokenThreshold; }
        public void setBrokenThreshold(Integer brokenThreshold) { this.brokenThreshold = brokenThreshold; }
        public Duration getBrokenWindow() { return brokenWindow; }
        public void setBrokenWindow(Duration brokenWindow) { this.brokenWindow = brokenWindow; }
        public DataSize getMaxFrameLength() { return maxFrameLength; }
        public void setMaxFrameLength(DataSize maxFrameLength) { this.maxFrameLength = maxFrameLength; }
        public Duration getMemoryCheckInterval() { return memoryCheckInterval; }
        public void setMemoryCheckInterval(Duration memoryCheckInterval) { this.memoryCheckInterval = memoryCheckInterval; }
        public Output getOutput() { return output; }
        public void setOutput(Output output) { this.output = output; }
        public Path getOutputFile() { return outputFile; }
        public void setOutputFile(Path outputFile) { this.outputFile = outputFile; }
    }

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
         * left. Default: 'spring.lifecycle.timeout-per-shutdown-phase' plus 15 s.
         */
        private Duration jvmHookWait;

        public boolean isSignalHandler() { return signalHandler; }
        public void setSignalHandler(boolean signalHandler) { this.signalHandler = signalHandler; }
        public boolean isJvmHook() { return jvmHook; }
        public void setJvmHook(boolean jvmHook) { this.jvmHook = jvmHook; }
        public Duration getJvmHookWait() { return jvmHookWait; }
        public void setJvmHookWait(Duration jvmHookWait) { this.jvmHookWait = jvmHookWait; }
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
        private Path file;

        public boolean isEnabled() { return enabled; }
        public void setEnabled(boolean enabled) { this.enabled = enabled; }
        public Path getFile() { return file; }
        public void setFile(Path file) { this.file = file; }
    }

    /** Metrics options ({@code folk.metrics.*}). */
    public static class Metrics {

        /**
         * Whether the call timers get a 'method' tag. Off by default: method names come from
         * callers and an unbounded set of them would create unbounded time series.
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

        public boolean isEnabled() { return enabled; }
        public void setEnabled(boolean enabled) { this.enabled = enabled; }
    }

    public boolean isEnabled() { return enabled; }
    public void setEnabled(boolean enabled) { this.enabled = enabled; }
    public String getCommand() { return command; }
    public void setCommand(String command) { this.command = command; }
    public List<String> getArgs() { return args; }
    public void setArgs(List<String> args) { this.args = args; }
    public Map<String, String> getEnv() { return env; }
    public void setEnv(Map<String, String> env) { this.env = env; }
    public Boolean getInheritEnv() { return inheritEnv; }
    public void setInheritEnv(Boolean inheritEnv) { this.inheritEnv = inheritEnv; }
    public List<String> getPassEnv() { return passEnv; }
    public void setPassEnv(List<String> passEnv) { this.passEnv = passEnv; }
    public String getUser() { return user; }
    public void setUser(String user) { this.user = user; }
    public String getGroup() { return group; }
    public void setGroup(String group) { this.group = group; }
    public Path getWorkingDir() { return workingDir; }
    public void setWorkingDir(Path workingDir) { this.workingDir = workingDir; }
    public Path getSandbox() { return sandbox; }
    public void setSandbox(Path sandbox) { this.sandbox = sandbox; }
    public Integer getSize() { return size; }
    public void setSize(Integer size) { this.size = size; }
    public Integer getMinReady() { return minReady; }
    public void setMinReady(Integer minReady) { this.minReady = minReady; }
    public Integer getMaxJobs() { return maxJobs; }
    public void setMaxJobs(Integer maxJobs) { this.maxJobs = maxJobs; }
    public Double getMaxJobsJitter() { return maxJobsJitter; }
    public void setMaxJobsJitter(Double maxJobsJitter) { this.maxJobsJitter = maxJobsJitter; }
    public Duration getMaxLifetime() { return maxLifetime; }
    public void setMaxLifetime(Duration maxLifetime) { this.maxLifetime = maxLifetime; }
    public Duration getMaxIdle() { return maxIdle; }
    public void setMaxIdle(Duration maxIdle) { this.maxIdle = maxIdle; }
    public DataSize getMaxMemory() { return maxMemory; }
    public void setMaxMemory(DataSize maxMemory) { this.maxMemory = maxMemory; }
    public DataSize getMemoryLimit() { return memoryLimit; }
    public void setMemoryLimit(DataSize memoryLimit) { this.memoryLimit = memoryLimit; }
    public Duration getBootTimeout() { return bootTimeout; }
    public void setBootTimeout(Duration bootTimeout) { this.bootTimeout = bootTimeout; }
    public Duration getExecTimeout() { return execTimeout; }
    public void setExecTimeout(Duration execTimeout) { this.execTimeout = execTimeout; }
    public Duration getAcquireTimeout() { return acquireTimeout; }
    public void setAcquireTimeout(Duration acquireTimeout) { this.acquireTimeout = acquireTimeout; }
    public Integer getMaxQueue() { return maxQueue; }
    public void setMaxQueue(Integer maxQueue) { this.maxQueue = maxQueue; }
    public Duration getDrainTimeout() { return drainTimeout; }
    public void setDrainTimeout(Duration drainTimeout) { this.drainTimeout = drainTimeout; }
    public Duration getStopGrace() { return stopGrace; }
    public void setStopGrace(Duration stopGrace) { this.stopGrace = stopGrace; }
    public Duration getCloseWait() { return closeWait; }
    public void setCloseWait(Duration closeWait) { this.closeWait = closeWait; }
    public Integer getMaxConcurrentSpawns() { return maxConcurrentSpawns; }
    public void setMaxConcurrentSpawns(Integer maxConcurrentSpawns) { this.maxConcurrentSpawns = maxConcurrentSpawns; }
    public Duration getBackoffInitial() { return backoffInitial; }
    public void setBackoffInitial(Duration backoffInitial) { this.backoffInitial = backoffInitial; }
    public Duration getBackoffMax() { return backoffMax; }
    public void setBackoffMax(Duration backoffMax) { this.backoffMax = backoffMax; }
    public Integer getBrokenThreshold() { return brokenThreshold; }
    public void setBrokenThreshold(Integer brokenThreshold) { this.brokenThreshold = brokenThreshold; }
    public Duration getBrokenWindow() { return brokenWindow; }
    public void setBrokenWindow(Duration brokenWindow) { this.brokenWindow = brokenWindow; }
    public DataSize getMaxFrameLength() { return maxFrameLength; }
    public void setMaxFrameLength(DataSize maxFrameLength) { this.maxFrameLength = maxFrameLength; }
    public Duration getMemoryCheckInterval() { return memoryCheckInterval; }
    public void setMemoryCheckInterval(Duration memoryCheckInterval) { this.memoryCheckInterval = memoryCheckInterval; }
    public Output getOutput() { return output; }
    public void setOutput(Output output) { this.output = output; }
    public Path getOutputFile() { return outputFile; }
    public void setOutputFile(Path outputFile) { this.outputFile = outputFile; }
    public Map<String, Pool> getPools() { return pools; }
    public void setPools(Map<String, Pool> pools) { this.pools = pools; }
    public Shutdown getShutdown() { return shutdown; }
    public State getState() { return state; }
    public Metrics getMetrics() { return metrics; }
    public Readiness getReadiness() { return readiness; }
}
