package dev.folk.core.pool;

/** Why a worker left the pool. */
public enum ExitReason {
    /** It died unexpectedly, or closed its task channel. */
    CRASH,
    /** It broke the protocol (bad frame, wrong msgid) and was killed. */
    PROTOCOL_ERROR,
    /** A call exceeded exec-timeout; its group was killed. */
    EXEC_TIMEOUT,
    /** It never completed its handshake, or died before serving. */
    BOOT_FAILURE,
    /** It served its max-jobs (with jitter). */
    MAX_JOBS,
    /** It reached max-lifetime. */
    LIFETIME,
    /** It stayed idle longer than max-idle. */
    IDLE,
    /** Its resident memory exceeded max-memory. */
    MEMORY,
    /** A rolling reset() replaced it. */
    RESET,
    /** Recycled on request (e.g. the workers endpoint). */
    RECYCLE,
    /** The pool closed. */
    SHUTDOWN;

    /** The lower-case name used in metrics and JSON, e.g. {@code max-jobs}. */
    public String tag() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
