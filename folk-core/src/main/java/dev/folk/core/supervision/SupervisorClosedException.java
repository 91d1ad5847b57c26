package dev.folk.core.supervision;

import dev.folk.core.FolkException;

/** The supervisor has killed and reaped everything (shutdown) and starts nothing new. */
public class SupervisorClosedException extends FolkException {

    public SupervisorClosedException(String what) {
        super("Cannot " + what + ": the supervisor is shut down (kill-and-reap-all ran); no new workers are started.");
    }
}
