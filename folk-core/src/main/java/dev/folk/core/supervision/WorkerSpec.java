package dev.folk.core.supervision;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * How to start one worker: executable, arguments, environment, working directory, an optional
 * per-worker sandbox directory and what to do with its output. Immutable; build with
 * {@link #builder(String)}.
 *
 * <p>Environment: by default the worker sees only the JVM's {@link #DEFAULT_PASS_ENVIRONMENT}
 * (PATH, HOME, LANG, LC_*, TZ, TMPDIR), the JVM variables named in
 * {@link Builder#passEnvironment(String...)} and the {@link Builder#environment(String, String)
 * additions}: a secret in the JVM's environment does not reach workers unless it is named. With
 * {@code inheritEnvironment(true)} the worker sees all of the JVM's environment plus the additions.
 * The protocol's own variables ({@code FOLK_RUNTIME=pipe}, {@code FOLK_TASK_FD=3},
 * {@code FOLK_CONTROL_FD=4}) and {@code FOLK_RUN_ID} are always set and cannot be overridden;
 * with a sandbox, {@code TMPDIR} points into it; with {@link Builder#runAs(RunAs) another user},
 * HOME, USER and LOGNAME are that user's (unless set as additions).
 */
public final class WorkerSpec {

    /**
     * JVM variables every worker gets without being named: what a program needs to find programs,
     * files and its locale. A trailing '*' matches a prefix.
     */
    public static final List<String> DEFAULT_PASS_ENVIRONMENT = List.of("PATH", "HOME", "LANG", "LC_*", "TZ",
            "TMPDIR");

    private final String name;
    private final String executable;
    private final List<String> args;
    private final Map<String, String> environment;
    private final boolean inheritEnvironment;
    private final Set<String> passEnvironment;
    private final @Nullable Path workingDirectory;
    private final @Nullable Path sandboxRoot;
    private final OutputPolicy output;
    private final @Nullable RunAs runAs;

    private WorkerSpec(Builder b) {
        this.name = b.name != null ? b.name : Path.of(b.executable).getFileName().toString();
        this.executable = b.executable;
        this.args = List.copyOf(b.args);
        this.environment = Map.copyOf(b.environment);
        this.inheritEnvironment = b.inheritEnvironment;
        this.passEnvironment = Set.copyOf(b.passEnvironment);
        this.workingDirectory = b.workingDirectory;
        this.sandboxRoot = b.sandboxRoot;
        this.output = b.output;
        this.runAs = b.runAs;
    }

    public static Builder builder(String executable) {
        return new Builder(executable);
    }

    /** A builder holding this spec's values, to derive a variant. */
    public Builder toBuilder() {
        Builder b = new Builder(executable).name(name).args(args).inheritEnvironment(inheritEnvironment)
                .workingDirectory(workingDirectory).sandboxRoot(sandboxRoot).output(output).runAs(runAs);
        b.environment.putAll(environment);
        b.passEnvironment.addAll(passEnvironment);
        return b;
    }

    /** A label for logs and errors, e.g. the pool's name. */
    public String name() {
        return name;
    }

    public String executable() {
        return executable;
    }

    public List<String> args() {
        return args;
    }

    public Map<String, String> environment() {
        return environment;
    }

    public boolean inheritEnvironment() {
        return inheritEnvironment;
    }

    public Set<String> passEnvironment() {
        return passEnvironment;
    }

    /** The child's working directory, or null for the JVM's. A sandbox takes its place. */
    public @Nullable Path workingDirectory() {
        return workingDirectory;
    }

    /** Where per-worker sandbox directories are created, or null for none. */
    public @Nullable Path sandboxRoot() {
        return sandboxRoot;
    }

    public OutputPolicy output() {
        return output;
    }

    /** The identity the worker runs as, or null for the JVM's. */
    public @Nullable RunAs runAs() {
        return runAs;
    }

    /** What posix_spawn runs: an absolute program path and the argv it gets. */
    record Launch(String program, List<String> argv) {
    }

    /** The program and argv that start this worker, given its resolved executable. */
    Launch launch(String resolvedExecutable) {
        if (runAs != null) {
            List<String> argv = runAs.argv(resolvedExecutable, args);
            return new Launch(argv.get(0), argv);
        }
        List<String> argv = new ArrayList<>(args.size() + 1);
        argv.add(executable);
        argv.addAll(args);
        return new Launch(resolvedExecutable, argv);
    }

    /** Whether the JVM variable {@code key} is passed to the worker without inheriting everything. */
    boolean passes(String key) {
        return matches(DEFAULT_PASS_ENVIRONMENT, key) || matches(passEnvironment, key);
    }

    private static boolean matches(Iterable<String> patterns, String key) {
        for (String pattern : patterns) {
            if (pattern.endsWith("*") ? key.startsWith(pattern.substring(0, pattern.length() - 1))
                    : key.equals(pattern)) {
                return true;
            }
        }
        return false;
    }

    /** The exact environment the child gets, as NAME=value strings. */
    List<String> environmentBlock(String runId, @Nullable Path sandbox) {
        Map<String, String> env = new LinkedHashMap<>();
        Map<String, String> parent = System.getenv();
        if (inheritEnvironment) {
            env.putAll(parent);
        } else {
            parent.forEach((key, value) -> {
                if (passes(key)) {
                    env.put(key, value);
                }
            });
        }
        if (runAs != null) {
            env.putAll(runAs.environment()); // not the JVM user's HOME
        }
        env.putAll(environment);
        if (sandbox != null) {
            env.put("TMPDIR", sandbox.toString());
        }
        env.put("FOLK_RUNTIME", "pipe");
        env.put("FOLK_TASK_FD", "3");
        env.put("FOLK_CONTROL_FD", "4");
        env.put("FOLK_RUN_ID", runId);
        List<String> block = new ArrayList<>(env.size());
        env.forEach((k, v) -> block.add(k + '=' + v));
        return block;
    }

    /** The PATH the executable is looked up in: the child's own if set, else the JVM's (always passed). */
    public String searchPath() {
        String path = environment.get("PATH");
        if (path == null) {
            path = System.getenv("PATH");
        }
        return path != null ? path : "/usr/local/bin:/usr/bin:/bin";
    }

    /**
     * The absolute path the executable resolves to, as the spawn will use it: a name without '/'
     * is looked up in {@link #searchPath()}, a relative path is resolved against the working
     * directory (or the JVM's).
     *
     * @throws SpawnException naming the path and the reason (ENOENT, EACCES) if it cannot run
     */
    public String resolveExecutable() {
        if (executable.indexOf('/') >= 0) {
            Path path = Path.of(executable);
            if (!path.isAbsolute()) {
                path = (workingDirectory != null ? workingDirectory : Path.of("")).resolve(path).toAbsolutePath();
            }
            String p = path.toString();
            if (!Files.exists(path)) {
                throw SpawnException.notFound(name, p, "no such file");
            }
            if (Files.isDirectory(path)) {
                throw SpawnException.notExecutable(name, p, "is a directory");
            }
            if (!Files.isRegularFile(path)) {
                throw SpawnException.notExecutable(name, p, "is not a regular file");
            }
            if (!Files.isExecutable(path)) {
                throw SpawnException.notExecutable(name, p, "is not executable");
            }
            return p;
        }
        Path denied = null;
        for (String dir : searchPath().split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir).resolve(executable);
            if (Files.isRegularFile(candidate)) {
                if (Files.isExecutable(candidate)) {
                    return candidate.toAbsolutePath().toString();
                }
                denied = denied == null ? candidate : denied;
            }
        }
        if (denied != null) {
            throw SpawnException.notExecutable(name, denied.toString(), "is not executable");
        }
        throw SpawnException.notFound(name, executable, "searched PATH=" + searchPath());
    }

    @Override
    public String toString() {
        return "WorkerSpec[" + name + ": " + executable + ' ' + String.join(" ", args) + ']';
    }

    public static final class Builder {
        private final String executable;
        private @Nullable String name;
        private final List<String> args = new ArrayList<>();
        private final Map<String, String> environment = new LinkedHashMap<>();
        private boolean inheritEnvironment;
        private final Set<String> passEnvironment = new LinkedHashSet<>();
        private @Nullable Path workingDirectory;
        private @Nullable Path sandboxRoot;
        private OutputPolicy output = OutputPolicy.log();
        private @Nullable RunAs runAs;

        private Builder(String executable) {
            Objects.requireNonNull(executable, "executable");
            if (executable.isBlank() || executable.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("executable must be a non-blank path or command name");
            }
            this.executable = executable;
        }

        public Builder name(@Nullable String name) {
            this.name = name;
            return this;
        }

        public Builder args(String... args) {
            return args(List.of(args));
        }

        public Builder args(List<String> args) {
            for (String a : args) {
                if (a.indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("argument contains a NUL byte: " + a);
                }
            }
            this.args.clear();
            this.args.addAll(args);
            return this;
        }

        public Builder environment(String key, String value) {
            if (key.isEmpty() || key.indexOf('=') >= 0 || key.indexOf('\0') >= 0 || value.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("invalid environment variable " + key);
            }
            environment.put(key, value);
            return this;
        }

        public Builder environment(Map<String, String> env) {
            env.forEach(this::environment);
            return this;
        }

        /** Whether the worker gets all of the JVM's environment (default false: see {@link WorkerSpec}). */
        public Builder inheritEnvironment(boolean inherit) {
            this.inheritEnvironment = inherit;
            return this;
        }

        /**
         * JVM variables passed through, besides {@link #DEFAULT_PASS_ENVIRONMENT}, when the
         * environment is not inherited (an allow-list; {@code APP_*} names a prefix).
         */
        public Builder passEnvironment(String... names) {
            return passEnvironment(List.of(names));
        }

        public Builder passEnvironment(List<String> names) {
            for (String n : names) {
                if (n == null || n.isEmpty() || n.indexOf('=') >= 0 || n.indexOf('\0') >= 0
                        || n.indexOf('*') >= 0 && n.indexOf('*') != n.length() - 1) {
                    throw new IllegalArgumentException("invalid variable name or prefix pattern: '" + n
                            + "' (use NAME or PREFIX*)");
                }
            }
            passEnvironment.addAll(names);
            return this;
        }

        /** Run the worker as another user and/or group (the JVM must be root); null for the JVM's. */
        public Builder runAs(@Nullable RunAs runAs) {
            this.runAs = runAs;
            return this;
        }

        public Builder workingDirectory(@Nullable Path dir) {
            this.workingDirectory = dir;
            return this;
        }

        public Builder sandboxRoot(@Nullable Path root) {
            this.sandboxRoot = root;
            return this;
        }

        public Builder output(OutputPolicy output) {
            this.output = Objects.requireNonNull(output, "output");
            return this;
        }

        public WorkerSpec build() {
            return new WorkerSpec(this);
        }
    }
}
