package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.folk.core.os.NativeOs;
import dev.folk.core.os.Os;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/**
 * On a kernel without pidfd_open (before 5.3) {@link Os#pidfdOpen} answers -1: the spawn must fail
 * with a clear error, and the process it started must not be left running or unreaped, instead of
 * a worker whose exit would never be seen.
 */
class NoPidfdTest {

    /** The native OS, except that pidfds are "not supported", as {@code NativeOs} reports ENOSYS. */
    private static Os withoutPidfd() {
        Os real = NativeOs.get();
        return (Os) Proxy.newProxyInstance(Os.class.getClassLoader(), new Class<?>[] {Os.class}, (proxy, m, args) -> {
            if (m.getName().equals("pidfdOpen")) {
                return -1;
            }
            try {
                return m.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    @Test
    void aSpawnWithoutPidfdFailsClearlyAndLeavesNothingBehind() {
        String tag = Workers.newTag();
        try (Supervisor supervisor = new Supervisor(withoutPidfd(), false)) {
            assertThatThrownBy(() -> supervisor.spawn(Workers.sh(tag, "exec sleep 1000").build()))
                    .isInstanceOf(SpawnException.class).hasMessageContaining("Linux 5.3 or later is required")
                    .hasMessageContaining("ENOSYS");
            assertThat(supervisor.workers()).isEmpty();
            Procs.await(Duration.ofSeconds(5), "the started process ended",
                    () -> Procs.aliveWithEnv(Workers.RUN_TAG, tag).isEmpty());
            assertThat(Procs.zombieChildren()).isEmpty();
        }
    }
}
