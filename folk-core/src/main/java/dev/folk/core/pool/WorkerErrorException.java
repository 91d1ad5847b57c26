package dev.folk.core.pool;

/**
 * The worker answered with an error object {@code {code, message}}: the handler threw (-32603),
 * the method does not exist (-32601), or an application code. The worker stays in service, unless
 * its answer said it exits (with folk-worker-php: the handler called {@code exit()} or ended with
 * a PHP fatal error, which the message names); the pool then replaces it.
 */
public class WorkerErrorException extends CallException {

    public static final long METHOD_NOT_FOUND = -32601;
    public static final long INTERNAL_ERROR = -32603;

    private final long code;
    private final String remoteMessage;

    WorkerErrorException(String pool, String method, int pid, long code, String remoteMessage) {
        super(pool, method, pid, call(pool, method) + " failed in worker " + pid + " with error " + code + ": "
                + remoteMessage, null);
        this.code = code;
        this.remoteMessage = remoteMessage;
    }

    /** The worker's error code. */
    public long code() {
        return code;
    }

    /** The worker's error message, as sent. */
    public String remoteMessage() {
        return remoteMessage;
    }

    public boolean methodNotFound() {
        return code == METHOD_NOT_FOUND;
    }

    @Override
    public boolean retryable() {
        return false;
    }
}
