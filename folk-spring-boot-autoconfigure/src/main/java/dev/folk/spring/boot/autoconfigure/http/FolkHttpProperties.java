package dev.folk.spring.boot.autoconfigure.http;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

import dev.folk.spring.boot.http.PublicLinks;

/**
 * {@code folk.http.*}: the HTTP gateway, which serves the mapped paths with PHP. Off unless at
 * least one mapping is configured.
 */
@ConfigurationProperties("folk.http")
public class FolkHttpProperties {

    /**
     * Request paths served by PHP, each by a named pool: 'path' is a prefix ('/php' or '/php/**':
     * the path and everything under it), 'pool' the pool's name (default 'default'), and
     * 'strip-prefix' whether PHP is given the prefix as SCRIPT_NAME and the rest as PATH_INFO,
     * 'public-dir' the directory whose files are answered without PHP ('public-dir-links' which
     * symbolic links it may lead through), 'fallback' whether Spring MVC
     * answers first. Requests that match no mapping stay with Spring MVC; those that match one go to
     * PHP even where Spring MVC has a handler (start-up warns of them), unless it is a fallback mapping.
     */
    private List<Mapping> mappings = new ArrayList<>();

    /**
     * Largest request body forwarded to PHP; a bigger one is answered 413, without reading it when
     * Content-Length says so. Default: the mapped pool's max-frame-length less 64KB for the rest of
     * the request (headers and server facts); half of it for a max-frame-length up to 128KB. Must be
     * positive (nginx's client_max_body_size 0, no limit, has no equal here: a body is at most a frame).
     */
    private @Nullable DataSize maxBodySize;

    /**
     * Heap that request bodies may hold together while they are read and while their calls wait
     * for a worker; a body that would go past it is answered 503 with Retry-After, so that many
     * large bodies at once cannot exhaust the heap (a body on its way to PHP is in the heap a few
     * times over: read, encoded, answered). Streamed answers waiting for slow clients keep as
     * much again in memory at most, counted apart (past it, in temporary files). Default: an
     * eighth of the JVM's maximum heap.
     */
    private @Nullable DataSize bodyMemory;

    /** SERVER_NAME given to PHP. Default: the host the client asked for (its Host header). */
    private @Nullable String serverName;

    /**
     * SERVER_SOFTWARE given to PHP. Applications read it to tell web servers apart: WordPress offers
     * addresses without /index.php (pretty permalinks) only behind a server whose name says nginx,
     * Apache or IIS. A mapping with 'public-dir' routes requests to the front controller as nginx's
     * try_files does, so 'nginx' suits it. Default: Folk.
     */
    private @Nullable String serverSoftware;

    /**
     * DOCUMENT_ROOT given to PHP: the directory a PHP framework considers its public root. For the
     * mappings without a 'document-root' or 'public-dir' of their own.
     */
    private String documentRoot = "";

    /**
     * SCRIPT_FILENAME given to PHP: the application's front controller, e.g. /app/public/index.php.
     * For the mappings without a 'script-filename' or 'public-dir' of their own.
     */
    private String scriptFilename = "";

    /** Retry-After of a 503 answered when no worker became free in time (whole seconds, rounded up). */
    private Duration retryAfter = Duration.ofSeconds(1);

    /**
     * How long a client may pause while it sends its request body (between two reads, as nginx's
     * client_body_timeout; a long upload that keeps coming is not cut); then it is answered 408 and
     * the connection closed. A trickling client holds no thread meanwhile, only its connection. Also
     * how long a client may take nothing of a streamed answer PHP has finished; then it is cut.
     */
    private Duration bodyTimeout = Duration.ofSeconds(60);

    /**
     * Serve the mapped paths from a servlet filter of this order, ahead of every filter ordered
     * after it (Spring Boot's own run first otherwise: observation, request context, character
     * encoding, form content), which saves their CPU on each PHP request; -2147483648 runs it first.
     * It must be above Spring Security's order (spring.security.filter.order, -100) when Spring
     * Security is present, or start-up fails. A ForwardedHeaderFilter (server.forward-headers-strategy=framework)
     * still runs first: the gateway's filter goes right after it. Default: none, the gateway is a
     * servlet behind every filter.
     */
    private @Nullable Integer filterOrder;

    public List<Mapping> getMappings() { return mappings; }
    public void setMappings(List<Mapping> mappings) { this.mappings = mappings; }
    public @Nullable DataSize getMaxBodySize() { return maxBodySize; }
    public void setMaxBodySize(DataSize maxBodySize) { this.maxBodySize = maxBodySize; }
    public @Nullable DataSize getBodyMemory() { return bodyMemory; }
    public void setBodyMemory(DataSize bodyMemory) { this.bodyMemory = bodyMemory; }
    public @Nullable String getServerName() { return serverName; }
    public void setServerName(@Nullable String serverName) { this.serverName = serverName; }
    public @Nullable String getServerSoftware() { return serverSoftware; }
    public void setServerSoftware(@Nullable String serverSoftware) { this.serverSoftware = serverSoftware; }
    public String getDocumentRoot() { return documentRoot; }
    public void setDocumentRoot(String documentRoot) { this.documentRoot = documentRoot; }
    public String getScriptFilename() { return scriptFilename; }
    public void setScriptFilename(String scriptFilename) { this.scriptFilename = scriptFilename; }
    public Duration getRetryAfter() { return retryAfter; }
    public void setRetryAfter(Duration retryAfter) { this.retryAfter = retryAfter; }
    public Duration getBodyTimeout() { return bodyTimeout; }
    public @Nullable Integer getFilterOrder() { return filterOrder; }
    public void setFilterOrder(Integer filterOrder) { this.filterOrder = filterOrder; }
    public void setBodyTimeout(Duration bodyTimeout) { this.bodyTimeout = bodyTimeout; }

    /** One path prefix served by one pool. */
    public static class Mapping {

        /** Path prefix served by PHP: '/php' or '/php/**' (the path and everything under it). */
        private @Nullable String path;

        /** Name of the pool that serves the path. */
        private String pool = "default";

        /** Whether PHP is given the prefix as SCRIPT_NAME and the rest of the path as PATH_INFO. */
        private boolean stripPrefix;

        /**
         * Whether PHP answers only the requests under the path that the application does not serve:
         * Spring MVC's handlers (controllers, functional routes, actuator endpoints on the
         * application's port, view controllers) and the application's own servlets answer first, and
         * PHP gets every request they would have answered 404. With '/**', an existing PHP application
         * sits behind the Spring application whole, and moves to Spring a route at a time. Handlers of
         * every path do not count, except for the files Spring Boot's static resources at '/**' have.
         * Needs Spring MVC, with its servlet at '/' (spring.mvc.servlet.path). Each request pays a
         * lookup of Spring MVC's handlers first.
         */
        private boolean fallback;

        /**
         * The application's public directory (where its front controller lives, nginx's 'root'). A
         * GET or HEAD whose path names a regular file there is answered with the file, as nginx's
         * 'try_files $uri' does in front of PHP-FPM; another method on such a file is answered 405,
         * as nginx answers it; every other request goes to PHP. The path is
         * the one PHP routes on (after the prefix with strip-prefix). Paths ending in .php or with a
         * hidden segment (.env, .htaccess; a leading /.well-known/ excepted) are always PHP's, and so
         * are files reached through a link out of the directory with 'public-dir-links: inside'.
         * Default: none, every request goes to PHP.
         */
        private @Nullable Path publicDir;

        /**
         * Which symbolic links 'public-dir' may lead through to a file it serves: 'follow' every
         * link, as nginx does by default (Laravel's 'storage:link', a deploy's shared directories,
         * Debian's packaged applications need it), or 'inside' only those whose target is in the
         * directory, for a directory where others can create links (an upload directory where
         * archives are unpacked): the gateway reads files as the JVM's user.
         */
        private PublicLinks publicDirLinks = PublicLinks.FOLLOW;

        /**
         * DOCUMENT_ROOT given to PHP for this mapping's requests. Default: the mapping's
         * 'public-dir' (nginx's 'root'), else 'folk.http.document-root'.
         */
        private @Nullable String documentRoot;

        /**
         * SCRIPT_FILENAME given to PHP for this mapping's requests (its front controller). Default:
         * index.php in the mapping's 'public-dir', else 'folk.http.script-filename'.
         */
        private @Nullable String scriptFilename;

        public @Nullable String getPath() { return path; }
        public void setPath(@Nullable String path) { this.path = path; }
        public String getPool() { return pool; }
        public void setPool(String pool) { this.pool = pool; }
        public boolean isStripPrefix() { return stripPrefix; }
        public void setStripPrefix(boolean stripPrefix) { this.stripPrefix = stripPrefix; }
        public boolean isFallback() { return fallback; }
        public void setFallback(boolean fallback) { this.fallback = fallback; }
        public @Nullable Path getPublicDir() { return publicDir; }
        public void setPublicDir(@Nullable Path publicDir) { this.publicDir = publicDir; }
        public PublicLinks getPublicDirLinks() { return publicDirLinks; }
        public void setPublicDirLinks(PublicLinks publicDirLinks) { this.publicDirLinks = publicDirLinks; }
        public @Nullable String getDocumentRoot() { return documentRoot; }
        public void setDocumentRoot(@Nullable String documentRoot) { this.documentRoot = documentRoot; }
        public @Nullable String getScriptFilename() { return scriptFilename; }
        public void setScriptFilename(@Nullable String scriptFilename) { this.scriptFilename = scriptFilename; }
    }
}
