package dev.folk.core.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import dev.folk.core.supervision.Supervisor;

/**
 * One {@link Supervisor} for all the tests of a class, closed after the last of them, so that
 * whatever a test left running is stopped and reaped before the next class starts:
 * {@code @RegisterExtension static final SharedSupervisor SUPERVISOR = new SharedSupervisor();}.
 */
public final class SharedSupervisor implements BeforeAllCallback, AfterAllCallback {

    private volatile Supervisor supervisor;

    /** The class's supervisor; only between its first and its last test. */
    public Supervisor get() {
        Supervisor s = supervisor;
        if (s == null) {
            throw new IllegalStateException("SharedSupervisor is used outside its test class's run (register it static)");
        }
        return s;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        supervisor = new Supervisor();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Supervisor s = supervisor;
        supervisor = null;
        if (s != null) {
            s.close();
        }
    }
}
