package dev.folk.core.pool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.folk.core.protocol.Message;
import dev.folk.core.protocol.ProtocolException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker inside a pool: its process (a {@link WorkerLink}), its limits and the state of the call
 * it serves.
 *
 * <p>Ownership: exactly one thread uses a worker's link at a time — the spawner during the
 * handshake, then whichever caller acquired it. The housekeeper only reads the volatile fields
 * and, on an exec timeout, wins {@link #call} and aborts the task channel.
 */
final class PooledWorker {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    /** What the rest of a call's parts go to once its {@link CallParts} failed. */
    private static final CallParts DROP = (method, params) -> { };

    static final int NO_CALL = 0;
    static final int IN_CALL = 1;
    /** The housekeeper saw the exec deadline pass and killed the worker. */
    static final int TIMED_OUT = 2;
    /** close() gave up waiting (drain timeout) and killed the worker. */
    static final int ABORTED = 3;
    /** The housekeeper saw its memory pass the hard limit during the call and killed it. */
    static final int MEMORY_EXCEEDED = 4;

    final WorkerLink link;
    final int pid;
    final long jobLimit;
    final long retireAtNanos;
    final long spawnedNanos;
    /** Counts calls in progress across the pool (busy workers, their maximum). */
    private final PoolStatistics stats;
    final AtomicInteger call = new AtomicInteger(NO_CALL);
    /** Taken out of the pool (see WorkerExits#takeOut): set once, by whoever retires it. */
    final AtomicBoolean retired = new AtomicBoolean();

    volatile WorkerState state = WorkerState.STARTING;
    volatile long jobs;
    volatile long readyNanos;
    volatile long lastUsedNanos;
    volatile long callStartedNanos;
    /** The msgid of the call in progress or last made: what the worker names in its backtrace. */
    volatile long callMsgid;
    /** The msgid of the last call logged as slow: one log per call (housekeeper thread only). */
    long slowLoggedMsgid = -1;
    /** Where PHP was when the exec timeout killed it (the innermost frame of its backtrace), or null. */
    volatile @Nullable String stuckAt;
    /** Completes once the stack asked for before the exec-timeout kill is in {@link #stuckAt} (or none came). */
    volatile @Nullable CompletableFuture<Void> timeoutCapture;
    volatile long callDeadlineNanos;
    volatile @Nullable String currentMethod;
    /** The caller's description of the call in progress (e.g. an HTTP request line), or null. */
    volatile @Nullable String currentLabel;
    /** The call whose answer said the worker would exit (its label, else its method), for the exit's log line. */
    @Nullable String exitingCall;
    volatile long bootDeadlineNanos;
    /**
     * Set once, by whichever comes first: the spawner with the worker's control.ready, or the
     * housekeeper with its boot timeout (then {@link #bootAborted}). A worker that became ready,
     * and may be serving a call already, is never killed as a slow boot.
     */
    final AtomicBoolean bootSettled = new AtomicBoolean();
    volatile boolean bootAborted;
    volatile long rssBytes = -1;
    /** Resident memory when the hard memory limit killed it mid-call. */
    volatile long rssAtKill;
    /**
     * Why it is due (max-jobs, lifetime, idle, memory, recycle, reset...), or null. A due worker
     * keeps serving until {@link #replaced}: make before break.
     */
    volatile @Nullable ExitReason dueReason;
    /** Its replacement is ready (or none is wanted): it is retired as soon as it is idle. */
    volatile boolean replaced;
    /** It counts toward the pool's due workers waiting for a replacement (see WorkerLifecycle#markDue). */
    final AtomicBoolean awaitingReplacement = new AtomicBoolean();
    /** The spawn that made it: a worker that ends before serving a call continues its back-off. */
    @SuppressWarnings("NullAway.Init") // set by WorkerLifecycle right after construction
    SpawnAttempt origin;
    /** The pool's reset generation when its spawn began: a reset replaces every worker of an earlier one. */
    final long generation;
    /** What it declared in its handshake; {@link WorkerFeatures#NONE} until then. */
    volatile WorkerFeatures features = WorkerFeatures.NONE;
    /** It was sent {@value CallParts#ABORT} during its last call: an exit after that answer is PHP-FPM's way, not an error. */
    volatile boolean abortSent;
    /** The process exited (seen by the supervisor); set before the pool looks at the idle list. */
    volatile boolean exited;
    /** It answered an earlier request again: out of sync, it serves no call after the current one. */
    boolean answeredTwice;

    private long nextMsgid;
    private final String poolName;

    PooledWorker(WorkerLink link, PoolConfig config, PoolStatistics stats, long spawnedNanos, long generation) {
        this.link = link;
        this.generation = generation;
        this.stats = stats;
        this.pid = link.pid();
        this.poolName = config.name();
        this.spawnedNanos = spawnedNanos;
        this.jobLimit = config.maxJobs() == 0 ? Long.MAX_VALUE
                : Math.max(1, Math.round(config.maxJobs() * jitter(config.maxJobsJitter())));
        this.retireAtNanos = config.maxLifetime().isZero() ? Long.MAX_VALUE
                : spawnedNanos + Math.round(config.maxLifetime().toNanos() * jitter(config.maxJobsJitter()));
    }

    /** A factor in [1 - spread, 1 + spread]: workers started together should not all retire together. */
    private static double jitter(double spread) {
        return spread == 0 ? 1.0 : 1.0 + spread * (2 * ThreadLocalRandom.current().nextDouble() - 1);
    }

    /** Encodes the next request; throws FrameTooLargeException before anything is written. */
    ByteBuffer encode(String method, @Nullable Object params) {
        nextMsgid = (nextMsgid + 1) & 0xffffffffL;
        return link.encodeRequest(nextMsgid, method, params);
    }

    /** {@link #encode(String, Object)} with the call's context, for a worker that declared the context feature. */
    ByteBuffer encode(String method, @Nullable Object params, Map<String, String> context) {
        nextMsgid = (nextMsgid + 1) & 0xffffffffL;
        return link.encodeRequest(nextMsgid, method, params, context);
    }

    void send(ByteBuffer frame) throws IOException {
        link.send(frame);
    }

    /**
     * Reads the response to the request just sent, passing the Notify messages before it to
     * {@code parts} (a streamed answer); without {@code parts}, anything but the response is a
     * protocol error.
     */
    Message.Response receive(@Nullable CallParts parts) throws IOException {
        boolean aborted = false;
        while (true) {
            Message m = link.receive();
            if (parts != null && m instanceof Message.Notify n) {
                try {
                    parts.part(n.method(), n.params());
                    if (!aborted && parts.abandoned()) {
                        aborted = true;
                        abort();
                    }
                } catch (RuntimeException e) {
                    log.warn("Worker {}: the caller's CallParts failed on '{}'; the call's later parts are dropped",
                            pid, n.method(), e);
                    parts = DROP;
                }
                continue;
            }
            if (!(m instanceof Message.Response r)) {
                throw new ProtocolException("worker " + pid, "expected a response to request " + nextMsgid + ", got " + m);
            }
            if (r.msgid() == nextMsgid) {
                return r;
            }
            long behind = (nextMsgid - r.msgid()) & 0xffffffffL;
            if (answeredTwice || behind > Integer.MAX_VALUE || r.msgid() == 0) {
                throw new ProtocolException("worker " + pid, "response msgid " + r.msgid()
                        + " does not match request msgid " + nextMsgid + " (the worker is out of sync)");
            }
            // A second answer to a call that had its answer: dropped, so that this call, which did
            // nothing wrong, still gets its own; the worker goes after it.
            answeredTwice = true;
            log.warn("Worker {} of pool '{}' answered its earlier request {} a second time, read while it ran request {} "
                    + "('{}'): the second answer is dropped and the worker is replaced after this call. A worker must send "
                    + "exactly one response per request (docs/PROTOCOL.md)", pid, poolName, r.msgid(), nextMsgid,
                    currentMethod);
        }
    }

    /**
     * Tells a worker that declared the abort feature that its call's answer goes nowhere: it reads
     * this Notify when it next sends a part. A worker that declared nothing would take it for the
     * next request, so it gets none and finishes into nothing.
     */
    private void abort() throws IOException {
        if (features.has(CallParts.ABORT_FEATURE)) {
            log.debug("Worker {}: the answer to request {} goes nowhere; {} sent", pid, nextMsgid, CallParts.ABORT);
            link.send(link.encodeNotify(CallParts.ABORT, null));
            abortSent = true;
        }
    }

    /**
     * Marks the call begun, just before its request is sent; false if the pool's close aborted it
     * first (it held the worker past the drain timeout without reaching it): nothing may be sent.
     */
    boolean beginCall(String method, @Nullable String label, long now, long deadline) {
        callMsgid = nextMsgid; // first: SlowCalls reads it before and after the fields below
        currentMethod = method;
        currentLabel = label;
        callStartedNanos = now;
        callDeadlineNanos = deadline;
        if (!call.compareAndSet(NO_CALL, IN_CALL)) { // last: the housekeeper reads the fields above once it is set
            currentMethod = null;
            currentLabel = null;
            return false;
        }
        stats.callStarted();
        return true;
    }

    /** Bookkeeping after a call, whatever its outcome; returns true if the worker is still usable. */
    boolean endCall(long now) {
        boolean clean = call.compareAndSet(IN_CALL, NO_CALL);
        stats.callEnded();
        jobs++;
        lastUsedNanos = now;
        currentMethod = null;
        currentLabel = null;
        return clean;
    }

    /** Sets why it is due, if nothing was set before; true if this call set it. */
    boolean markDue(ExitReason reason) {
        synchronized (this) {
            if (dueReason != null) {
                return false;
            }
            dueReason = reason;
            return true;
        }
    }

    /** The recycling limit it has reached by now (jobs, lifetime), or null to keep serving. */
    @Nullable ExitReason recycleReason(long now) {
        if (jobs >= jobLimit) {
            return ExitReason.MAX_JOBS;
        }
        if (now - retireAtNanos >= 0) {
            return ExitReason.LIFETIME;
        }
        return null;
    }

    WorkerInfo info(long nowNanos, Instant now) {
        String method = currentMethod;
        String label = currentLabel;
        long started = callStartedNanos;
        long last = lastUsedNanos;
        return new WorkerInfo(pid, state, jobs, link.startedAt(),
                last == 0 ? null : now.minusNanos(nowNanos - last), rssBytes, method,
                method == null ? null : Duration.ofNanos(Math.max(0, nowNanos - started)), method == null ? null : label,
                dueReason != null);
    }

    @Override
    public String toString() {
        return "worker " + pid + " (" + state + ", " + jobs + " jobs)";
    }
}
