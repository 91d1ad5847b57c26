package dev.folk.spring.boot.autoconfigure.watch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.spring.boot.autoconfigure.FolkConfigurationException;
import dev.folk.spring.boot.autoconfigure.FolkConfigurationException.Violation;
import dev.folk.spring.boot.autoconfigure.FolkProperties;
import dev.folk.spring.boot.autoconfigure.PoolProperties;
import dev.folk.spring.boot.pool.ClasspathScripts;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.pool.PhpCommand;
import dev.folk.spring.boot.watch.WatchRoot;
import dev.folk.spring.boot.watch.WatchedPool;

/**
 * Turns {@code folk.watch.*} and {@code folk.pools.<name>.watch.*} into what each pool watches:
 * each key is the pool's own if it set it, else the top level's; paths resolved and checked.
 */
final class WatchDefinitions {

    private static final Logger log = LoggerFactory.getLogger(WatchDefinitions.class);

    private WatchDefinitions() {
    }

    /**
     * The pools with reload on change enabled, and what each watches.
     *
     * @throws FolkConfigurationException naming every key that cannot work (a path that does not
     *                                    exist, an invalid glob, no script to watch by default)
     */
    static List<WatchedPool> resolve(FolkProperties properties, FolkPools pools, @Nullable ClasspathScripts scripts,
                                     Path workingDirectory) {
        List<Violation> violations = new ArrayList<>();
        List<WatchedPool> result = new ArrayList<>();
        for (WorkerPool pool : pools.all()) {
            PoolProperties own = properties.getPools() == null ? null : properties.getPools().get(pool.name());
            Pool p = new Pool(pool, own, properties, violations);
            WatchedPool w = p.resolve(scripts, workingDirectory);
            if (w != null) {
                result.add(w);
            }
        }
        if (!violations.isEmpty()) {
            throw new FolkConfigurationException(violations);
        }
        return List.copyOf(result);
    }

    /** One pool's watch settings. */
    private record Pool(WorkerPool pool, @Nullable PoolProperties own, FolkProperties top, List<Violation> violations) {

        /** The key a setting of this pool comes from: its own if it set it, else the top level's. */
        String key(String property) {
            String kebab = property.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
            return own != null && own.isConfigured(property) ? "folk.pools." + pool.name() + "." + kebab : "folk." + kebab;
        }

        <T> T get(String property, Function<PoolProperties, T> getter) {
            return getter.apply(own != null && own.isConfigured(property) ? own : top);
        }

        @Nullable WatchedPool resolve(@Nullable ClasspathScripts scripts, Path workingDirectory) {
            if (!get("watch.enabled", p -> p.getWatch().isEnabled())) {
                return null;
            }
            int before = violations.size();
            List<String> paths = get("watch.paths", p -> p.getWatch().getPaths());
            List<String> patterns = get("watch.patterns", p -> p.getWatch().getPatterns());
            Duration debounce = get("watch.debounce", p -> p.getWatch().getDebounce());
            List<WatchRoot> roots = new ArrayList<>();
            if (paths == null || paths.isEmpty()) {
                String script = scriptDirectory(workingDirectory);
                String missing = script == null ? missingScript(workingDirectory) : null;
                if (missing != null) {
                    // The real mistake, as start-up with watch off reports it (PHP's "Could not open input file").
                    violations.add(new Violation(key("args"), missing, "the worker script does not exist ("
                            + base(workingDirectory).resolve(missing).normalize() + "): PHP cannot start it (\"Could "
                            + "not open input file\"), and reload on change has no script to watch",
                            "Check " + key("args") + ": a classpath: script must be under src/main/resources, a "
                                    + "file path must exist on this machine."));
                } else if (script == null) {
                    violations.add(new Violation(key("watch.paths"), "(not set)", "pool '" + pool.name()
                            + "' has no script to watch by default: none of its " + key("args")
                            + " is a 'classpath:' script or an existing file",
                            "List the directories or files to watch in " + key("watch.paths") + "."));
                } else {
                    addRoots(script, scripts, workingDirectory, roots, true);
                    adviseOnAFrontController(script);
                }
            } else {
                for (String path : paths) {
                    addRoots(path, scripts, workingDirectory, roots, false);
                }
            }
            if (debounce == null || debounce.isNegative() || debounce.isZero()) {
                violations.add(new Violation(key("watch.debounce"), debounce == null ? "(not set)"
                        : debounce.toMillis() + "ms", "must be positive",
                        "Use a duration above 0, e.g. 300ms."));
            }
            if (patterns == null || patterns.isEmpty()) {
                violations.add(new Violation(key("watch.patterns"), "(empty)", "must list at least one glob",
                        "Use e.g. **/*.php (the default)."));
            } else {
                try {
                    WatchedPool.checkPatterns(patterns);
                } catch (IllegalArgumentException e) {
                    violations.add(new Violation(key("watch.patterns"), String.join(",", patterns), String.valueOf(e.getMessage()),
                            "Use globs such as **/*.php, src/**/*.php or *.twig."));
                }
            }
            return violations.size() > before ? null : new WatchedPool(pool.name(), roots, patterns, debounce);
        }

        /**
         * What a pool watches by default: the class path directory of its 'classpath:' script, or
         * the directory of its first argument that is an existing file; null if it has neither.
         */
        @Nullable String scriptDirectory(Path workingDirectory) {
            List<String> args = get("args", PoolProperties::getArgs);
            Path base = base(workingDirectory);
            for (String arg : args == null ? List.<String>of() : args) {
                if (arg.startsWith(ClasspathScripts.PREFIX)) {
                    String location = arg.substring(ClasspathScripts.PREFIX.length());
                    int slash = location.lastIndexOf('/');
                    return ClasspathScripts.PREFIX + (slash < 0 ? location : location.substring(0, slash));
                }
                if (!arg.startsWith("-")) {
                    Path file = base.resolve(arg).normalize();
                    Path directory = file.getParent();
                    if (directory != null && Files.isRegularFile(file)) {
                        return directory.toString();
                    }
                }
            }
            return null;
        }

        /**
         * A framework's front controller ({@code public/index.php}) is in a directory of its own, and
         * the application's code is beside it: watched by default, only the front controller's
         * directory would reload the pool, and every edit of the code would be missed in silence.
         */
        void adviseOnAFrontController(String scriptDirectory) {
            if (scriptDirectory.startsWith(ClasspathScripts.PREFIX)) {
                return;
            }
            Path dir = Path.of(scriptDirectory);
            Path project = dir.getParent();
            if (project == null || !Files.isRegularFile(project.resolve("composer.json"))) {
                return;
            }
            log.warn("Pool '{}': reload on change watches only {}, the directory of its script, and the application"
                    + " beside it ({}, with its composer.json) is not watched: edits there do not reload the pool. Name"
                    + " the directories to watch in {}, e.g. [src, config, templates] or [app, config, routes,"
                    + " resources/views, .env]; not var/, storage/ or bootstrap/cache/, where the application writes"
                    + " its caches as PHP files.", pool.name(), dir, project, key("watch.paths"));
        }

        /** Where the worker's relative paths start: its working directory. */
        Path base(Path workingDirectory) {
            Path dir = pool.config().worker().workingDirectory();
            return dir != null ? workingDirectory.resolve(dir) : workingDirectory;
        }

        /**
         * The script a PHP pool's arguments name, if it is a file path that does not exist here
         * (not with a sandbox root, where paths are the sandbox's); null otherwise.
         */
        @Nullable String missingScript(Path workingDirectory) {
            WorkerSpec worker = pool.config().worker();
            List<String> args = get("args", PoolProperties::getArgs);
            String script = args == null ? null : PhpCommand.script(args);
            if (script == null || script.startsWith(ClasspathScripts.PREFIX) || worker.sandboxRoot() != null
                    || !PhpCommand.isPhp(worker.executable())) {
                return null;
            }
            return Files.exists(base(workingDirectory).resolve(script)) ? null : script;
        }

        private void addRoots(String path, @Nullable ClasspathScripts scripts, Path workingDirectory,
                              List<WatchRoot> roots, boolean byDefault) {
            if (path.startsWith(ClasspathScripts.PREFIX)) {
                String location = path.substring(ClasspathScripts.PREFIX.length()).replaceAll("^/+|/+$", "");
                List<Path> onDisk = scripts == null ? List.of() : scripts.sourcePaths(location);
                if (onDisk.isEmpty()) {
                    // Not a mistake to fail start-up for: the same configuration run from the jar.
                    log.warn("Pool '{}': reload on change cannot watch {}: it is not in a directory on disk (inside a"
                            + " jar, or missing). Run the application from its build output (the IDE,"
                            + " spring-boot:run) or watch file paths ({}).", pool.name(), path, key("watch.paths"));
                }
                for (Path p : onDisk) {
                    roots.add(new WatchRoot(p, Files.isDirectory(p), location));
                }
                return;
            }
            Path p = workingDirectory.resolve(path).toAbsolutePath().normalize();
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.exists(p)) {
                violations.add(new Violation(key(byDefault ? "args" : "watch.paths"), path,
                        "does not exist (" + p + ")", "Point " + key("watch.paths")
                                + " to existing directories or files."));
                return;
            }
            Path watched = linksResolved(p);
            if (!watched.equals(p)) {
                // Watches follow no link: a root that is one (a release's `current`) would see nothing.
                log.info("Pool '{}': reload on change watches {} for {}, where the symbolic links on its way lead"
                        + " now (a link pointed elsewhere later is not followed)", pool.name(), watched, p);
            }
            roots.add(new WatchRoot(watched, Files.isDirectory(watched), null));
        }
    }

    /** {@code p} with the symbolic links on its way resolved (a file's own name kept); {@code p} if that fails. */
    private static Path linksResolved(Path p) {
        try {
            if (Files.isDirectory(p)) {
                return p.toRealPath();
            }
            Path parent = p.getParent();
            return parent == null ? p : parent.toRealPath().resolve(p.getFileName());
        } catch (IOException e) {
            return p;
        }
    }
}
