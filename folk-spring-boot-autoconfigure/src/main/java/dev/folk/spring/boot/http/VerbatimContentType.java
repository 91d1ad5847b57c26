package dev.folk.spring.boot.http;

import java.lang.reflect.Method;

import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletResponse;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends PHP's {@code Content-Type} exactly as PHP wrote it.
 *
 * <p>The Servlet API has no way to do that: {@code setContentType} and {@code addHeader("Content-Type")}
 * both parse the value, and Tomcat writes a value with a charset back as {@code type;charset=X}
 * ({@code text/html; charset=UTF-8}, PHP's default, becomes {@code text/html;charset=UTF-8}), so every
 * answer would differ from PHP-FPM's. On Tomcat the value is therefore given to the connector's own
 * response as one without a charset, which Tomcat sends as is. Everywhere else (another container,
 * or a Tomcat whose internals changed), the standard {@code setContentType}.
 */
final class VerbatimContentType {

    private static final Logger log = LoggerFactory.getLogger(VerbatimContentType.class);

    /** Tomcat's coyote Response's setter and getter of the content type; or null. */
    private static final @Nullable Method SET_NO_CHARSET;
    private static final @Nullable Method GET_CONTENT_TYPE;

    static {
        Method set = null;
        Method get = null;
        Class<?> coyoteClass = CoyoteResponse.TYPE;
        if (coyoteClass != null) {
            try {
                set = coyoteClass.getMethod("setContentTypeNoCharset", String.class);
                get = coyoteClass.getMethod("getContentType");
            } catch (ReflectiveOperationException | RuntimeException | LinkageError changed) {
                set = null;
            }
        }
        SET_NO_CHARSET = set;
        GET_CONTENT_TYPE = get;
    }

    private VerbatimContentType() {
    }

    static void set(HttpServletResponse response, String value) {
        if (SET_NO_CHARSET != null && setOnTomcat(response, value)) {
            return;
        }
        response.setContentType(value);
    }

    private static boolean setOnTomcat(ServletResponse response, String value) {
        Method setNoCharset = SET_NO_CHARSET;
        Method getContentType = GET_CONTENT_TYPE;
        if (setNoCharset == null || getContentType == null) {
            return false;
        }
        try {
            Object coyote = CoyoteResponse.of(response);
            if (coyote == null) {
                return false;
            }
            setNoCharset.invoke(coyote, value);
            // A character encoding set earlier (a filter's) would be appended: then the standard way.
            return value.equals(getContentType.invoke(coyote));
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("Cannot set the Content-Type on Tomcat's response directly: {}", e.toString());
            return false;
        }
    }
}
