package dev.folk.spring.boot.lifecycle;

/**
 * Ends the start-up wait for workers when the JVM begins to shut down (SIGTERM, Ctrl-C) meanwhile.
 *
 * <p>No context close can begin while the refresh runs, and Spring interrupts a refresh thread
 * only when it waits without a timeout; the wait for workers is timed. Without this, a shutdown
 * during start-up waited for the workers until the boot-timeout (unless the JVM hook killed them),
 * and only then could the context close. A JVM shutdown hook, registered for the wait alone,
 * interrupts the waiting thread; {@link #end()} takes that interrupt back, so that it cannot reach
 * anything the refresh does after the wait.
 */
final class ShutdownDuringStartup {

    private final Thread waiting;
    private final Thread hook;
    private boolean inWait = true;
    private boolean fired;

    private ShutdownDuringStartup(Thread waiting) {
        this.waiting = waiting;
        this.hook = new Thread(this::fire, "folk-shutdown-during-startup");
    }

    /** Watches for a JVM shutdown while the current thread waits; one already under way counts as fired. */
    static ShutdownDuringStartup watchCurrentThread() {
        ShutdownDuringStartup watch = new ShutdownDuringStartup(Thread.currentThread());
        try {
            Runtime.getRuntime().addShutdownHook(watch.hook);
        } catch (IllegalStateException shuttingDown) {
            watch.fired = true;
            watch.inWait = false;
        }
        return watch;
    }

    private synchronized void fire() {
        fired = true;
        if (inWait) {
            waiting.interrupt();
        }
    }

    /** Whether the JVM began to shut down during the wait (so far). */
    synchronized boolean fired() {
        return fired;
    }

    /**
     * The wait is over: returns whether the JVM began to shut down during it, and clears the
     * interrupt this delivered. Called by the thread that waited.
     */
    boolean end() {
        boolean shutdown;
        synchronized (this) {
            boolean delivered = inWait && fired;
            inWait = false;
            shutdown = fired;
            if (delivered) {
                Thread.interrupted(); // ours, not the caller's
            }
        }
        if (!shutdown) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                return fired(); // the hook runs now or ran: it found the wait over
            }
        }
        return shutdown;
    }
}
