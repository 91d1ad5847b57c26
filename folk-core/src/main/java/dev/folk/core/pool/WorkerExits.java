package dev.folk.core.pool;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.os.Os;
import dev.folk.core.supervision.ExitStatus;

import org.jspecify.annotations.Nullable;

/**
 * How a worker goes out of a pool: it is retired (taken out of the pool, exactly once, its slot freed
 * and a replacement started), stopped (gracefully, or its group killed), and its exit recorded
 * with the {@link ExitReason} users see. Also decides what a worker that never served a call says
 * about the script: a boot failure that backs off, or a kill from outside that does not.
 */
final class WorkerExits {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    /** How long a worker that failed its handshake gets to finish exiting by itself before it is killed. */
    private static final Duration UNSERVED_EXIT_WAIT = Duration.ofMillis(250);

    private final WorkerPool pool;
    private final PoolConfig config;
    private final PoolClock clock;
    private final WorkerHost host;
    private final PoolHealth health;
    private final PoolStatistics stats;
    private final PoolExecutors executors;
    private final WorkerLifecycle lifecycle;

    WorkerExits(WorkerPool pool, PoolConfig config, PoolClock clock, WorkerHost host, PoolHealth health,
                PoolStatistics stats, PoolExecutors executors, WorkerLifecycle lifecycle) {
        this.pool = pool;
        this.config = config;
        this.clock = clock;
        this.host = host;
        this.health = health;
        this.stats = stats;
        this.executors = executors;
        this.lifecycle = lifecycle;
    }

    /**
     * Retires a worker (once): frees its slot, starts a replacement at once, and stops it in the
     * background — gracefully (close fd 3, let it exit on its own, then the ladder) or, if
     * {@code kill}, by killing its group now.
     */
    void retire(PooledWorker w, ExitReason reason, boolean kill) {
        retire(w, reason, kill, null, "");
    }

    /**
     * An idle worker whose process exited (killed from outside, or it ended by itself): retired and
     * reaped, and the pool's last failure says how it ended ("killed by SIGKILL"), which is known
     * once it is reaped.
     */
    void retireExitedIdle(PooledWorker w) {
        retire(w, ExitReason.CRASH, true, "worker " + w.pid + " of pool '" + config.name() + "' exited while idle",
                " while idle");
    }

    /**
     * As {@link #retire(PooledWorker, ExitReason, boolean)}; {@code failure}, if any, becomes the last
     * failure with the exit status; {@code when} (" while idle", or "") goes into the exit's log line.
     */
    private void retire(PooledWorker w, ExitReason reason, boolean kill, @Nullable String failure, String when) {
        if (!takeOut(w, true)) {
            return;
        }
        if (kill) {
            w.link.abortTask();
            w.link.kill();
        }
        // Deadlines start now, not when a stopper thread gets to it: closing hundreds of workers at
        // once must still end within close-wait + stop-grace.
        long now = clock.nanoTime();
        long exitBy = now + (reason == ExitReason.SHUTDOWN ? config.closeWait() : retireCloseWait()).toNanos();
        long killBy = exitBy + config.stopGrace().toNanos();
        Runnable stop = () -> stop(w, reason, kill, exitBy, killBy, failure, when);
        if (!executors.run(executors.stopper, stop, stop, "the stop of worker " + w.pid) && !kill) {
            // No thread for the stop: at a limit on tasks (pids.max) that the workers count against
            // too. EOF on fd 3 needs none: the worker exits now, and its stop, on the housekeeping
            // thread if still no thread starts (PoolExecutors), only has to reap it, freeing its task.
            w.link.closeTask();
        }
        lifecycle.replenish();
    }

    /**
     * How long a retired (not shut down) worker may take to exit on its own after EOF on fd 3.
     * It no longer counts toward the pool, so waiting costs nothing; on a busy machine a PHP worker
     * can need more than the 500 ms close-wait that bounds shutdown.
     */
    private Duration retireCloseWait() {
        Duration floor = Duration.ofSeconds(5);
        return config.closeWait().compareTo(floor) > 0 ? config.closeWait() : floor;
    }

    private void stop(PooledWorker w, ExitReason reason, boolean killed, long exitBy, long killBy,
                      @Nullable String failure, String when) {
        ExitStatus status;
        boolean exitedOnEof = killed;
        try {
            if (!killed) {
                // The clean way: a Folk worker leaves its loop and exits 0 when fd 3 reaches EOF.
                w.link.closeTask();
                exitedOnEof = w.link.awaitExit(Duration.ofNanos(Math.max(0, exitBy - clock.nanoTime())));
            }
            status = w.link.terminate(killed ? Duration.ZERO : Duration.ofNanos(Math.max(0, killBy - clock.nanoTime())));
        } catch (RuntimeException e) {
            log.warn("Stopping worker {} of pool '{}' failed", w.pid, config.name(), e);
            status = null;
        }
        if (!exitedOnEof && status != null && reason != ExitReason.SHUTDOWN && !health.closing() && !host.isClosed()) {
            if (status.signal() == Os.SIGKILL) {
                // Otherwise only the exit record ("killed by SIGKILL") would tell: a KILL skips the
                // script's shutdown functions and destructors, on every recycle.
                log.warn("Worker {} of pool '{}', retired ({}), ignored the end of its input on fd 3 for {} ms and "
                        + "SIGTERM for stop-grace {} ms, so its process group was killed with SIGKILL: a worker must "
                        + "exit when fd 3 reaches EOF (the Folk PHP library's loop does) and on SIGTERM; check that "
                        + "the script does not keep running after its loop, ignore or block TERM, or leave a child "
                        + "process in its group", w.pid, config.name(), reason.tag(), retireCloseWait().toMillis(),
                        config.stopGrace().toMillis());
            } else {
                // Its exit work ran long (a shutdown function kept for the exit, a destructor that
                // flushes): the TERM cut it short, and only a DEBUG exit record would tell.
                log.warn("Worker {} of pool '{}', retired ({}), was still running {} ms after the end of its input on "
                        + "fd 3, so it was sent SIGTERM ({}): what it was doing at its exit (shutdown functions, "
                        + "destructors, a buffered log's flush) was cut short. A worker's work at its exit must end "
                        + "within that time; raise close-wait if it needs longer", w.pid, config.name(), reason.tag(),
                        retireCloseWait().toMillis(), status);
            }
        }
        if (failure != null) {
            health.lastFailure(status == null ? failure : failure + " (" + status + ")");
        }
        recordExit(w, reason, status, when);
    }

    /**
     * Retires and stops the workers idle at close as one batch on one stopper thread: close every
     * fd 3, wait until close-wait for them to exit, then {@link WorkerHost#terminateAll} the rest
     * with one grace. One thread per worker, each polling its own group, made closing hundreds of
     * TERM-ignoring workers take seconds past the grace.
     */
    void retireAllAtClose(List<PooledWorker> idleNow) {
        List<PooledWorker> taken = new ArrayList<>(idleNow.size());
        for (PooledWorker w : idleNow) {
            if (takeOut(w, true)) {
                taken.add(w);
            }
        }
        if (taken.isEmpty()) {
            return;
        }
        long exitBy = clock.nanoTime() + config.closeWait().toNanos();
        long killBy = exitBy + config.stopGrace().toNanos();
        Runnable stopAll = () -> {
            for (PooledWorker w : taken) {
                w.link.closeTask(); // a Folk worker leaves its loop and exits 0 on EOF
            }
            List<WorkerLink> links = new ArrayList<>(taken.size());
            for (PooledWorker w : taken) {
                long left = exitBy - clock.nanoTime();
                if (left > 0) {
                    w.link.awaitExit(Duration.ofNanos(left));
                }
                links.add(w.link);
            }
            List<@Nullable ExitStatus> statuses;
            try {
                statuses = host.terminateAll(links, killBy);
            } catch (RuntimeException e) {
                log.warn("Stopping {} workers of pool '{}' failed", links.size(), config.name(), e);
                statuses = Collections.nCopies(links.size(), null);
            }
            for (int i = 0; i < taken.size(); i++) {
                recordExit(taken.get(i), ExitReason.SHUTDOWN, statuses.get(i));
            }
        };
        if (!executors.run(executors.stopper, stopAll, stopAll, "the stop of " + taken.size() + " workers")) {
            for (PooledWorker w : taken) { // as in retire(): EOF needs no thread, and frees the workers' tasks
                w.link.closeTask();
            }
        }
    }

    /** How a worker that crashed during a call ended: its status, or null if it could not be reaped. */
    record Crashed(@Nullable ExitStatus status) {
        @Override
        public String toString() {
            return status == null ? "exited" : status.toString();
        }
    }

    /**
     * A worker crashed during a call and has already exited: retires it, reaps it and records its
     * exit here, so the caller's error can say how it ended. Returns that, or null if somebody
     * else retired it first.
     */
    @Nullable Crashed retireCrashed(PooledWorker w) {
        if (!takeOut(w, true)) {
            return null;
        }
        ExitStatus status = w.link.terminate(Duration.ZERO);
        recordExit(w, ExitReason.CRASH, status);
        lifecycle.replenish();
        return new Crashed(status);
    }

    /**
     * Retires a worker that never served a call: its handshake failed, or it exited right after.
     * Learns how it ended (exit status, last output), then either replaces it at once — it was
     * killed from outside, which says nothing about the script — or counts a boot failure and
     * retries its slot after the back-off. The slot is kept until that is decided, so nothing
     * else spawns into it meanwhile. {@code ready}: it had passed its handshake and was idle, so a
     * kill from outside came then, not while it started.
     */
    void retireUnserved(PooledWorker w, String why, boolean ready) {
        if (!takeOut(w, false)) {
            return;
        }
        boolean exitedByItself = w.link.awaitExit(UNSERVED_EXIT_WAIT) || w.link.hasExited();
        w.link.abortTask();
        ExitStatus status;
        try {
            status = w.link.terminate(Duration.ZERO);
        } catch (RuntimeException e) {
            log.warn("Stopping worker {} of pool '{}' failed", w.pid, config.name(), e);
            status = null;
        }
        if (health.closing() || host.isClosed()) {
            lifecycle.freeSlot();
            recordExit(w, ExitReason.SHUTDOWN, status);
            return;
        }
        if (exitedByItself && !w.bootAborted && status != null && status.killedFromOutside()) {
            lifecycle.freeSlot();
            String when = ready ? " while idle, before its first call" : " while starting";
            health.lastFailure("worker " + w.pid + " of pool '" + config.name() + "' was " + status + when);
            recordExit(w, ExitReason.CRASH, status, when);
            lifecycle.replenish();
            return;
        }
        List<String> output = recentOutput(w);
        String message = "worker " + w.pid + " of pool '" + config.name() + "' " + why
                + (status == null ? "" : " (" + status + ")");
        recordExit(w, ExitReason.BOOT_FAILURE, status);
        lifecycle.bootFailed(w.origin, new BootFailure(w.pid, message, status, output, Instant.now()));
    }


    /** The worker's last output lines, once its pipes have been drained (briefly waited for). */
    private static List<String> recentOutput(PooledWorker w) {
        try {
            w.link.onOutputClosed().get(250, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // a grandchild still holds the pipes: what was read so far will do
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return w.link.recentOutput();
    }

    /**
     * Takes the worker out of the pool, once; false if someone already did. With {@code freeSlot}
     * its slot is given back (and a replacement may start); otherwise the caller keeps the slot.
     */
    private boolean takeOut(PooledWorker w, boolean freeSlot) {
        if (!w.retired.compareAndSet(false, true)) {
            return false;
        }
        w.state = WorkerState.STOPPING;
        lifecycle.stopAwaitingReplacement(w);
        if (freeSlot) {
            lifecycle.freeSlot();
        }
        return true;
    }

    /**
     * Records a worker's exit once it is reaped (or given up on). An unexpected end is named from
     * how it ended: exit 0 is an unexpected exit, a signal or another code a crash, and anything
     * during shutdown is shutdown.
     */
    private void recordExit(PooledWorker w, ExitReason reason, @Nullable ExitStatus status) {
        recordExit(w, reason, status, "");
    }

    /** @param when when it happened, for the log line (" while starting"), or "" */
    private void recordExit(PooledWorker w, ExitReason reason, @Nullable ExitStatus status, String when) {
        if (reason == ExitReason.CRASH) {
            if (health.closing() || host.isClosed()) {
                reason = ExitReason.SHUTDOWN;
            } else if (status != null && !status.killedBySignal() && status.exitCode() == 0) {
                reason = ExitReason.UNEXPECTED_EXIT;
            }
        }
        String statusText = status == null ? "not reaped" : status.toString();
        ExitRecord record = new ExitRecord(w.pid, reason, statusText, w.jobs, Instant.now());
        stats.exited(record);
        lifecycle.forget(w); // last: close() waits for no workers, then counts must be final
        switch (reason) {
            // A PHP exit() in a handler: asked for by the application, and the worker's own log says where.
            case EXITED -> {
                boolean cleanly = status != null && !status.killedBySignal() && status.exitCode() == 0;
                String call = w.exitingCall == null ? "" : " to " + w.exitingCall;
                if (cleanly && w.abortSent) {
                    log.info("Worker {} of pool '{}' exited after the client of its last call went away (PHP ended "
                            + "that request, as PHP-FPM does; {}, {})", w.pid, config.name(), statusText, jobs(w));
                } else if (cleanly) {
                    log.info("Worker {} of pool '{}' exited after an answer{} that said it would (PHP's exit() in a "
                            + "handler; {}, {})", w.pid, config.name(), call, statusText, jobs(w));
                } else { // a fatal error (exit 255), which its last output names, or exit() with a code
                    log.warn("Worker {} of pool '{}' exited after an answer{} that said it would (a PHP fatal error, "
                            + "or exit() with a code, in a handler; {}, {}){}", w.pid, config.name(), call, statusText,
                            jobs(w), lastOutput(w));
                }
            }
            case CRASH, UNEXPECTED_EXIT, EXEC_TIMEOUT, PROTOCOL_ERROR, MEMORY_LIMIT -> log.warn(
                    "Worker {} of pool '{}' exited: {} ({}{}, {}){}{}", w.pid, config.name(), reason.tag(),
                    statusText, when, jobs(w), terminatedFromOutside(reason, status), lastOutput(w));
            default -> log.debug("Worker {} of pool '{}' exited: {} ({}, {})", w.pid, config.name(),
                    reason.tag(), statusText, jobs(w));
        }
        stats.notifyListeners(l -> l.workerExited(pool, record));
    }

    /**
     * For a worker that a SIGTERM from outside ended: most often its application's service manager,
     * which signals every process of the service at its stop unless told to signal the JVM alone.
     */
    private static String terminatedFromOutside(ExitReason reason, @Nullable ExitStatus status) {
        return reason == ExitReason.CRASH && status != null && status.killedBySignal() && status.signal() == Os.SIGTERM
                ? ". A SIGTERM from outside: if the application is being stopped, its service manager sent it to every"
                        + " process at once (systemd's default KillMode=control-group); send it to the JVM alone"
                        + " (KillMode=mixed), which lets the calls under way finish and stops its workers itself"
                : "";
    }

    /** "1 job", "12 jobs": the calls the worker served. */
    private static String jobs(PooledWorker w) {
        return w.jobs + (w.jobs == 1 ? " job" : " jobs");
    }

    /**
     * The worker's last five output lines, for a warning about its exit; empty if it printed none.
     * Lines all printed before its last call began are said to be, with their age: a worker that
     * served for hours may have printed them for another request (a fatal error of a page served
     * earlier is not why the call killed at exec-timeout ran long).
     */
    private static String lastOutput(PooledWorker w) {
        List<String> output = w.link.recentOutput();
        if (output.isEmpty()) {
            return "";
        }
        long newest = w.link.recentOutputNanos();
        long callStarted = w.callStartedNanos;
        String heading = "; its last output:";
        if (callStarted != 0 && newest != Long.MIN_VALUE && newest - callStarted < 0) {
            long ageMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - newest);
            heading = "; its last output, printed before its last call began (" + (ageMs >= 10_000
                    ? ageMs / 1000 + " s" : ageMs + " ms") + " before this), so not about that call:";
        }
        return heading + "\n    " + String.join("\n    ", output.subList(Math.max(0, output.size() - 5),
                output.size()));
    }
}
