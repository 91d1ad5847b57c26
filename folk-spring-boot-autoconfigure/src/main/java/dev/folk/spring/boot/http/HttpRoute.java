package dev.folk.spring.boot.http;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.jspecify.annotations.Nullable;

import dev.folk.core.pool.WorkerPool;

/**
 * One mapping of the gateway: the requests under {@code prefix} go to {@code pool}, except those
 * naming a file of {@code publicDir}.
 *
 * @param prefix      the path prefix, without a trailing slash ({@code ""} for every path)
 * @param pool        the pool that serves them
 * @param stripPrefix whether PHP sees the prefix as {@code SCRIPT_NAME} and the rest as {@code PATH_INFO}
 * @param maxBodySize the largest request body forwarded, in bytes; a bigger one is answered 413
 * @param publicDir   the directory whose files are answered as they are ({@link StaticFiles}), or null;
 *                    kept absolute as configured, links on the way not resolved (nginx's {@code root}: a
 *                    release link that a deploy re-points leads each request to the release it names then)
 * @param documentRoot   {@code DOCUMENT_ROOT} for this route's requests; null (or empty) for
 *                       {@code publicDir} (nginx's {@code root}), or without one the gateway's
 *                       ({@link GatewayOptions#documentRoot()})
 * @param scriptFilename {@code SCRIPT_FILENAME} for this route's requests; null (or empty) for
 *                       {@code publicDir}'s index.php, or without one the gateway's
 * @param fallback       whether PHP answers only the requests under {@code prefix} that nothing of the
 *                       application serves (see {@link FallbackRouting}); otherwise every one of them
 * @param publicLinks    which links {@code publicDir}'s files may be reached through (null for {@link PublicLinks#FOLLOW})
 */
public record HttpRoute(String prefix, WorkerPool pool, boolean stripPrefix, long maxBodySize,
                        @Nullable Path publicDir, @Nullable String documentRoot, @Nullable String scriptFilename,
                        boolean fallback, PublicLinks publicLinks) {

    /** A route without a public directory: every request goes to PHP. */
    public HttpRoute(String prefix, WorkerPool pool, boolean stripPrefix, long maxBodySize) {
        this(prefix, pool, stripPrefix, maxBodySize, null);
    }

    /** A route whose DOCUMENT_ROOT and SCRIPT_FILENAME are its public directory's, else the gateway's. */
    public HttpRoute(String prefix, WorkerPool pool, boolean stripPrefix, long maxBodySize, @Nullable Path publicDir) {
        this(prefix, pool, stripPrefix, maxBodySize, publicDir, null, null, false, PublicLinks.FOLLOW);
    }

    /** DOCUMENT_ROOT for this route's requests: its own (or its public directory), else the gateway's. */
    String documentRoot(GatewayOptions options) {
        return documentRoot != null ? documentRoot : options.documentRoot();
    }

    /** SCRIPT_FILENAME for this route's requests: its own (or its public directory's index.php), else the gateway's. */
    String scriptFilename(GatewayOptions options) {
        return scriptFilename != null ? scriptFilename : options.scriptFilename();
    }

    public HttpRoute {
        if (prefix == null || !(prefix.isEmpty() || prefix.startsWith("/")) || prefix.endsWith("/")) {
            throw new IllegalArgumentException("A route prefix starts with '/' and does not end with one: '"
                    + prefix + "'");
        }
        if (pool == null) {
            throw new IllegalArgumentException("Route '" + prefix + "' has no pool");
        }
        if (maxBodySize < 0) {
            throw new IllegalArgumentException("Route '" + prefix + "': max body size " + maxBodySize + " < 0");
        }
        if (publicDir != null) {
            try {
                publicDir.toRealPath();
            } catch (IOException e) {
                throw new IllegalArgumentException("Route '" + prefix + "': public directory " + publicDir
                        + " cannot be read: " + e, e);
            }
            if (!Files.isDirectory(publicDir)) {
                throw new IllegalArgumentException("Route '" + prefix + "': " + publicDir + " is not a directory");
            }
            // Not its real path: resolved once, a 'current' link re-pointed by a deploy would keep the
            // gateway on the old release (its files, and DOCUMENT_ROOT) until a restart.
            publicDir = publicDir.toAbsolutePath().normalize();
        }
        // As nginx: the public directory is the document root, and its index.php the front controller.
        if (documentRoot == null || documentRoot.isEmpty()) {
            documentRoot = publicDir == null ? null : publicDir.toString();
        }
        if (scriptFilename == null || scriptFilename.isEmpty()) {
            scriptFilename = publicDir == null ? null : publicDir.resolve("index.php").toString();
        }
        if (publicLinks == null) {
            publicLinks = PublicLinks.FOLLOW;
        }
    }

    /**
     * The prefix of a configured path: {@code /php}, {@code /php/} and {@code /php/**} all mean
     * {@code /php} and everything under it; {@code /} and {@code /**} mean every path.
     *
     * @throws IllegalArgumentException for any other wildcard, or a path not starting with '/'
     */
    public static String prefixOf(@Nullable String path) {
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException("'" + path + "' does not start with '/'");
        }
        String p = path.endsWith("/**") ? path.substring(0, path.length() - 3) : path;
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.indexOf('*') >= 0 || p.indexOf('?') >= 0 || p.indexOf('{') >= 0) {
            throw new IllegalArgumentException("'" + path + "' is not a path prefix: use a prefix such as /php "
                    + "or /php/** (the servlet container routes by prefix, so no other wildcard is possible)");
        }
        return p;
    }

    /** The servlet URL pattern that routes this prefix to the gateway (or, for a fallback route, to its filter). */
    public String servletPattern() {
        return prefix + "/*";
    }

    /** What the route does, in a few words, for the start-up log: {@code /shop/** -> pool 'shop' (prefix stripped)}. */
    public String describe() {
        StringBuilder b = new StringBuilder(prefix).append("/** -> pool '").append(pool.name()).append('\'');
        String sep = " (";
        if (stripPrefix) {
            b.append(sep).append("prefix stripped");
            sep = ", ";
        }
        if (publicDir != null) {
            b.append(sep).append("files of ").append(publicDir);
            if (publicLinks == PublicLinks.INSIDE) {
                b.append(", no links out of it");
            }
            sep = ", ";
        }
        if (fallback) {
            b.append(sep).append("fallback: after Spring MVC's handlers");
            sep = ", ";
        }
        return sep.equals(", ") ? b.append(')').toString() : b.toString();
    }

    /** Whether this route's prefix covers {@code path} (the path itself, or one under it). */
    public boolean covers(String path) {
        return under(path, prefix);
    }

    /** Whether {@code path} is {@code prefix} or a path under it ({@code ""} is above every path). */
    static boolean under(String path, String prefix) {
        return path.startsWith(prefix) && (path.length() == prefix.length() || path.charAt(prefix.length()) == '/');
    }
}
