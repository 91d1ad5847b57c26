package dev.folk.spring.boot.http;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;

import org.jspecify.annotations.Nullable;

/**
 * Tomcat's connector-level response ({@code org.apache.coyote.Response}) under a servlet response,
 * for the few things the Servlet API cannot say ({@link VerbatimContentType}, {@link Uncompressed}).
 * Null on another container, or on a Tomcat whose internals changed.
 */
final class CoyoteResponse {

    /** Tomcat's ResponseFacade.response and Response.getCoyoteResponse(); or null. */
    private static final @Nullable Field FACADE_RESPONSE;
    private static final @Nullable Method GET_COYOTE;
    /** {@code org.apache.coyote.Response}, to look its methods up; or null. */
    static final @Nullable Class<?> TYPE;

    static {
        Field facade = null;
        Method coyote = null;
        Class<?> type = null;
        try {
            ClassLoader loader = CoyoteResponse.class.getClassLoader();
            Class<?> facadeClass = Class.forName("org.apache.catalina.connector.ResponseFacade", false, loader);
            Class<?> responseClass = Class.forName("org.apache.catalina.connector.Response", false, loader);
            type = Class.forName("org.apache.coyote.Response", false, loader);
            facade = facadeClass.getDeclaredField("response");
            facade.setAccessible(true);
            coyote = responseClass.getMethod("getCoyoteResponse");
        } catch (ReflectiveOperationException | RuntimeException | LinkageError notTomcat) {
            facade = null;
            type = null;
        }
        FACADE_RESPONSE = facade;
        GET_COYOTE = coyote;
        TYPE = type;
    }

    private CoyoteResponse() {
    }

    /** The coyote response under {@code response} (through its wrappers), or null if it is not Tomcat's. */
    static @Nullable Object of(ServletResponse response) throws ReflectiveOperationException {
        Field facade = FACADE_RESPONSE;
        Method coyote = GET_COYOTE;
        if (facade == null || coyote == null) {
            return null;
        }
        ServletResponse inner = response;
        while (inner instanceof ServletResponseWrapper wrapper) {
            inner = wrapper.getResponse();
        }
        return facade.getDeclaringClass().isInstance(inner) ? coyote.invoke(facade.get(inner)) : null;
    }
}
