package dev.folk.spring.boot.watch;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.PatternSyntaxException;

import org.jspecify.annotations.Nullable;

/**
 * What one pool watches: its roots, the globs a file in a watched directory must match, and the
 * quiet time before a reload.
 *
 * <p>A glob containing a slash is matched against the file's path relative to the watched
 * directory, and a leading {@code **} and slash also match no directory, so {@code **}{@code /*.php}
 * matches {@code app.php} as well as {@code src/Home.php} (java.nio's glob alone would require a
 * slash). A glob without a slash is matched against the file name, in any directory, as in
 * {@code .gitignore}. A file named as a root always counts. A hidden file in a watched directory
 * counts only if a glob for hidden files matches it (one whose last part starts with a dot,
 * {@code .env*}): editors make hidden files before any save (Emacs' lock {@code .#Home.php}, other
 * editors' temporary copies), which {@code **}{@code /*.php} would match.
 */
public final class WatchedPool {

    private final String pool;
    private final List<WatchRoot> roots;
    private final List<String> patterns;
    private final List<PathMatcher> relativeMatchers = new ArrayList<>();
    private final List<PathMatcher> nameMatchers = new ArrayList<>();
    /** The same for the globs whose last part starts with a dot: the only ones a hidden file can match. */
    private final List<PathMatcher> hiddenRelativeMatchers = new ArrayList<>();
    private final List<PathMatcher> hiddenNameMatchers = new ArrayList<>();
    private final Duration debounce;

    /**
     * @throws IllegalArgumentException if a pattern is not a valid glob, or the debounce is not positive
     */
    public WatchedPool(String pool, List<WatchRoot> roots, List<String> patterns, Duration debounce) {
        if (debounce.isNegative() || debounce.isZero()) {
            throw new IllegalArgumentException("the debounce must be positive: " + debounce);
        }
        this.pool = pool;
        this.roots = List.copyOf(roots);
        this.patterns = List.copyOf(patterns);
        this.debounce = debounce;
        for (String pattern : patterns) {
            if (pattern.isBlank()) {
                throw new IllegalArgumentException("a pattern must not be blank");
            }
            boolean hidden = pattern.substring(pattern.lastIndexOf('/') + 1).startsWith(".");
            if (pattern.indexOf('/') < 0) {
                (hidden ? hiddenNameMatchers : nameMatchers).add(glob(pattern));
            } else {
                List<PathMatcher> into = hidden ? hiddenRelativeMatchers : relativeMatchers;
                into.add(glob(pattern));
                if (pattern.startsWith("**/")) {
                    into.add(glob(pattern.substring(3)));
                }
            }
        }
    }

    /**
     * Checks that every pattern is a valid glob.
     *
     * @throws IllegalArgumentException naming the first that is not
     */
    public static void checkPatterns(List<String> patterns) {
        for (String pattern : patterns) {
            if (pattern == null || pattern.isBlank()) {
                throw new IllegalArgumentException("a pattern must not be blank");
            }
            glob(pattern);
        }
    }

    private static PathMatcher glob(String pattern) {
        try {
            return FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("'" + pattern + "' is not a valid glob: " + e.getDescription()
                    + " at index " + e.getIndex(), e);
        }
    }

    public String pool() {
        return pool;
    }

    public List<WatchRoot> roots() {
        return roots;
    }

    public List<String> patterns() {
        return patterns;
    }

    public Duration debounce() {
        return debounce;
    }

    /** The root that makes {@code file} (absolute, normalized) count as a change, or null if it does not. */
    public @Nullable WatchRoot rootMatching(Path file) {
        for (WatchRoot root : roots) {
            if (!root.covers(file)) {
                continue;
            }
            if (!root.directory()) {
                return root;
            }
            Path relative = root.path().relativize(file);
            Path name = file.getFileName();
            if (relative.toString().isEmpty() || name == null) {
                continue;
            }
            boolean hidden = name.toString().startsWith(".");
            for (PathMatcher m : hidden ? hiddenRelativeMatchers : relativeMatchers) {
                if (m.matches(relative)) {
                    return root;
                }
            }
            for (PathMatcher m : hidden ? hiddenNameMatchers : nameMatchers) {
                if (m.matches(name)) {
                    return root;
                }
            }
        }
        return null;
    }

    /** Whether {@code file} counts as a change of this pool's sources. */
    public boolean matches(Path file) {
        return rootMatching(file) != null;
    }

    /** Whether {@code path} lies in one of the roots, whatever the patterns say. */
    public boolean covers(Path path) {
        for (WatchRoot root : roots) {
            if (root.covers(path)) {
                return true;
            }
        }
        return false;
    }

    /** Whether new directories under {@code dir} are to be watched too (it lies in a watched directory). */
    boolean watchesTree(Path dir) {
        for (WatchRoot root : roots) {
            if (root.directory() && dir.startsWith(root.path())) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "pool '" + pool + "' watching " + roots.stream().map(r -> r.path().toString()).toList() + " for "
                + patterns;
    }
}
