package dev.folk.spring.boot.http;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * What the gateway tells PHP about the server and how it treats clients, for every route.
 *
 * @param serverName     {@code SERVER_NAME}, or null for the host the client asked for
 * @param documentRoot   {@code DOCUMENT_ROOT}
 * @param scriptFilename {@code SCRIPT_FILENAME}: the application's front controller
 * @param retryAfter     the {@code Retry-After} of a 503 (no free worker)
 * @param bodyTimeout    how long a client may take to send its request body (then 408)
 * @param maxResponseHeaderSize the servlet container's limit for a response's status line and
 *                       headers, in bytes (Tomcat's {@code maxHttpResponseHeaderSize}); PHP's answer
 *                       whose headers would not fit is a 502 (as nginx answers one past its
 *                       {@code fastcgi_buffer_size}), not the container's 500. 0 or less: no check
 * @param bodyMemory     the bytes that request bodies (being read, or waiting with their call for a
 *                       worker) may hold together in the heap; a body that would go past it is
 *                       answered 503, so that clients sending large bodies at once cannot exhaust
 *                       the heap. 0 or less: {@link #defaultBodyMemory()}
 * @param serverSoftware {@code SERVER_SOFTWARE}; blank: {@value #SERVER_SOFTWARE}
 */
public record GatewayOptions(@Nullable String serverName, String documentRoot, String scriptFilename, Duration retryAfter,
                             Duration bodyTimeout, long maxResponseHeaderSize, long bodyMemory, String serverSoftware) {

    /** The default {@link #serverSoftware()}: RFC 3875's server product. */
    public static final String SERVER_SOFTWARE = "Folk";

    /** Tomcat's (and Jetty's) default limit for a response's head. */
    public static final long DEFAULT_MAX_RESPONSE_HEADER_SIZE = 8 * 1024;

    public GatewayOptions {
        documentRoot = documentRoot == null ? "" : documentRoot;
        scriptFilename = scriptFilename == null ? "" : scriptFilename;
        retryAfter = retryAfter == null || retryAfter.isNegative() ? Duration.ofSeconds(1) : retryAfter;
        bodyTimeout = bodyTimeout == null || bodyTimeout.isNegative() || bodyTimeout.isZero()
                ? Duration.ofSeconds(60) : bodyTimeout;
        bodyMemory = bodyMemory > 0 ? bodyMemory : defaultBodyMemory();
        serverSoftware = serverSoftware.isBlank() ? SERVER_SOFTWARE : serverSoftware;
    }

    /** With the default {@link #serverSoftware()}. */
    public GatewayOptions(@Nullable String serverName, String documentRoot, String scriptFilename, Duration retryAfter,
                          Duration bodyTimeout, long maxResponseHeaderSize, long bodyMemory) {
        this(serverName, documentRoot, scriptFilename, retryAfter, bodyTimeout, maxResponseHeaderSize, bodyMemory, SERVER_SOFTWARE);
    }

    /**
     * With the servlet containers' default limit for a response's head ({@value #DEFAULT_MAX_RESPONSE_HEADER_SIZE}
     * bytes) and the default memory for bodies.
     */
    public GatewayOptions(@Nullable String serverName, String documentRoot, String scriptFilename, Duration retryAfter,
                          Duration bodyTimeout) {
        this(serverName, documentRoot, scriptFilename, retryAfter, bodyTimeout, DEFAULT_MAX_RESPONSE_HEADER_SIZE, 0);
    }

    /**
     * An eighth of the JVM's maximum heap: the default {@link #bodyMemory()}. A body on its way to
     * PHP is in the heap more than once (read, then encoded in its frame, with a copy while the
     * frame grows), and its answer may be as large.
     */
    public static long defaultBodyMemory() {
        return Runtime.getRuntime().maxMemory() / 8;
    }

    /**
     * The defaults: the client's host, empty document root and script, Retry-After 1 s, 60 s for a
     * body, the containers' default limit for a response's head, an eighth of the heap for bodies,
     * {@value #SERVER_SOFTWARE} as the server's product.
     */
    public static GatewayOptions defaults() {
        return new GatewayOptions(null, "", "", Duration.ofSeconds(1), Duration.ofSeconds(60));
    }

    /** {@link #retryAfter()} in whole seconds, rounded up. */
    String retryAfterSeconds() {
        long ms = retryAfter.toMillis();
        return Long.toString((ms + 999) / 1000);
    }
}
