package dev.folk.spring.boot.lifecycle;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;

import dev.folk.core.supervision.Supervisor;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Handles SIGTERM, SIGINT and SIGHUP on top of the JVM's own handling, which it chains to.
 *
 * <ul>
 *   <li>First INT or TERM: the previous handler runs, normally the JVM's, which starts the JVM
 *       shutdown and so Spring Boot's graceful close (drain, stop the workers). The JVM then
 *       exits with 128 + signal: <b>130</b> for INT, <b>143</b> for TERM.</li>
 *   <li>A second INT or TERM while that shutdown runs: every worker's process group is killed
 *       and reaped at once ({@link Supervisor#killAndReapAll()}) and the JVM halts with
 *       128 + that signal (<b>130</b> or <b>143</b>), without waiting for the rest of the
 *       shutdown.</li>
 *   <li>Except within {@link #SAME_SIGNAL_WINDOW} of the first: a SIGTERM to a process group
 *       reaches the application and its parent at once, and a parent that forwards its own (Maven's
 *       {@code spring-boot:run}) sends it again milliseconds later. That is one request to stop,
 *       not an operator's second.</li>
 * </ul>
 * {@code sun.misc.Signal.handle} replaces the JVM's handler; a handler that does not chain leaves
 * the JVM running with no shutdown at all, hence the chaining. Signals ignored when the JVM
 * started (e.g. INT in a background job) stay ignored. Turn it off with
 * {@code folk.shutdown.signal-handler=false}.
 *
 * <p>When the context closes without a signal (the JVM goes on), the previous handlers are put
 * back; if another handler was installed on top of ours meanwhile, ours stays in its chain but
 * only delegates.
 */
public class FolkSignalHandler implements DisposableBean {

    /** Signals handled, in the order installed. */
    public static final List<String> SIGNALS = List.of("TERM", "INT", "HUP");

    /** Bound of the kill-and-reap on the second signal: well inside the 2 s the exit may take. */
    static final Duration ESCALATION_BOUND = Duration.ofMillis(1500);

    /** A second signal sooner than this after the first is the same request to stop, sent twice. */
    public static final Duration SAME_SIGNAL_WINDOW = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(FolkSignalHandler.class);
    private static final long NONE = Long.MIN_VALUE;

    private final Supervisor supervisor;
    /** When the first signal came ({@link #NONE} before); each signal's handler runs on a thread of its own. */
    private final AtomicLong firstSignalNanos = new AtomicLong(NONE);
    private final List<Chained> installed = new ArrayList<>();
    private volatile boolean active = true;

    public FolkSignalHandler(Supervisor supervisor) {
        this.supervisor = supervisor;
        FolkShutdownHook.loadShutdownPath(); // what a second signal runs, while the jar is whole
        for (String name : SIGNALS) {
            try {
                Signal signal = new Signal(name);
                Chained handler = new Chained(signal);
                handler.previous = Signal.handle(signal, handler);
                if (handler.previous == SignalHandler.SIG_IGN) {
                    // The JVM keeps signals that were ignored at its start ignored: so do we.
                    Signal.handle(signal, SignalHandler.SIG_IGN);
                    log.debug("SIG{} is ignored by this process; not handling it", name);
                    continue;
                }
                installed.add(handler);
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // -Xrs, or the signal is reserved by the JVM or the OS
                log.info("Cannot handle SIG{} ({}); a second signal will not kill the workers at once", name,
                        e.getMessage());
            }
        }
    }

    /** Whether a first TERM, INT or HUP has been received. */
    public boolean signalled() {
        return firstSignalNanos.get() != NONE;
    }

    /** The signals this handler is installed for. */
    public List<String> installedSignals() {
        return installed.stream().map(c -> c.signal.getName()).toList();
    }

    @Override
    public void destroy() {
        if (signalled()) {
            // The JVM is exiting because of a signal: keep the second-signal escalation armed.
            return;
        }
        active = false;
        for (Chained handler : installed) {
            try {
                SignalHandler current = Signal.handle(handler.signal, handler.previous);
                if (current != handler) {
                    // Someone installed a handler on top of ours: keep theirs (ours only delegates now).
                    Signal.handle(handler.signal, current);
                }
            } catch (IllegalArgumentException e) {
                log.debug("Cannot restore the handler of SIG{}", handler.signal.getName(), e);
            }
        }
    }

    private final class Chained implements SignalHandler {
        private final Signal signal;
        private volatile @Nullable SignalHandler previous;

        Chained(Signal signal) {
            this.signal = signal;
        }

        @Override
        public void handle(Signal sig) {
            if (!active) {
                delegate(sig);
                return;
            }
            long now = System.nanoTime();
            if (firstSignalNanos.compareAndSet(NONE, now == NONE ? now + 1 : now)) {
                log.info("SIG{} received: shutting down gracefully (send INT or TERM again to kill every worker "
                        + "and exit at once)", sig.getName());
                delegate(sig);
                return;
            }
            long since = now - firstSignalNanos.get();
            if (since < SAME_SIGNAL_WINDOW.toNanos()) {
                log.info("SIG{} again {} ms after the first: taken as the same request to stop (a parent process "
                        + "forwarding it); send INT or TERM again to kill every worker and exit at once", sig.getName(),
                        TimeUnit.NANOSECONDS.toMillis(since));
                return;
            }
            int code = 128 + sig.getNumber();
            log.warn("Second signal (SIG{}) during shutdown: killing every worker and exiting now with code {}",
                    sig.getName(), code);
            try {
                supervisor.killAndReapAll(ESCALATION_BOUND);
            } catch (RuntimeException | Error e) {
                log.error("Kill-and-reap of the workers failed", e);
            } finally {
                Runtime.getRuntime().halt(code);
            }
        }

        private void delegate(Signal sig) {
            SignalHandler p = previous;
            if (p == SignalHandler.SIG_DFL) {
                // What the default disposition would do, with the JVM's shutdown hooks run.
                Runtime.getRuntime().exit(128 + sig.getNumber());
            } else if (p != null && p != SignalHandler.SIG_IGN) {
                p.handle(sig);
            }
        }
    }
}
