package dev.folk.core.pool;

import org.jspecify.annotations.Nullable;

import dev.folk.core.protocol.RemoteError;

/**
 * The worker answered with an error object {@code {code, message, data?}}: the handler threw (-32603;
 * {@link #remoteType()} and {@link #remoteLocation()} say what and where, and the message ends with them),
 * the method does not exist (-32601), or an application code. The worker stays in service, unless
 * its answer said it exits (with folk-worker-php: the handler called {@code exit()} or ended with
 * a PHP fatal error, which the message names); the pool then replaces it.
 */
public class WorkerErrorException extends CallException {

    public static final long METHOD_NOT_FOUND = -32601;
    /** folk-worker-php: the params hold a value its MessagePack codec cannot decode (an ext type). */
    public static final long INVALID_PARAMS = -32602;
    public static final long INTERNAL_ERROR = -32603;

    private final long code;
    private final String remoteMessage;
    private final @Nullable String remoteType;
    private final @Nullable String remoteLocation;

    WorkerErrorException(String pool, String method, int pid, RemoteError error) {
        super(pool, method, pid, call(pool, method) + " failed in worker " + pid + " with error " + error.code() + ": "
                + error.message() + thrown(error), null);
        this.code = error.code();
        this.remoteMessage = error.message();
        this.remoteType = error.type();
        this.remoteLocation = error.where();
    }

    /** " (DomainException at /app/src/Cart.php:42)", or less, or nothing: what the worker said was thrown. */
    private static String thrown(RemoteError error) {
        if (error.type() == null && error.where() == null) {
            return "";
        }
        return " (" + (error.type() == null ? "thrown" : error.type())
                + (error.where() == null ? "" : " at " + error.where()) + ")";
    }

    /** The worker's error code. */
    public long code() {
        return code;
    }

    /** The worker's error message, as sent. */
    public String remoteMessage() {
        return remoteMessage;
    }

    /**
     * The class of what the handler threw ({@code DomainException}, {@code TypeError}), so that
     * callers can tell errors apart without reading the message; null if the worker did not say
     * (folk-worker-php says it for every uncaught exception).
     */
    public @Nullable String remoteType() {
        return remoteType;
    }

    /** Where it was thrown ({@code /app/src/Cart.php:42}), or null if the worker did not say. */
    public @Nullable String remoteLocation() {
        return remoteLocation;
    }

    public boolean methodNotFound() {
        return code == METHOD_NOT_FOUND;
    }

    @Override
    public boolean retryable() {
        return false;
    }
}
