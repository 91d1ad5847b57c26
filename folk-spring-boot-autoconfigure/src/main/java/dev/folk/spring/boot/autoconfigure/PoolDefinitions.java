package dev.folk.spring.boot.autoconfigure;

import java.lang.annotation.Annotation;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;
import org.springframework.util.unit.DataSize;

import dev.folk.core.pool.PoolConfig;
import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.RunAs;
import dev.folk.core.supervision.SpawnException;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.util.Sizes;
import dev.folk.spring.boot.autoconfigure.FolkConfigurationException.Violation;
import dev.folk.spring.boot.pool.ClasspathScripts;
import dev.folk.spring.boot.pool.PhpCommand;

/**
 * Turns {@link FolkProperties} into validated pool configurations: applies the top-level defaults
 * to each named pool, checks every value (and that the command can run), and reports every
 * problem at once, each under the key the user has to change.
 *
 * <p>The simple bounds are declared on the settings themselves ({@link PoolProperties.AtLeast},
 * {@link PoolProperties.NotNegative}, {@link PoolProperties.Positive}). Longer than our usual file:
 * the other checks are one flat list, each beside its message and advice; the checks of
 * {@code user}/{@code group} live in {@link WorkerUserCheck}.
 */
public final class PoolDefinitions {

    /** Spring's default of {@code spring.lifecycle.timeout-per-shutdown-phase}. */
    public static final Duration DEFAULT_SHUTDOWN_PHASE_TIMEOUT = Duration.ofSeconds(30);

    private static final long MAX_FRAME = Integer.MAX_VALUE;

    /**
     * In an argument, the path of folk-worker-php's autoload.php, as workers find it in
     * FOLK_WORKER_PHP: {@code -d auto_prepend_file=${FOLK_WORKER_PHP}} loads the library before a
     * front controller that does not require it (Symfony's Runtime component). Spring leaves the
     * placeholder as it is when nothing in its environment names it.
     */
    static final String WORKER_LIBRARY_PLACEHOLDER = "${" + ClasspathScripts.WORKER_LIBRARY_ENV + "}";

    private static final List<Field> AT_LEAST = settingsWith(PoolProperties.AtLeast.class);
    private static final List<Field> NOT_NEGATIVE = settingsWith(PoolProperties.NotNegative.class);
    private static final List<Field> POSITIVE = settingsWith(PoolProperties.Positive.class);

    private PoolDefinitions() {
    }

    /**
     * One pool, ready to create.
     *
     * @param name     the pool's name (and its qualifier)
     * @param config   the validated pool configuration
     * @param minReady workers that must be ready before start-up completes
     */
    public record PoolDefinition(String name, PoolConfig config, int minReady) {
    }

    /**
     * Resolves and validates every pool.
     *
     * @param properties         the bound {@code folk.*} properties
     * @param shutdownPhaseBudget {@code spring.lifecycle.timeout-per-shutdown-phase}
     * @throws FolkConfigurationException listing every invalid setting
     */
    public static List<PoolDefinition> resolve(FolkProperties properties, Duration shutdownPhaseBudget) {
        return resolve(properties, shutdownPhaseBudget, key -> null);
    }

    /**
     * Resolves and validates every pool; {@code configuredValues} gives the value of a key as the
     * user wrote it (e.g. {@code Environment::getProperty}), shown in violations instead of the
     * bound value when available.
     *
     * @throws FolkConfigurationException listing every invalid setting
     */
    public static List<PoolDefinition> resolve(FolkProperties properties, Duration shutdownPhaseBudget,
                                               Function<String, @Nullable String> configuredValues) {
        return resolve(properties, shutdownPhaseBudget, configuredValues, null);
    }

    /**
     * As {@link #resolve(FolkProperties, Duration, Function)}, with {@code classpath:} arguments
     * extracted by {@code scripts} (and its environment, e.g. FOLK_WORKER_PHP, given to every
     * worker unless configured otherwise); null for none.
     */
    public static List<PoolDefinition> resolve(FolkProperties properties, Duration shutdownPhaseBudget,
                                               Function<String, @Nullable String> configuredValues, @Nullable ClasspathScripts scripts) {
        List<Violation> violations = new ArrayList<>();
        List<PoolDefinition> result = new ArrayList<>();
        if (properties.getPools() == null || properties.getPools().isEmpty()) {
            PoolDefinition d = new Resolver(FolkProperties.DEFAULT_POOL, null, properties, shutdownPhaseBudget,
                    configuredValues, violations, scripts).resolve();
            if (d != null) {
                result.add(d);
            }
        } else {
            for (Map.Entry<String, PoolProperties> e : properties.getPools().entrySet()) {
                PoolProperties pool = e.getValue() != null ? e.getValue() : new PoolProperties();
                PoolDefinition d = new Resolver(e.getKey(), pool, properties, shutdownPhaseBudget, configuredValues,
                        violations, scripts).resolve();
                if (d != null) {
                    result.add(d);
                }
            }
        }
        if (!violations.isEmpty()) {
            throw new FolkConfigurationException(violations);
        }
        return List.copyOf(result);
    }

    /** The fields of {@link PoolProperties} that carry {@code bound}, in declaration order. */
    private static List<Field> settingsWith(Class<? extends Annotation> bound) {
        List<Field> fields = new ArrayList<>();
        for (Field f : PoolProperties.class.getDeclaredFields()) {
            if (f.isAnnotationPresent(bound)) {
                f.setAccessible(true);
                fields.add(f);
            }
        }
        return List.copyOf(fields);
    }

    /** A duration as it would be written in configuration: 500ms, 30s. */
    static String format(Duration d) {
        if (d.getNano() % 1_000_000 != 0) {
            return d.toNanos() + "ns";
        }
        long millis = d.toMillis();
        return millis % 1000 == 0 ? (millis / 1000) + "s" : millis + "ms";
    }

    /** {@code maxJobs} as a configuration key: {@code max-jobs}. */
    static String kebab(String property) {
        return property.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /** A value and the key it came from. */
    private record Setting<T>(String key, @Nullable T value) {
    }

    private static final class Resolver {
        private final String name;
        private final @Nullable PoolProperties pool;
        private final FolkProperties top;
        private final @Nullable Duration phaseBudget;
        private final Function<String, @Nullable String> configuredValues;
        private final List<Violation> violations;
        private final int violationsBefore;
        private final @Nullable ClasspathScripts scripts;

        Resolver(String name, @Nullable PoolProperties pool, FolkProperties top, @Nullable Duration phaseBudget,
                 Function<String, @Nullable String> configuredValues, List<Violation> violations, @Nullable ClasspathScripts scripts) {
            this.scripts = scripts;
            this.name = name;
            this.pool = pool;
            this.top = top;
            this.phaseBudget = phaseBudget;
            this.configuredValues = configuredValues;
            this.violations = violations;
            this.violationsBefore = violations.size();
        }

        /**
         * The setting {@code property} (a Java property name of {@link PoolProperties}) of this pool:
         * the pool's own value if it configured one, else the top level's; with the key it came from.
         */
        private <T> Setting<T> get(String property, Function<PoolProperties, T> getter) {
            if (pool != null && pool.isConfigured(property)) {
                return new Setting<>("folk.pools." + name + "." + kebab(property), getter.apply(pool));
            }
            return new Setting<>("folk." + kebab(property), getter.apply(top));
        }

        /** The setting a field of {@link PoolProperties} holds, as {@link #get} resolves it. */
        private <T> Setting<T> setting(Field field, Class<T> type) {
            return get(field.getName(), p -> {
                try {
                    return type.cast(field.get(p));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            });
        }

        private void violation(Setting<?> s, String problem, String action) {
            violations.add(new Violation(s.key(), display(s), problem, action));
        }

        /** A violation not already reported word for word (by another pool that inherits the same settings). */
        private void violationOnce(Setting<?> s, String problem, String action) {
            Violation v = new Violation(s.key(), display(s), problem, action);
            if (!violations.contains(v)) {
                violations.add(v);
            }
        }

        /** The value as configured if known, else the bound value in the form it is written in. */
        private Object display(Setting<?> s) {
            String configured = null;
            try {
                configured = configuredValues.apply(s.key());
            } catch (RuntimeException e) {
                // not resolvable as written: show the bound value
            }
            if (configured != null) {
                return configured;
            }
            Object value = s.value();
            if (value == null) {
                return "(not set)";
            }
            if (value instanceof Duration d) {
                return format(d);
            }
            if (value instanceof List<?> list) {
                return String.join(",", list.stream().map(String::valueOf).toList());
            }
            if (value instanceof DataSize size) {
                return Sizes.text(size.toBytes());
            }
            return value;
        }

        // Every setting has a default (folk.*) and is checked above the line that uses it; the
        // checks NullAway cannot follow (isPositive, blank, violations.size()) are what guard these.
        @SuppressWarnings("NullAway")
        @Nullable PoolDefinition resolve() {
            if (name == null || name.isBlank() || !name.matches("[A-Za-z0-9._-]+")) {
                violations.add(new Violation("folk.pools." + name, name,
                        "a pool name must be non-blank and use only letters, digits, '.', '_' and '-'",
                        "Rename the pool under folk.pools."));
                return null;
            }
            Setting<String> command = get("command", PoolProperties::getCommand);
            Setting<List<String>> args = get("args", PoolProperties::getArgs);
            Setting<Boolean> inheritEnv = get("inheritEnv", PoolProperties::getInheritEnv);
            Setting<List<String>> passEnv = get("passEnv", PoolProperties::getPassEnv);
            Setting<String> user = get("user", PoolProperties::getUser);
            Setting<String> group = get("group", PoolProperties::getGroup);
            Setting<Path> workingDir = get("workingDir", PoolProperties::getWorkingDir);
            Setting<Path> sandbox = get("sandbox", PoolProperties::getSandbox);
            Setting<Integer> size = get("size", PoolProperties::getSize);
            Setting<Integer> minReady = get("minReady", PoolProperties::getMinReady);
            Setting<Integer> minSize = get("minSize", PoolProperties::getMinSize);
            Setting<Integer> maxSize = get("maxSize", PoolProperties::getMaxSize);
            Setting<Duration> growAfter = get("growAfter", PoolProperties::getGrowAfter);
            Setting<Integer> maxJobs = get("maxJobs", PoolProperties::getMaxJobs);
            Setting<Double> jitter = get("maxJobsJitter", PoolProperties::getMaxJobsJitter);
            Setting<Duration> maxLifetime = get("maxLifetime", PoolProperties::getMaxLifetime);
            Setting<Duration> maxIdle = get("maxIdle", PoolProperties::getMaxIdle);
            Setting<DataSize> maxMemory = get("maxMemory", PoolProperties::getMaxMemory);
            Setting<Duration> bootTimeout = get("bootTimeout", PoolProperties::getBootTimeout);
            Setting<Duration> execTimeout = get("execTimeout", PoolProperties::getExecTimeout);
            Setting<Duration> slowCallThreshold = get("slowCallThreshold", PoolProperties::getSlowCallThreshold);
            Setting<Duration> acquireTimeout = get("acquireTimeout", PoolProperties::getAcquireTimeout);
            Setting<Integer> maxQueue = get("maxQueue", PoolProperties::getMaxQueue);
            Setting<Duration> drainTimeout = get("drainTimeout", PoolProperties::getDrainTimeout);
            Setting<Duration> stopGrace = get("stopGrace", PoolProperties::getStopGrace);
            Setting<Duration> closeWait = get("closeWait", PoolProperties::getCloseWait);
            Setting<Integer> spawns = get("maxConcurrentSpawns", PoolProperties::getMaxConcurrentSpawns);
            Setting<Duration> backoffInitial = get("backoffInitial", PoolProperties::getBackoffInitial);
            Setting<Duration> backoffMax = get("backoffMax", PoolProperties::getBackoffMax);
            Setting<Integer> brokenThreshold = get("brokenThreshold", PoolProperties::getBrokenThreshold);
            Setting<Duration> brokenWindow = get("brokenWindow", PoolProperties::getBrokenWindow);
            Setting<DataSize> maxFrame = get("maxFrameLength", PoolProperties::getMaxFrameLength);
            Setting<DataSize> memoryLimit = get("memoryLimit", PoolProperties::getMemoryLimit);
            Setting<Duration> memoryCheck = get("memoryCheckInterval", PoolProperties::getMemoryCheckInterval);
            Setting<PoolProperties.Output> output = get("output", PoolProperties::getOutput);
            Setting<Path> outputFile = get("outputFile", PoolProperties::getOutputFile);

            // The bounds declared on the settings (PoolProperties): counts, then durations.
            for (Field f : AT_LEAST) {
                PoolProperties.AtLeast bound = f.getAnnotation(PoolProperties.AtLeast.class);
                atLeast(setting(f, Integer.class), bound.value(), bound.action());
            }
            NOT_NEGATIVE.forEach(f -> nonNegative(setting(f, Duration.class)));
            POSITIVE.forEach(f -> positive(setting(f, Duration.class)));

            // Checks that involve several settings or a type of their own
            if (jitter.value() == null || !(jitter.value() >= 0 && jitter.value() < 1)) {
                violation(jitter, "must be at least 0 and below 1", "Use a fraction such as 0.1 (+-10%), or 0.");
            }
            // Elastic size: the bound not set defaults to size (as PoolConfig does).
            int startSize = size.value() == null ? 1 : size.value();
            if (minSize.value() != null || maxSize.value() != null) {
                boolean boundsOk = true;
                if (minSize.value() != null && minSize.value() < 0) {
                    violation(minSize, "must be 0 or more", "Set the fewest workers the pool keeps (0 or more).");
                    boundsOk = false;
                }
                if (maxSize.value() != null && maxSize.value() < 1) {
                    violation(maxSize, "must be at least 1", "Set the most workers the pool may run (1 or more).");
                    boundsOk = false;
                }
                if (boundsOk && minSize.value() != null && maxSize.value() != null && minSize.value() > maxSize.value()) {
                    violation(minSize, "must not be above " + maxSize.key() + " (" + display(maxSize) + ")",
                            "Lower " + minSize.key() + " or raise " + maxSize.key() + ".");
                    boundsOk = false;
                }
                if (boundsOk) {
                    int min = minSize.value() != null ? minSize.value() : Math.min(startSize, maxSize.value());
                    int max = maxSize.value() != null ? maxSize.value() : Math.max(startSize, minSize.value());
                    startSize = min == max ? min : Math.max(1, min);
                    if (min == 0 && maxQueue.value() != null && maxQueue.value() == 0) {
                        violation(minSize, "0 needs " + maxQueue.key() + " of 1 or more: with no worker and no queue"
                                + " the first call would be refused", "Raise " + maxQueue.key() + " or "
                                + minSize.key() + ".");
                    }
                }
            }
            int minReadyValue = startSize;
            if (minReady.value() != null) {
                if (minReady.value() < 1 || minReady.value() > startSize) {
                    violation(minReady, "must be between 1 and the pool size (" + startSize + ")",
                            "Set it between 1 and " + (minSize.value() != null || maxSize.value() != null
                                    ? "the starting size (min-size, at least 1)" : size.key())
                                    + ", or leave it unset to wait for all workers.");
                } else {
                    minReadyValue = minReady.value();
                }
            }

            if (isPositive(backoffInitial.value()) && isPositive(backoffMax.value())
                    && backoffMax.value().compareTo(backoffInitial.value()) < 0) {
                violation(backoffMax, "must be at least " + backoffInitial.key() + " (" + display(backoffInitial) + ")",
                        "Raise " + backoffMax.key() + " or lower " + backoffInitial.key() + ".");
            }
            if (isNonNegative(drainTimeout.value()) && isNonNegative(stopGrace.value())
                    && isNonNegative(closeWait.value()) && phaseBudget != null) {
                Duration needed = drainTimeout.value().plus(closeWait.value()).plus(stopGrace.value());
                if (needed.compareTo(phaseBudget) >= 0) {
                    Duration suggest = needed.plusSeconds(5).withNanos(0);
                    // Reported under the biggest of the three: the one the user most likely has to change.
                    Setting<Duration> biggest = drainTimeout.value().compareTo(stopGrace.value()) >= 0
                            ? drainTimeout.value().compareTo(closeWait.value()) >= 0 ? drainTimeout : closeWait
                            : stopGrace.value().compareTo(closeWait.value()) >= 0 ? stopGrace : closeWait;
                    List<Setting<Duration>> others = new ArrayList<>(List.of(drainTimeout, closeWait, stopGrace));
                    others.remove(biggest);
                    // Settings every pool inherits are reported once for them all, not once per pool.
                    boolean inherited = !drainTimeout.key().contains(".pools.") && !closeWait.key().contains(".pools.")
                            && !stopGrace.key().contains(".pools.");
                    violationOnce(biggest, "with " + others.get(0).key() + "=" + display(others.get(0)) + " and "
                                    + others.get(1).key() + "=" + display(others.get(1)) + ", stopping "
                                    + (inherited ? "a pool" : "pool '" + name + "'") + " may take " + format(needed)
                                    + ", which does not fit in "
                                    + "spring.lifecycle.timeout-per-shutdown-phase=" + format(phaseBudget),
                            "Lower " + drainTimeout.key() + " or " + stopGrace.key()
                                    + ", or raise spring.lifecycle.timeout-per-shutdown-phase to at least "
                                    + suggest.toSeconds() + "s.");
                }
            }

            // Sizes
            if (maxMemory.value() == null || maxMemory.value().isNegative()) {
                violation(maxMemory, "must not be negative", "Use 0 to never recycle by memory, or a size such as 256MB.");
            }
            if (memoryLimit.value() == null || memoryLimit.value().isNegative()) {
                violation(memoryLimit, "must not be negative",
                        "Use a size such as 512MB, or 0 for no hard limit (not recommended).");
            } else if (maxMemory.value() != null && memoryLimit.value().toBytes() > 0
                    && maxMemory.value().toBytes() >= memoryLimit.value().toBytes()) {
                violation(maxMemory, "must be below " + memoryLimit.key() + " (" + display(memoryLimit)
                                + "): the hard limit would kill a worker before the soft one recycles it",
                        "Lower " + maxMemory.key() + " or raise " + memoryLimit.key() + ".");
            }
            if (maxFrame.value() == null || maxFrame.value().toBytes() < 16 || maxFrame.value().toBytes() > MAX_FRAME) {
                violation(maxFrame, "must be between 16 bytes and 2GB",
                        "Use a size such as 16MB (the protocol's limit).");
            }

            // Directories and output
            if (workingDir.value() != null && !Files.isDirectory(workingDir.value())) {
                violation(workingDir, "is not an existing directory (" + workingDir.value().toAbsolutePath() + ")",
                        "Create the directory or point " + workingDir.key() + " to an existing one.");
            }
            if (sandbox.value() != null && Files.exists(sandbox.value()) && !Files.isDirectory(sandbox.value())) {
                violation(sandbox, "exists and is not a directory",
                        "Point " + sandbox.key() + " to a directory (it is created if missing).");
            }
            OutputPolicy outputPolicy = OutputPolicy.log();
            if (output.value() == null) {
                violation(output, "must be set", "Use LOG, DISCARD or FILE.");
            } else if (output.value() == PoolProperties.Output.FILE) {
                if (outputFile.value() == null) {
                    violation(output, "FILE needs an output file but " + outputFile.key() + " is not set",
                            "Set " + outputFile.key() + " to the file the workers' output is appended to.");
                } else {
                    outputPolicy = OutputPolicy.appendTo(outputFile.value());
                }
            } else if (output.value() == PoolProperties.Output.DISCARD) {
                outputPolicy = OutputPolicy.discard();
            }

            // Who the workers run as; then the worker spec, and whether its command can run at all.
            Map<WorkerUserCheck.Subject, Setting<?>> subjects = Map.of(WorkerUserCheck.Subject.USER, user,
                    WorkerUserCheck.Subject.GROUP, group, WorkerUserCheck.Subject.COMMAND, command,
                    WorkerUserCheck.Subject.ARGS, args, WorkerUserCheck.Subject.WORKING_DIR, workingDir,
                    WorkerUserCheck.Subject.SANDBOX, sandbox, WorkerUserCheck.Subject.TMPDIR, blank(user.value()) ? group : user);
            List<WorkerUserCheck.Problem> userProblems = new ArrayList<>();
            RunAs runAs = runAs(user, group, userProblems);
            WorkerSpec spec = buildSpec(command, args, inheritEnv, passEnv, workingDir, sandbox, outputPolicy, runAs,
                    memoryLimit.value() == null ? 0 : memoryLimit.value().toBytes());
            if (spec != null && (workingDir.value() == null || Files.isDirectory(workingDir.value()))) {
                try {
                    String executable = spec.resolveExecutable();
                    if (runAs != null) {
                        WorkerUserCheck.checkAccess(runAs, spec, executable,
                                blank(user.value()) ? group.key() : user.key(), userProblems);
                    }
                } catch (SpawnException e) {
                    commandViolation(command, spec, e);
                }
            }
            userProblems.forEach(p -> violation(subjects.get(p.subject()), p.problem(), p.action()));

            if (violations.size() > violationsBefore || spec == null) {
                return null;
            }
            PoolConfig config;
            try {
                config = PoolConfig.builder(name, spec)
                        .size(size.value())
                        .minSize(minSize.value() == null ? -1 : minSize.value())
                        .maxSize(maxSize.value() == null ? -1 : maxSize.value())
                        .growAfter(growAfter.value())
                        .maxJobs(maxJobs.value())
                        .maxJobsJitter(jitter.value())
                        .maxLifetime(maxLifetime.value())
                        .maxIdle(maxIdle.value())
                        .maxMemoryBytes(maxMemory.value().toBytes())
                        .memoryLimitBytes(memoryLimit.value().toBytes())
                        .bootTimeout(bootTimeout.value())
                        .execTimeout(execTimeout.value())
                        .slowCallThreshold(slowCallThreshold.value())
                        .acquireTimeout(acquireTimeout.value())
                        .maxQueue(maxQueue.value())
                        .drainTimeout(drainTimeout.value())
                        .stopGrace(stopGrace.value())
                        .closeWait(closeWait.value())
                        .maxConcurrentSpawns(spawns.value())
                        .backoffInitial(backoffInitial.value())
                        .backoffMax(backoffMax.value())
                        .brokenThreshold(brokenThreshold.value())
                        .brokenWindow(brokenWindow.value())
                        .maxFrameLength((int) maxFrame.value().toBytes())
                        .memoryCheckInterval(memoryCheck.value())
                        .build();
            } catch (IllegalArgumentException e) {
                // The pool's own checks caught something ours did not: report it under the pool.
                violations.add(new Violation(pool == null ? "folk" : "folk.pools." + name, name, e.getMessage(),
                        "Correct the settings named in the message."));
                return null;
            }
            return new PoolDefinition(name, config, minReadyValue);
        }

        /**
         * The identity of folk.user / folk.group, or null for the JVM's. Extracted class path
         * scripts are then shared with its group.
         */
        @SuppressWarnings("NullAway") // a value that is not blank(...) is not null
        private @Nullable RunAs runAs(Setting<String> user, Setting<String> group, List<WorkerUserCheck.Problem> problems) {
            if (blank(user.value()) && blank(group.value())) {
                return null;
            }
            RunAs runAs = WorkerUserCheck.resolve(blank(user.value()) ? null : user.value().trim(),
                    blank(group.value()) ? null : group.value().trim(), user.key(), group.key(), problems);
            if (runAs != null && scripts != null) {
                try {
                    scripts.shareWithGroup(runAs.gid());
                } catch (IllegalStateException e) {
                    problems.add(new WorkerUserCheck.Problem(blank(group.value()) ? WorkerUserCheck.Subject.USER
                            : WorkerUserCheck.Subject.GROUP, e.getMessage(), "Run every pool that uses classpath:"
                            + " scripts (or the bundled PHP library) with the same group, or give those pools"
                            + " file paths readable by their users."));
                }
            }
            return runAs;
        }

        private static boolean blank(@Nullable String s) {
            return s == null || s.isBlank();
        }

        private @Nullable WorkerSpec buildSpec(Setting<String> command, Setting<List<String>> args, Setting<Boolean> inheritEnv,
                                     Setting<List<String>> passEnv, Setting<Path> workingDir, Setting<Path> sandbox,
                                     OutputPolicy output, @Nullable RunAs runAs, long memoryLimitBytes) {
            if (command.value() == null || command.value().isBlank()) {
                violation(command, "must not be blank", "Set " + command.key()
                        + " to the worker executable, e.g. php or /usr/bin/php.");
                return null;
            }
            WorkerSpec.Builder b;
            try {
                b = WorkerSpec.builder(command.value());
            } catch (IllegalArgumentException e) {
                violation(command, String.valueOf(e.getMessage()), "Set " + command.key() + " to the worker executable.");
                return null;
            }
            b.name(name).inheritEnvironment(inheritEnv.value() != null && inheritEnv.value())
                    .workingDirectory(workingDir.value()).sandboxRoot(sandbox.value()).output(output).runAs(runAs);
            List<String> resolvedArgs = new ArrayList<>();
            List<String> configuredArgs = args.value() == null ? List.of() : args.value();
            if (memoryLimitBytes > 0 && PhpCommand.isPhp(command.value())
                    && configuredArgs.stream().noneMatch(a -> a.contains("memory_limit"))) {
                // PHP's own limit, a little below ours: PHP fails the request with its own clear
                // error first; the hard limit still catches memory PHP does not count (extensions).
                resolvedArgs.add("-d");
                resolvedArgs.add("memory_limit=" + Math.max(1, memoryLimitBytes * 9 / 10 / (1024 * 1024)) + "M");
            }
            for (String configured : configuredArgs) {
                String arg = configured;
                if (arg != null && arg.contains(WORKER_LIBRARY_PLACEHOLDER)) {
                    String library = workerLibrary();
                    if (library == null) {
                        violation(args, arg + ": folk-worker-php is not on the class path, so " + WORKER_LIBRARY_PLACEHOLDER
                                + " names nothing", "Add the folk-spring-boot-starter (or folk-worker-php), or set "
                                + ClasspathScripts.WORKER_LIBRARY_ENV + " in folk.env to the library's autoload.php.");
                        continue;
                    }
                    arg = arg.replace(WORKER_LIBRARY_PLACEHOLDER, library);
                }
                try {
                    resolvedArgs.add(scripts == null ? arg : scripts.resolve(arg));
                } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
                    violation(args, arg + ": " + e.getMessage(), "Put the script under src/main/resources (e.g. "
                            + "src/main/resources/php/app.php for classpath:php/app.php) or give a file path.");
                }
            }
            String ini = PhpCommand.isPhp(command.value()) ? PhpCommand.iniPath(resolvedArgs) : null;
            if (ini != null && !ini.isEmpty()) {
                Path iniPath = Path.of(ini);
                if (!iniPath.isAbsolute() && workingDir.value() != null) {
                    iniPath = workingDir.value().resolve(iniPath);
                }
                String missing = iniMissing(iniPath);
                if (missing != null) {
                    violation(args, "-c " + ini + ": " + missing + " (" + iniPath.toAbsolutePath()
                                    + "); PHP would start without any php.ini, silently",
                            "Point -c at the php.ini file (or its directory), or remove it for PHP's own (php --ini names it).");
                }
            }
            try {
                b.args(resolvedArgs);
            } catch (IllegalArgumentException e) {
                violation(args, String.valueOf(e.getMessage()), "Remove NUL characters from " + args.key() + ".");
            }
            if (scripts != null) {
                scripts.environment().forEach(b::environment); // configured env below wins
            }
            if (passEnv.value() != null) {
                try {
                    b.passEnvironment(passEnv.value());
                } catch (IllegalArgumentException e) {
                    violation(passEnv, String.valueOf(e.getMessage()), "List variable names, or prefixes ending in '*' such as APP_*.");
                }
            }
            for (Map.Entry<String, Setting<String>> e : environment().entrySet()) {
                try {
                    b.environment(e.getKey(), e.getValue().value() == null ? "" : e.getValue().value());
                } catch (IllegalArgumentException ex) {
                    violation(e.getValue(), String.valueOf(ex.getMessage()),
                            "Environment variable names must be non-empty and contain no '=' or NUL.");
                }
            }
            return b.build();
        }

        /**
         * Why PHP would find no php.ini at what {@code -c} names, or null if it would: PHP says nothing
         * of a -c it cannot read. In a directory the CLI looks for php-cli.ini, then php.ini.
         */
        private static @Nullable String iniMissing(Path iniPath) {
            if (!Files.exists(iniPath)) {
                return "no such file or directory";
            }
            if (Files.isDirectory(iniPath) && !Files.isRegularFile(iniPath.resolve("php-cli.ini"))
                    && !Files.isRegularFile(iniPath.resolve("php.ini"))) {
                return "a directory without php.ini (nor php-cli.ini)";
            }
            return null;
        }

        /** folk.env merged with folk.pools.NAME.env, the pool's entries winning. */
        /** What workers find in FOLK_WORKER_PHP: the application's own setting, else the extracted library; null if none. */
        private @Nullable String workerLibrary() {
            Setting<String> own = environment().get(ClasspathScripts.WORKER_LIBRARY_ENV);
            if (own != null && own.value() != null && !own.value().isEmpty()) {
                return own.value();
            }
            return scripts == null ? null : scripts.environment().get(ClasspathScripts.WORKER_LIBRARY_ENV);
        }

        private Map<String, Setting<String>> environment() {
            Map<String, Setting<String>> env = new LinkedHashMap<>();
            if (top.getEnv() != null) {
                top.getEnv().forEach((k, v) -> env.put(k, new Setting<>("folk.env[" + k + "]", v)));
            }
            if (pool != null && pool.getEnv() != null) {
                pool.getEnv().forEach((k, v) -> env.put(k, new Setting<>("folk.pools." + name + ".env[" + k + "]", v)));
            }
            return env;
        }

        @SuppressWarnings("NullAway") // called once the command was found set and the spec built
        private void commandViolation(Setting<String> command, WorkerSpec spec, SpawnException e) {
            boolean directory = "EACCES".equals(e.reason()) && Files.isDirectory(Path.of(e.executable()));
            String problem;
            if ("ENOENT".equals(e.reason())) {
                problem = command.value().indexOf('/') >= 0
                        ? "no such file: " + e.executable() + " (ENOENT)"
                        : "'" + command.value() + "' was not found in the workers' PATH=" + spec.searchPath()
                                + " (ENOENT)";
            } else if (directory) {
                problem = "'" + e.executable() + "' is a directory, not a program (EACCES)";
            } else if ("EACCES".equals(e.reason())) {
                problem = "'" + e.executable() + "' cannot be executed: it is not an executable regular file (EACCES)";
            } else {
                problem = e.getMessage();
            }
            String action;
            if (directory) {
                action = "Set " + command.key() + " to the program itself" + (PhpCommand.isPhp(command.value())
                        || PhpCommand.isPhp(e.executable()) ? "" : " (for PHP: php, or its full path such as /usr/bin/php)")
                        + ".";
            } else if ("EACCES".equals(e.reason())) {
                action = "Make " + e.executable() + " executable (chmod +x), or set " + command.key()
                        + " to an executable file.";
            } else if (PhpCommand.isPhp(command.value()) && installedPhp(spec) != null) {
                action = "PHP is installed as " + installedPhp(spec) + ": set " + command.key()
                        + " to php (or to that path).";
            } else if (PhpCommand.isPhp(command.value())) {
                action = "Install PHP (the CLI) with the msgpack extension:\n"
                        + "        Debian/Ubuntu:      apt-get install php-cli php-msgpack\n"
                        + "        Fedora/RHEL:        dnf install php-cli php-pecl-msgpack\n"
                        + "        macOS (Homebrew):   brew install php && pecl install msgpack\n"
                        + "    or set " + command.key() + " to the full path of your php binary (e.g. /usr/bin/php).";
            } else if (command.value().indexOf('/') >= 0) {
                action = "Set " + command.key() + " to a program that exists (for PHP: php, or its full path such as"
                        + " /usr/bin/php).";
            } else {
                action = "Install '" + command.value() + "' or set " + command.key()
                        + " to the full path of the worker executable.";
            }
            violation(command, problem, action);
        }

        /** The php the workers' PATH would find, when the configured command names another. */
        private static @Nullable String installedPhp(WorkerSpec spec) {
            if ("php".equals(spec.executable())) {
                return null;
            }
            try {
                return WorkerSpec.builder("php").name(spec.name()).environment(spec.environment())
                        .inheritEnvironment(spec.inheritEnvironment()).passEnvironment(List.copyOf(spec.passEnvironment()))
                        .build().resolveExecutable();
            } catch (SpawnException notThere) {
                return null;
            }
        }

        private void atLeast(Setting<Integer> s, int min, String action) {
            if (s.value() == null || s.value() < min) {
                violation(s, "must be at least " + min, action);
            }
        }

        private void nonNegative(Setting<Duration> s) {
            if (!isNonNegative(s.value())) {
                violation(s, "must not be negative", "Use a duration of 0 or more, e.g. 0s or 500ms.");
            }
        }

        private void positive(Setting<Duration> s) {
            if (!isPositive(s.value())) {
                violation(s, "must be positive", "Use a duration above 0, e.g. 10s.");
            }
        }

        private static boolean isNonNegative(@Nullable Duration d) {
            return d != null && !d.isNegative();
        }

        private static boolean isPositive(@Nullable Duration d) {
            return d != null && !d.isNegative() && !d.isZero();
        }

    }
}
