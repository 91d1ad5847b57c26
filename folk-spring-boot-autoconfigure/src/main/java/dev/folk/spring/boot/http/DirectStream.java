package dev.folk.spring.boot.http;

import java.io.IOException;

import jakarta.servlet.http.HttpServletResponse;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.pool.CallParts;
import dev.folk.core.protocol.Values;

/**
 * A streamed answer (docs/PROTOCOL.md, "Streamed answers") to a request the gateway calls PHP for
 * on the container thread, before the request went asynchronous: the head, then each body part,
 * is written and flushed as it comes, with the container's blocking writes. So the worker waits
 * while the client reads, as PHP-FPM's worker does behind a web server that does not buffer, and
 * the JVM never holds more than a part.
 */
final class DirectStream implements CallParts {

    private static final Logger log = LoggerFactory.getLogger(DirectStream.class);

    /** The request attribute that carries {@link #cut}'s exception into the async dispatch that throws it. */
    static final String CUT = DirectStream.class.getName() + ".cut";

    private final HttpServletResponse response;
    private final String pool;
    private final String label;
    /** Set once the head came: the answer is this stream's from then on. */
    private boolean started;
    /** The head was malformed and answered 502 in its place, or the client is gone: later parts are dropped. */
    private boolean closed;

    DirectStream(HttpServletResponse response, String pool, String label) {
        this.response = response;
        this.pool = pool;
        this.label = label;
    }

    /** Whether PHP's answer began as a stream: the call's result, or failure, then ends it ({@link #end}, {@link #fail}). */
    boolean started() {
        return started;
    }

    @Override
    public void part(String method, @Nullable Object params) {
        if (closed) {
            return;
        }
        try {
            if ("http.head".equals(method) && !started) {
                started = true;
                GatewayReply head = GatewayReply.fromPhp(params, pool, label);
                GatewayExchange.head(response, head, !head.own());
                if (head.own()) {
                    closed = true; // malformed: its 502 is the whole answer
                    response.getOutputStream().write(head.body());
                }
                response.flushBuffer();
            } else if ("http.body".equals(method) && started) {
                response.getOutputStream().write(Values.asBytes(params));
                response.flushBuffer(); // what PHP flushed reaches the client now
            } else {
                log.debug("Pool '{}' sent part '{}' for {} out of order; dropped", pool, method, label);
            }
        } catch (IOException e) {
            closed = true; // the worker finishes its answer into nothing, as a PHP-FPM worker does
            log.debug("Client of {} gone during a streamed answer: {}", label, e.toString());
        }
    }

    /** Writes the rest of the body, from the call's result. */
    void end(@Nullable Object result) throws IOException {
        if (closed) {
            return;
        }
        byte[] rest = GatewayReply.restOfStream(result, pool, label);
        if (rest == null) {
            throw cut(new IOException("PHP ended its streamed answer with a malformed result"), pool, label);
        }
        if (rest.length > 0) {
            response.getOutputStream().write(rest);
        }
    }

    /** The call failed after the head went out: no status can say so now; the client must see a cut, not an end. */
    void fail(Throwable failure) throws IOException {
        if (!closed) {
            throw cut(failure, pool, label);
        }
    }

    /**
     * What to throw to the container so that it cuts the connection: a streamed answer whose
     * call failed must not end as a complete response (a truncated download would look whole).
     */
    static IOException cut(Throwable failure, String pool, String label) {
        log.warn("Pool '{}' failed during the streamed answer to {}, after its head went out; the connection is cut: {}",
                pool, label, failure.getMessage());
        return containerAbort(failure);
    }

    /**
     * Tomcat's own ClientAbortException when Tomcat is the container: thrown from the request's
     * processing, it makes Tomcat close the connection without ending the response, and without
     * the error dispatch (Spring Boot's error page, which would be written into the body) or the
     * ERROR log line any other exception gets; our one warning says what happened. Elsewhere an
     * exception of our own, which the container handles as a failed request.
     */
    private static IOException containerAbort(Throwable failure) {
        try {
            Class<?> c = Class.forName("org.apache.catalina.connector.ClientAbortException");
            return (IOException) c.getConstructor(String.class, Throwable.class)
                    .newInstance("streamed answer cut: " + failure.getMessage(), failure);
        } catch (ReflectiveOperationException | LinkageError e) {
            return new StreamCutException(failure);
        }
    }

    /** The container's signal to close the connection without ending the response. */
    static final class StreamCutException extends IOException {
        private static final long serialVersionUID = 1L;

        StreamCutException(Throwable cause) {
            super("streamed answer cut: " + cause.getMessage(), cause);
        }
    }
}
