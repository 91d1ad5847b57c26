package dev.folk.core.pool;

import dev.folk.core.protocol.ProtocolException;

/** The worker broke the protocol (bad frame, wrong msgid, unexpected message); it was killed and is replaced. */
public class WorkerProtocolException extends CallException {

    WorkerProtocolException(String pool, String method, int pid, ProtocolException cause) {
        super(pool, method, pid, call(pool, method) + " failed: worker " + pid + " broke the protocol: "
                + cause.getMessage() + ". The worker was killed and a new one is starting. Make sure nothing but the "
                + "worker library writes to fd 3.", cause);
    }

    @Override
    public boolean retryable() {
        return false;
    }
}
