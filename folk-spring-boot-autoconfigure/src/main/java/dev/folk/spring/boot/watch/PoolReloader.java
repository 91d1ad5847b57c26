package dev.folk.spring.boot.watch;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.pool.WorkerInfo;
import dev.folk.core.pool.PoolState;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;

/**
 * The reloads of one pool: collects its changed files, waits for the burst to end (debounce),
 * then replaces its workers, one reset at a time.
 *
 * <p>Driven by one thread (the watcher's), with the time passed in, so its rules are tested
 * without a clock: {@link #changed} records a change; {@link #fireIfDue} starts a reload when no
 * change came for the debounce time (or changes have kept coming for {@value #MAX_DELAY_FACTOR}
 * times that). While a reset runs, changes are collected for the next one, which starts only after
 * it: never two resets at once, and every change made during a reset is followed by a reset that
 * begins after it, so in the end every worker has loaded the latest code. A reset that ends with
 * a worker older than the reload (a reset started elsewhere, e.g. the actuator's, was joined) is
 * followed by one more.
 */
final class PoolReloader {

    /** Changes may postpone a reload by at most this many debounce times. */
    static final int MAX_DELAY_FACTOR = 10;
    /** Files named in the log line; the rest are counted. */
    static final int LISTED = 3;
    /** Files remembered per reload; beyond, they are counted (and class path copies all refreshed). */
    static final int MAX_TRACKED = 1000;
    /** Files counted, each once, beyond those remembered; past that many, the rest are "files not listed". */
    static final int MAX_COUNTED = 100_000;

    private static final Logger log = LoggerFactory.getLogger(PoolReloader.class);
    private static final Path WORKING_DIRECTORY = Path.of("").toAbsolutePath();

    /** What a reload acts on: a pool, or a fake in tests. */
    interface Target {

        String name();

        /** Replaces every worker, make before break; completes when done. */
        CompletableFuture<Void> reset();

        /** Whether a live worker was started before {@code instant} (and so may run older code). */
        boolean hasWorkerStartedBefore(Instant instant);

        /** Starts now the spawns waiting for their back-off after a failed boot: the code may be fixed. */
        void retryFailedBoots();
    }

    /**
     * The changes one reload is for.
     *
     * @param files the changed files (at most {@value #MAX_TRACKED})
     * @param more  changed files beyond those
     * @param lost  whether the watcher lost events (which files changed is not known)
     */
    record Changes(List<Path> files, int more, boolean lost) {

        /** For the log: "php/app.php", "a.php, b.php, c.php and 12 more". */
        String describe() {
            List<String> named = new ArrayList<>();
            for (int i = 0; i < Math.min(LISTED, files.size()); i++) {
                named.add(display(files.get(i)));
            }
            int rest = files.size() - named.size() + more;
            String text = String.join(", ", named) + (rest > 0 ? " and " + rest + " more" : "");
            if (lost) {
                return named.isEmpty() ? "files the watcher could not list (too many changes at once)"
                        : text + " and files the watcher could not list";
            }
            return text;
        }

        private static String display(Path file) {
            return file.startsWith(WORKING_DIRECTORY) ? WORKING_DIRECTORY.relativize(file).toString() : file.toString();
        }
    }

    /** A pool as a reload target. */
    static PoolReloader.Target target(WorkerPool pool) {
        return new PoolReloader.Target() {
            @Override
            public String name() {
                return pool.name();
            }

            @Override
            public CompletableFuture<Void> reset() {
                PoolState state = pool.state();
                if (state == PoolState.DRAINING || state == PoolState.CLOSED) {
                    return CompletableFuture.completedFuture(null); // closed meanwhile: nothing to renew
                }
                return pool.reset();
            }

            @Override
            public void retryFailedBoots() {
                pool.retryFailedBoots();
            }

            @Override
            public boolean hasWorkerStartedBefore(Instant instant) {
                for (WorkerInfo w : pool.snapshot().workers()) {
                    // One the reset retired while it finished a call is leaving, not left behind.
                    if (w.state() != WorkerState.STOPPING && !w.leaving() && w.startedAt().isBefore(instant)) {
                        return true;
                    }
                }
                return false;
            }
        };
    }

    private final Target target;
    private final long debounceNanos;
    private final Consumer<Changes> beforeReset;

    // Guarded by this
    private final Set<Path> pending = new LinkedHashSet<>();
    /** Changed files beyond {@link #MAX_TRACKED}: a set, as one save can raise several events for one file. */
    private final Set<Path> pendingMore = new HashSet<>();
    private boolean pendingLost;
    private long firstChange;
    private long lastChange;
    private boolean resetting;
    /** Changes came while a reset runs, and its failed boots have not been retried since. */
    private boolean retryDue;
    private boolean stopped;
    private long reloads;
    private @Nullable Changes last;

    /**
     * @param beforeReset runs before each reset, on the calling thread (refreshes extracted class path
     *                    copies); a failure is logged and the reset goes ahead
     */
    PoolReloader(Target target, long debounceNanos, Consumer<Changes> beforeReset) {
        this.target = target;
        this.debounceNanos = debounceNanos;
        this.beforeReset = beforeReset;
    }

    String poolName() {
        return target.name();
    }

    /** {@code file} changed at {@code now} (System.nanoTime()). */
    synchronized void changed(Path file, long now) {
        noteChange(now);
        if (!pending.contains(file)) {
            if (pending.size() < MAX_TRACKED) {
                pending.add(file);
            } else if (pendingMore.size() < MAX_COUNTED) {
                pendingMore.add(file);
            } else if (!pendingMore.contains(file)) {
                pendingLost = true;
            }
        }
    }

    /** Events were lost at {@code now}: something may have changed. */
    synchronized void lost(long now) {
        noteChange(now);
        pendingLost = true;
    }

    /** Forgets the changes under {@code dir} not reloaded for yet (it went away; what it holds once back counts). */
    synchronized void forget(Path dir) {
        pending.removeIf(f -> f.startsWith(dir));
        pendingMore.removeIf(f -> f.startsWith(dir));
    }

    private void noteChange(long now) {
        if (!hasPending()) {
            firstChange = now;
        }
        lastChange = now;
        retryDue = resetting;
    }

    private boolean hasPending() {
        return !pending.isEmpty() || !pendingMore.isEmpty() || pendingLost;
    }

    /**
     * Nanoseconds from {@code now} until a reload is due (0: due now), or -1 when none is waiting
     * for time to pass (nothing changed, or a reset is running: it ends on its own thread). While a
     * reset runs, changes that came during it are due too, but only to retry its failed boots (see
     * {@link #fireIfDue}).
     */
    synchronized long nanosUntilDue(long now) {
        if (resetting && !retryDue || !hasPending()) {
            return -1;
        }
        long due = Math.min(lastChange + debounceNanos, firstChange + MAX_DELAY_FACTOR * debounceNanos);
        return Math.max(0, due - now);
    }

    /** No reset is started from now on (the watcher stopped: the pool is about to close). */
    synchronized void stop() {
        stopped = true;
    }

    /** Whether a reset is running. */
    synchronized boolean busy() {
        return resetting;
    }

    /** Reloads completed or started. */
    synchronized long reloads() {
        return reloads;
    }

    /** What the latest reload was for, or null before the first. */
    synchronized @Nullable Changes lastChanges() {
        return last;
    }

    /**
     * Starts a reload if one is due at {@code now} and no reset is running; returns whether it did.
     * Changes made while a reset runs have their reload after it; but a boot that failed in the
     * running reset (a save with a syntax error) waits for its back-off, up to {@code backoff-max},
     * and the fix saved meanwhile would wait with it: so once such changes are due, the extracted
     * copies are refreshed and the failed boots retried at once (once per burst of changes).
     */
    boolean fireIfDue(long now) {
        Changes changes;
        boolean duringReset;
        synchronized (this) {
            if (stopped || nanosUntilDue(now) != 0) {
                return false;
            }
            changes = new Changes(List.copyOf(pending), pendingMore.size(), pendingLost);
            duringReset = resetting;
            retryDue = false;
            if (!duringReset) { // else the changes stay pending for the reload after this reset
                pending.clear();
                pendingMore.clear();
                pendingLost = false;
                resetting = true;
                reloads++;
                last = changes;
            }
        }
        try {
            beforeReset.accept(changes);
        } catch (RuntimeException e) {
            log.warn("Pool '{}': could not refresh the extracted class path scripts before reloading; new workers"
                    + " may load the previous version: {}", target.name(), e.toString());
        }
        if (duringReset) {
            log.debug("Pool '{}': files changed during its reload; boots that failed are retried now", target.name());
            target.retryFailedBoots();
            return false;
        }
        // Every worker started from now on loads what is on disk now.
        Instant since = Instant.now();
        log.info("Pool '{}': reloading its workers (changed: {})", target.name(), changes.describe());
        reset(since, 1);
        return true;
    }

    private void reset(Instant since, int retries) {
        CompletableFuture<Void> reset;
        try {
            reset = target.reset();
        } catch (RuntimeException e) {
            reset = CompletableFuture.failedFuture(e);
        }
        reset.whenComplete((ok, failure) -> {
            if (failure != null) {
                log.warn("Pool '{}': reload did not complete: {}. Its workers keep serving; the next change reloads"
                        + " again.", target.name(), rootCause(failure).toString());
            } else if (retries > 0 && !isStopped() && target.hasWorkerStartedBefore(since)) {
                // A reset already in progress (started elsewhere) was joined: some of its workers
                // may have started before the change.
                log.debug("Pool '{}': a worker older than the reload is left; resetting once more", target.name());
                reset(since, retries - 1);
                return;
            }
            synchronized (this) {
                resetting = false;
            }
        });
    }

    private synchronized boolean isStopped() {
        return stopped;
    }

    private static Throwable rootCause(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c;
    }
}
