package dev.folk.core.pool;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.util.Durations;

/**
 * The slow-call log (PHP-FPM's request_slowlog_timeout and slowlog): the housekeeper's tick
 * hands it every busy worker; a call running past slow-call-threshold is counted and logged once,
 * with the worker's PHP stack when the worker declared the {@value #FEATURE} feature. The same
 * capture runs before an exec-timeout kill, so the timeout's log line says where PHP was stuck.
 *
 * <p>The stack is asked for with a signal to the worker process alone (see
 * {@link WorkerLink#requestBacktrace}) and arrives on its stderr. The housekeeper never waits
 * for it: the log line (and, on a timeout, the kill) runs when the stack has come or the wait
 * has ended, on the housekeeper's executor.
 */
final class SlowCalls {

    /** The handshake feature of a worker that writes its stack on request. */
    static final String FEATURE = "backtrace";
    /** How long a slow call's log line waits for the stack. */
    static final Duration TRACE_WAIT = Duration.ofMillis(500);
    /**
     * How long an exec-timeout kill waits for the stack: what the capture may add to the
     * timeout's bound (a worker that answers the signal at once adds about a millisecond).
     */
    static final Duration KILL_TRACE_WAIT = Duration.ofMillis(300);
    /** Why a worker gives no stack when it did not declare the feature. */
    static final String UNDECLARED = "the worker did not declare the " + FEATURE
            + " feature (ext-pcntl missing or its functions disabled, SIGUSR2 taken by the application, "
            + "or not the Folk worker library)";

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    private final PoolConfig config;
    private final PoolStatistics stats;
    private final Executor executor;

    SlowCalls(PoolConfig config, PoolStatistics stats, PoolExecutors executors) {
        this.config = config;
        this.stats = stats;
        // After close the housekeeper's executor is gone: a late capture then finishes where it completes.
        this.executor = task -> {
            try {
                executors.housekeeper.execute(task);
            } catch (RejectedExecutionException e) {
                task.run();
            }
        };
    }

    /**
     * A busy worker, from the housekeeper's tick: logs its call once if it has run past the
     * threshold. The fields of the call are read between two reads of its msgid (written first by
     * {@link PooledWorker#beginCall}), so they all belong to one call.
     */
    void check(PooledWorker w, long now) {
        long threshold = config.slowCallThreshold().toNanos();
        if (threshold == 0) {
            return;
        }
        long msgid = w.callMsgid;
        if (msgid == w.slowLoggedMsgid || w.call.get() != PooledWorker.IN_CALL) {
            return;
        }
        long elapsed = now - w.callStartedNanos;
        String method = w.currentMethod;
        String label = w.currentLabel;
        if (elapsed < threshold || w.callMsgid != msgid) {
            return;
        }
        w.slowLoggedMsgid = msgid;
        stats.slowCall();
        String call = "Slow call on pool '" + config.name() + "': worker " + w.pid + " has been running '" + method
                + "'" + (label == null ? "" : " (" + label + ")") + " for " + TimeUnit.NANOSECONDS.toMillis(elapsed)
                + " ms (slow-call-threshold " + config.slowCallThreshold().toMillis() + " ms)";
        capture(w, msgid, TRACE_WAIT, (lines, stack) -> log.warn("{}; {}", call, stack),
                (lines, tookNanos) -> log.warn("{}: its {}", call, frames(lines, tookNanos,
                        " (came after the wait, when PHP's blocking call returned)")));
    }

    /**
     * The exec timeout of {@code w}'s call has passed (the housekeeper won its call state): logs it
     * with the worker's stack, captured first for at most {@link #KILL_TRACE_WAIT}, then runs
     * {@code kill}. Without the feature, logs and kills at once.
     */
    void timedOut(PooledWorker w, Runnable kill) {
        String label = w.currentLabel;
        String call = "Worker " + w.pid + " of pool '" + config.name() + "' exceeded exec-timeout "
                + Durations.text(config.execTimeout()) + " in '" + w.currentMethod + "'" + (label == null ? "" : " (" + label + ")")
                + ": killing its group";
        if (!w.features.has(FEATURE)) {
            log.warn("{}", call);
            kill.run();
            return;
        }
        CompletableFuture<Void> captured = new CompletableFuture<>();
        w.timeoutCapture = captured; // before the signal: an answer it provokes finds it (see stuckAt)
        capture(w, w.callMsgid, KILL_TRACE_WAIT, (lines, stack) -> {
            try {
                if (lines != null && !lines.isEmpty()) {
                    w.stuckAt = lines.get(0); // for the caller's ExecTimeoutException, before the kill wakes it
                }
                captured.complete(null);
                log.warn("{}; {}", call, stack);
            } finally {
                captured.complete(null);
                kill.run();
            }
        }, null);
    }

    /**
     * For the caller's ExecTimeoutException: where PHP was stuck, or null. When the worker answered
     * while its stack was being taken (the signal cut a sleep() short), waits for the capture, no
     * longer than the kill would have.
     */
    static @Nullable String stuckAt(PooledWorker w) {
        CompletableFuture<Void> captured = w.timeoutCapture;
        if (captured != null) {
            try {
                captured.get(KILL_TRACE_WAIT.toMillis() + 100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // no stack: the failure says so by not naming a place
            }
        }
        return w.stuckAt;
    }

    /**
     * Asks for the stack of call {@code msgid} and hands {@code then} its frames (null if none came)
     * and the text to log after the call, once it has come or {@code wait} has passed (or at once
     * when it cannot be asked for). A stack that comes after the wait (PHP ran its handler only
     * once a blocking call returned: a database query) goes to {@code late}, if given, with the time
     * it took; without one it goes to the worker's output.
     */
    private void capture(PooledWorker w, long msgid, Duration wait, BiConsumer<List<String>, String> then,
                         @Nullable BiConsumer<List<String>, Long> late) {
        if (!w.features.has(FEATURE)) {
            then.accept(null, "no PHP backtrace: " + UNDECLARED + ".");
            return;
        }
        CompletableFuture<List<String>> trace;
        try {
            trace = w.link.requestBacktrace(msgid);
        } catch (RuntimeException e) {
            trace = CompletableFuture.failedFuture(e);
        }
        long asked = System.nanoTime();
        // The wait ends a copy: the request itself stays open for a late stack when there is a taker.
        CompletableFuture<List<String>> requested = trace;
        CompletableFuture<List<String>> waited = late == null ? trace : trace.copy();
        waited.completeOnTimeout(null, wait.toMillis(), TimeUnit.MILLISECONDS)
                .whenCompleteAsync((lines, failure) -> {
                    then.accept(failure == null ? lines : null,
                            describe(w, lines, failure, wait, System.nanoTime() - asked, late != null));
                    if (failure == null && lines == null && late != null) {
                        requested.thenAcceptAsync(l -> {
                            if (l != null) { // null: an exec-timeout's capture of the same call gave up on it
                                late.accept(l, System.nanoTime() - asked);
                            }
                        }, executor);
                    }
                }, executor);
    }

    private static String describe(PooledWorker w, List<String> lines, Throwable failure, Duration wait, long tookNanos,
                                   boolean lateLogged) {
        if (failure != null) {
            return "no PHP backtrace: " + failure.getMessage() + ".";
        }
        if (lines == null && w.link.stopped()) {
            return "no PHP backtrace within " + wait.toMillis() + " ms: the worker's process is stopped (SIGSTOP or "
                    + "SIGTSTP sent to it, or a debugger), so it runs nothing, its signal handler included, until "
                    + "continued (SIGCONT).";
        }
        if (lines == null && w.link.writingOutput()) {
            return "no PHP backtrace within " + wait.toMillis() + " ms: the worker is blocked writing its output "
                    + "(stdout or stderr), which the application takes no faster than its own log does: the log does "
                    + "not keep up (a console nobody reads, a slow appender); until it does, PHP runs nothing, its "
                    + "signal handler included. See docs/operations.md, Coming from PHP-FPM, on the workers' output.";
        }
        if (lines == null) {
            return "no PHP backtrace within " + wait.toMillis() + " ms: PHP runs its signal handler between "
                    + "instructions, so a worker blocked in one long call that PHP restarts after a signal (a socket "
                    + "or pipe read: a database query, an HTTP request, shell_exec) writes it only when that returns"
                    + (lateLogged ? "; it is logged then." : ".");
        }
        return frames(lines, tookNanos, "");
    }

    /** "PHP backtrace (taken in N ms)" and the frames, one per line. */
    private static String frames(List<String> lines, long tookNanos, String note) {
        StringBuilder b = new StringBuilder("PHP backtrace (taken in ")
                .append(TimeUnit.NANOSECONDS.toMillis(tookNanos)).append(" ms").append(note).append("):");
        for (String line : lines) {
            b.append(System.lineSeparator()).append("    ").append(line);
        }
        return b.toString();
    }
}
