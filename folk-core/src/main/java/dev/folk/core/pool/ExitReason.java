package dev.folk.core.pool;

/** Why a worker was retired: the reason its {@link ExitRecord} gives (see the package javadoc). */
public enum ExitReason {
    /** It died unexpectedly: killed by a signal, or exited with a non-zero code. */
    CRASH,
    /** It exited with code 0 although the pool had not asked it to. */
    UNEXPECTED_EXIT,
    /**
     * It said with its last answer that it exits ({@code {"exiting": true}}: PHP's {@code exit()} or
     * {@code die()}, or a PHP fatal error, in a handler), so it was not given another call.
     */
    EXITED,
    /** It broke the protocol (bad frame, wrong msgid) and was killed. */
    PROTOCOL_ERROR,
    /** A call exceeded exec-timeout; its group was killed. */
    EXEC_TIMEOUT,
    /** It never completed its handshake, or ended on its own before serving a call. */
    BOOT_FAILURE,
    /** It served its max-jobs (with jitter). */
    MAX_JOBS,
    /** It reached max-lifetime. */
    LIFETIME,
    /** It stayed idle longer than max-idle. */
    IDLE,
    /** Its resident memory exceeded max-memory (soft: replaced after its call). */
    MEMORY,
    /** Its resident memory passed memory-limit (hard: killed at once, even mid-call). */
    MEMORY_LIMIT,
    /** A rolling reset() replaced it. */
    RESET,
    /** Recycled on request (e.g. the workers endpoint). */
    RECYCLE,
    /** The pool closed, or the application is shutting down (the supervisor ended it). */
    SHUTDOWN;

    /** The lower-case name used in metrics and JSON, e.g. {@code max-jobs}. */
    public String tag() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
