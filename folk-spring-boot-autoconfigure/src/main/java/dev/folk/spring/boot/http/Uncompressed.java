package dev.folk.spring.boot.http;

import java.lang.reflect.Method;

import jakarta.servlet.ServletResponse;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the container's response compression ({@code server.compression.enabled}) off an answer that
 * must go out as it is: a {@code 206} of PHP's, whose {@code Content-Range} counts bytes of the
 * uncompressed body. Tomcat compresses any answer of a listed type without a strong ETag, 206 or not,
 * and a gzip of a range labelled with the identity range is corrupt for a client or cache that joins
 * ranges (RFC 9110 14.1.2); nginx's gzip never compresses a 206.
 *
 * <p>The Servlet API has no switch for it. Tomcat compresses only for a client whose
 * {@code Accept-Encoding} allows it, read when the answer is committed, so on Tomcat that header is
 * taken off the connector's request (PHP has had it already). Elsewhere, nothing is done.
 */
final class Uncompressed {

    private static final Logger log = LoggerFactory.getLogger(Uncompressed.class);

    /** Tomcat's coyote Response.getRequest(), coyote Request.getMimeHeaders(), MimeHeaders.removeHeader(String); or null. */
    private static final @Nullable Method COYOTE_REQUEST;
    private static final @Nullable Method HEADERS;
    private static final @Nullable Method REMOVE;

    static {
        Method request = null;
        Method headers = null;
        Method remove = null;
        Class<?> coyoteResponse = CoyoteResponse.TYPE;
        if (coyoteResponse != null) {
            try {
                ClassLoader loader = Uncompressed.class.getClassLoader();
                request = coyoteResponse.getMethod("getRequest");
                headers = Class.forName("org.apache.coyote.Request", false, loader).getMethod("getMimeHeaders");
                remove = Class.forName("org.apache.tomcat.util.http.MimeHeaders", false, loader)
                        .getMethod("removeHeader", String.class);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError changed) {
                request = null;
            }
        }
        COYOTE_REQUEST = request;
        HEADERS = headers;
        REMOVE = remove;
    }

    private Uncompressed() {
    }

    /** Before the answer is committed: the container will not compress it. */
    static void keep(ServletResponse response) {
        Method coyoteRequest = COYOTE_REQUEST;
        Method headers = HEADERS;
        Method remove = REMOVE;
        if (coyoteRequest == null || headers == null || remove == null) {
            return;
        }
        try {
            Object coyote = CoyoteResponse.of(response);
            if (coyote != null) {
                remove.invoke(headers.invoke(coyoteRequest.invoke(coyote)), "accept-encoding");
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("Cannot keep Tomcat from compressing an answer: {}", e.toString());
        }
    }
}
