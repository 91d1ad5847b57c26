package dev.folk.spring.boot.watch;

import java.nio.file.Path;

import org.jspecify.annotations.Nullable;

/**
 * One path a pool watches.
 *
 * @param path              absolute and normalized: a directory (watched with everything under it)
 *                          or a file
 * @param directory         whether {@code path} is a directory
 * @param classpathLocation the class path location {@code path} serves ({@code php} for
 *                          {@code target/classes/php}), whose extracted copy must be refreshed before
 *                          a reload; null for a plain file system path
 */
public record WatchRoot(Path path, boolean directory, @Nullable String classpathLocation) {

    /** The directory this root is watched through: itself, or a file's parent (which an absolute path has). */
    public @Nullable Path watchedDirectory() {
        return directory ? path : path.getParent();
    }

    /** Whether {@code file} is this root or lies under it. */
    public boolean covers(Path file) {
        return directory ? file.startsWith(path) : file.equals(path);
    }

    /** The class path resource {@code file} (covered by this root) is served as, or null for a plain path. */
    public @Nullable String resourceOf(Path file) {
        if (classpathLocation == null || !covers(file)) {
            return null;
        }
        if (file.equals(path)) {
            return classpathLocation;
        }
        String relative = path.relativize(file).toString().replace('\\', '/');
        return classpathLocation.isEmpty() ? relative : classpathLocation + "/" + relative;
    }
}
