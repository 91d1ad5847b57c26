package dev.folk.spring.boot.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.pool.CallException;
import dev.folk.core.pool.ExecTimeoutException;
import dev.folk.core.pool.NoWorkerAvailableException;
import dev.folk.core.pool.PoolClosedException;
import dev.folk.core.pool.QueueFullException;
import dev.folk.core.pool.RequestTooLargeException;
import dev.folk.core.protocol.Values;

/**
 * The HTTP response to send: PHP's answer once checked, or the gateway's own answer when there
 * is none, mapped as a reverse proxy would (413, 502, 503 with Retry-After, 504; never a 500).
 *
 * @param status  the status code
 * @param headers header lines, name then value, values as the chars of their bytes (ISO-8859-1)
 * @param body    the body bytes
 * @param own     whether the gateway's own answer (plain text), not PHP's
 * @param length  the Content-Length to send: the body's for a whole answer, but for a HEAD the
 *                one PHP declared, or -1 without one, as nginx passes it; for a streamed answer's
 *                head the one PHP declared, or -1 without one (chunked)
 */
record GatewayReply(int status, List<String> headers, byte[] body, boolean own, long length) {

    private static final Logger log = LoggerFactory.getLogger(GatewayReply.class);

    /** PHP's default when a script sets none. */
    static final String DEFAULT_CONTENT_TYPE = "text/html; charset=UTF-8";

    /**
     * Hop-by-hop headers: each connection has its own, which the servlet container writes. Dropped
     * from PHP's answer without a word, as nginx drops them from PHP-FPM's.
     */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "te",
            "trailer", "upgrade", "proxy-authenticate", "proxy-authorization");

    /**
     * Headers addressed to nginx, which it acts on and never passes on (its fastcgi_hide_header
     * defaults): dropped too. X-Accel-Redirect, a file nginx would serve in place of the answer,
     * is not followed: that is logged.
     */
    private static final Set<String> FOR_NGINX = Set.of("x-accel-expires", "x-accel-redirect", "x-accel-limit-rate",
            "x-accel-buffering", "x-accel-charset");

    /**
     * Room kept under the container's limit for a response's head for what it writes beside PHP's
     * headers: the status line, Date, Content-Length (and our default Content-Type), the connection
     * headers, Transfer-Encoding, the blank line.
     */
    static final int CONTAINER_HEAD_RESERVE = 256;

    /** What {@link #contentLength} gives for a value that is no length. */
    private static final long INVALID_LENGTH = -2;

    /** A whole answer of the given status, headers and body. */
    GatewayReply(int status, List<String> headers, byte[] body, boolean own) {
        this(status, headers, body, own, body.length);
    }

    /**
     * PHP's {status, headers, body}; anything malformed is PHP's fault: 502, never 500.
     *
     * @param headRequest whether it answers a HEAD: its length is then the one PHP declared (a body
     *                    PHP printed still cuts it, as a GET's), or none (-1) if PHP declared none
     */
    static GatewayReply fromPhp(@Nullable Object result, String pool, int pid, String label, boolean headRequest,
                                GatewayOptions options, RepeatedWarnings warnings) {
        return parse(result, pool, pid, label, true, headRequest, options, warnings);
    }

    /** The head ({@code http.head}: status and headers) of a streamed answer, checked as {@link #fromPhp}. */
    static GatewayReply headOfStream(@Nullable Object params, String pool, int pid, String label, GatewayOptions options,
                                     RepeatedWarnings warnings) {
        return parse(params, pool, pid, label, false, false, options, warnings);
    }

    /**
     * The 502 of a streamed answer whose body part (or end) came before its head: nothing of it can
     * go out as PHP meant it, and its rest alone would look complete.
     */
    static GatewayReply partBeforeHead(String method, String pool, int pid, String label) {
        log.warn("{} sent '{}' before the head ('http.head') of its streamed answer to {}: 502. A worker must send "
                + "the head first (docs/PROTOCOL.md, \"Streamed answers\")", answerer(pool, pid), method, label);
        return text(502, "PHP gave a malformed answer.");
    }

    /** Who answered, for a log line: {@code Worker 4242 of pool 'main'}, or the pool alone if its worker is not known (0). */
    static String answerer(String pool, int pid) {
        return pid > 0 ? "Worker " + pid + " of pool '" + pool + "'" : "Pool '" + pool + "'";
    }

    private static GatewayReply parse(@Nullable Object result, String pool, int pid, String label, boolean whole,
                                      boolean headRequest, GatewayOptions options, RepeatedWarnings warnings) {
        Map<Object, Object> answer;
        int status;
        byte[] body;
        String part = "its answer";
        try {
            answer = Values.asMap(result);
            part = "its 'status'";
            Object s = answer.get("status");
            status = s == null ? 200 : Values.asInt(s);
            part = "its 'body'";
            Object b = answer.get("body");
            body = b == null ? PhpRequest.NO_BODY : Values.asBytes(b);
        } catch (RuntimeException e) {
            log.warn("{} answered {} with something that is not an HTTP response ({}: {}): 502", answerer(pool, pid), label,
                    part, e.getMessage());
            return text(502, "PHP gave a malformed answer.");
        }
        if (status < 200 || status > 599) {
            // A 1xx is no final response; anything else is no HTTP status at all.
            log.warn("{} answered {} with HTTP status {}, which cannot end a response: 502", answerer(pool, pid), label,
                    status);
            return text(502, "PHP gave an invalid HTTP status.");
        }
        List<String> headers = new ArrayList<>();
        long declared = -1;
        Object rawHeaders = answer.get("headers");
        if (rawHeaders != null) {
            try {
                for (Map.Entry<Object, Object> e : Values.asMap(rawHeaders).entrySet()) {
                    String name = name(e.getKey());
                    if (name.equalsIgnoreCase("Content-Length")) {
                        declared = contentLength(e.getValue());
                    } else if (name.equalsIgnoreCase("Status")) {
                        // CGI's status line (header('Status: 404 Not Found')): nginx takes PHP-FPM's as the
                        // status and never passes it on. Here PHP's own status comes first, unless it is 200.
                        int code = cgiStatus(e.getValue());
                        if (status == 200 && code > 0) {
                            status = code;
                        }
                    } else {
                        addHeader(headers, name, e.getValue(), pool, label, warnings);
                    }
                }
            } catch (RuntimeException e) {
                log.warn("{} answered {} with headers that are not a map ({}): 502", answerer(pool, pid), label,
                        e.getMessage());
                return text(502, "PHP gave a malformed answer.");
            }
        }
        long limit = options.maxResponseHeaderSize();
        if (limit > 0) {
            long size = 0;
            for (int i = 0; i < headers.size(); i += 2) {
                size += headers.get(i).length() + headers.get(i + 1).length() + 4; // name: value CRLF, a byte a char
            }
            if (size + CONTAINER_HEAD_RESERVE > limit) {
                // The container would fail to write them and answer 500 (Tomcat's HeadersTooLargeException);
                // nginx answers 502 ("upstream sent too big header") past its fastcgi_buffer_size.
                warnings.answerFixed(RepeatedWarnings.Kind.HEAD_TOO_LARGE, pool, answerer(pool, pid) + " answered "
                        + label + " with " + size + " bytes of headers, more than the server's limit of " + limit
                        + " bytes for a response's head leaves room for (" + CONTAINER_HEAD_RESERVE
                        + " bytes are kept for the status line and the server's own headers): 502. Send fewer or"
                        + " shorter headers, or raise the limit (server.tomcat.max-http-response-header-size, on Jetty"
                        + " server.jetty.max-http-response-header-size)", label);
                return text(502, "PHP's answer has more headers than the server can send. See the log.");
            }
        }
        if (declared == INVALID_LENGTH) {
            // nginx: "upstream sent invalid Content-Length header", 502. Nobody can tell where such a body ends.
            log.warn("{} answered {} with an invalid Content-Length (not one number of digits): 502", answerer(pool, pid),
                    label);
            return text(502, "PHP gave a malformed answer.");
        }
        long length = declared;
        if (whole) {
            length = body.length;
            if (headRequest && (body.length == 0 || declared < 0)) {
                // A HEAD: the length PHP declared (Symfony's prepare() keeps it and leaves the body out), else
                // none, as nginx passes PHP-FPM's. What PHP printed for a HEAD (nothing, for the framework
                // adapters) need not be what the GET prints, and a Content-Length that is not the GET's is
                // forbidden (RFC 9110 8.6). Without one Tomcat writes neither Content-Length nor chunked for a
                // HEAD, as nginx does, if no body is written (below).
                length = declared;
            } else if (declared >= 0 && declared < body.length) {
                // nginx keeps an answer to the length PHP declared: the bytes past it are dropped.
                warnings.answerFixed(RepeatedWarnings.Kind.PAST_LENGTH, pool, "Pool '" + pool + "' answered " + label
                        + " with Content-Length " + declared + " and a body of " + body.length + " bytes; the "
                        + (body.length - declared) + " bytes past it were dropped, as nginx drops them", label);
                body = Arrays.copyOf(body, (int) declared);
                length = declared;
            } else if (declared > body.length) {
                // The body is all there is: its length frames the response, whatever the header said.
                warnings.answerFixed(RepeatedWarnings.Kind.CONTENT_LENGTH, pool, "Pool '" + pool + "' answered " + label
                        + " with Content-Length " + declared + " and a body of " + body.length + " bytes; sent with "
                        + body.length, label);
            }
            if (headRequest) {
                // Never sent; and written, it would make Tomcat declare its length for a HEAD PHP declared none for.
                body = PhpRequest.NO_BODY;
            }
        }
        return new GatewayReply(status, headers, body, false, length);
    }

    /** The final status a CGI {@code Status} value starts with ("404 Not Found"), as nginx reads it; else 0. */
    private static int cgiStatus(@Nullable Object value) {
        Object first = value instanceof List<?> list ? (list.isEmpty() ? null : list.get(0)) : value;
        String text = first instanceof List<?> || first instanceof Map<?, ?> ? "" : chars(first == null ? "" : first).strip();
        if (text.length() < 3 || (text.length() > 3 && text.charAt(3) != ' ')) {
            return 0;
        }
        int code = 0;
        for (int i = 0; i < 3; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return 0;
            }
            code = code * 10 + (c - '0');
        }
        return code >= 200 && code <= 599 ? code : 0;
    }

    /**
     * A Content-Length value: digits only (surrounding spaces aside), the same number if PHP sent
     * several lines; else {@link #INVALID_LENGTH}.
     */
    private static long contentLength(@Nullable Object value) {
        List<?> values = value instanceof List<?> list ? list : List.of(value == null ? "" : value);
        long length = INVALID_LENGTH;
        for (Object v : values) {
            String text = chars(v).strip();
            if (text.isEmpty() || text.length() > 18 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return INVALID_LENGTH;
            }
            long n = Long.parseLong(text);
            if (length != INVALID_LENGTH && n != length) {
                return INVALID_LENGTH;
            }
            length = n;
        }
        return length;
    }

    /**
     * The rest of a streamed answer's body: the {@code body} of the call's result, whose status and
     * headers came first ({@code http.head}); null, logged, if the result is not an HTTP response.
     */
    static byte @Nullable [] restOfStream(@Nullable Object result, String pool, int pid, String label) {
        try {
            Object b = Values.asMap(result).get("body");
            return b == null ? PhpRequest.NO_BODY : Values.asBytes(b);
        } catch (RuntimeException e) {
            log.warn("{} ended its streamed answer to {} with something that is not an HTTP response ({})",
                    answerer(pool, pid), label, e.getMessage());
            return null;
        }
    }

    private static String name(Object rawName) {
        return rawName instanceof byte[] || rawName instanceof String ? Values.asString(rawName)
                : String.valueOf(rawName);
    }

    private static void addHeader(List<String> headers, String name, Object value, String pool, String label,
                                  RepeatedWarnings warnings) {
        if (!isToken(name)) {
            warnings.answerFixed(RepeatedWarnings.Kind.HEADER_NAME, pool, "Dropped response header " + quote(name)
                    + " from pool '" + pool + "' for " + label + ": not a valid header name", label);
            return;
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (HOP_BY_HOP.contains(lower)) {
            log.debug("Dropped response header {} from pool '{}' for {}: the server writes its own", name, pool,
                    label);
            return;
        }
        if (FOR_NGINX.contains(lower)) {
            if (lower.equals("x-accel-redirect")) {
                warnings.answerFixed(RepeatedWarnings.Kind.ACCEL_REDIRECT, pool, "Pool '" + pool + "' answered " + label
                        + " with X-Accel-Redirect, which only nginx follows: sent the answer itself", label);
            } else {
                log.debug("Dropped response header {} from pool '{}' for {}: nginx acts on it and drops it", name,
                        pool, label);
            }
            return;
        }
        List<?> values = value instanceof List<?> list ? list : List.of(value == null ? "" : value);
        for (Object v : values) {
            if (v instanceof List<?> || v instanceof Map<?, ?>) {
                // PROTOCOL.md: a string or a list of strings. Java's rendering ("[a, b]") is no header line.
                warnings.answerFixed(RepeatedWarnings.Kind.HEADER_VALUE, pool, "Dropped response header " + name
                        + " from pool '" + pool + "' for " + label + ": its value is a list or a map, not a string",
                        label);
                continue;
            }
            String text = chars(v);
            if (isFieldValue(text)) {
                headers.add(name);
                headers.add(text);
            } else {
                // CR or LF would split the header: a response-splitting attempt or a bug in PHP code.
                warnings.answerFixed(RepeatedWarnings.Kind.HEADER_VALUE, pool, "Dropped response header " + name
                        + " from pool '" + pool + "' for " + label + ": its value contains control characters", label);
            }
        }
    }

    /** The value's bytes as chars of ISO-8859-1, which the container writes back as the same bytes. */
    private static String chars(Object v) {
        if (v instanceof byte[] bytes) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
        String s = v instanceof String str ? str : String.valueOf(v);
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
            }
        }
        return s;
    }

    /** The answer to a failed call. */
    static GatewayReply fromFailure(Throwable error, GatewayOptions options, String label, RepeatedWarnings warnings) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e instanceof RequestTooLargeException tooLarge) {
            warnings.refused(RepeatedWarnings.Kind.BODY_TOO_LARGE, tooLarge.pool(), e.getMessage() + " (" + label + "): 413",
                    label);
            return text(413, "Request too large for the worker protocol (" + tooLarge.size() + " bytes encoded, limit "
                    + tooLarge.limit() + ").");
        }
        if (e instanceof ExecTimeoutException) {
            log.warn("{} ({})", e.getMessage(), label);
            return text(504, "PHP did not answer in time.");
        }
        if (e instanceof NoWorkerAvailableException || e instanceof QueueFullException) {
            warnings.busy(((CallException) e).pool(), String.valueOf(e.getMessage()), label);
            // A pool whose workers cannot start (BROKEN, none left) is not busy: a client told so would retry at once.
            return e instanceof NoWorkerAvailableException none && none.noneRunning()
                    ? unavailable(options, "No PHP worker is running; try again later.") : busy(options);
        }
        if (e instanceof OutOfMemoryError && String.valueOf(e.getMessage()).contains("native thread")) {
            log.error("The JVM could not start a thread for the call of {} ({}): 503. Raise the limit on processes and "
                    + "threads of the JVM's user (ulimit -u) or of its container (pids.max): the JVM's threads and every "
                    + "PHP worker and its children count against it", label, e.toString());
            return unavailable(options, "The server cannot take this request now; try again shortly.");
        }
        if (e instanceof OutOfMemoryError) {
            // A large body or answer found no heap for its frame: the request fails, the JVM goes on.
            log.error("The JVM had no heap left for the call of {} ({}): 503. Give the JVM more heap (-Xmx), or lower "
                    + "max-frame-length, folk.http.max-body-size or folk.http.body-memory: each call in flight may hold "
                    + "a few copies of a frame of up to max-frame-length", label, e.toString());
            return unavailable(options, "The server has no memory for this request now; try again shortly.");
        }
        if (e instanceof PoolClosedException) {
            // The application is stopping (or its pool was closed): not busy workers, which a reader would look for.
            log.warn("{} ({})", e.getMessage(), label);
            return unavailable(options, "The server is shutting down; try again shortly.");
        }
        if (e instanceof CallException call) {
            log.warn("{} ({})", e.getMessage(), label);
            // No pid: the call never reached a worker (params it could not send), which no worker is to blame for.
            return text(502, call.pid() > 0 ? "PHP failed to answer (worker " + call.pid() + "). See the log."
                    : "The request could not be passed to PHP. See the log.");
        }
        log.error("The call for {} failed unexpectedly: 502", label, e);
        return phpFailed();
    }

    /** The 503 of a request no worker was free for. */
    private static GatewayReply busy(GatewayOptions options) {
        return unavailable(options, "No PHP worker is free; try again shortly.");
    }

    /** The 503 of a request body the gateway's body memory had no room for. */
    static GatewayReply noRoomForBody(GatewayOptions options) {
        return unavailable(options, "The server is busy receiving other request bodies; try again shortly.");
    }

    /** A 503 of the gateway's own, with the options' Retry-After. */
    private static GatewayReply unavailable(GatewayOptions options, String message) {
        return new GatewayReply(503, List.of("Retry-After", options.retryAfterSeconds()), bytes(message), true);
    }

    /** The 502 of a call that failed without a reason the client need know. */
    static GatewayReply phpFailed() {
        return text(502, "PHP failed to answer. See the log.");
    }

    static GatewayReply text(int status, String message) {
        return new GatewayReply(status, List.of(), bytes(message), true);
    }

    private static byte[] bytes(String message) {
        return (message + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** RFC 9110 token: the characters a header name may use. */
    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Visible characters (obs-text included), spaces and tabs only: no CR, LF, NUL or other controls. */
    static boolean isFieldValue(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f || c > 0xff) {
                return false;
            }
        }
        return true;
    }

    private static String quote(String s) {
        return '"' + s.replaceAll("[\\p{Cntrl}]", "?") + '"';
    }
}
