package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.SharedSupervisor;

/**
 * What a worker finds in its environment: by default only the JVM's PATH, HOME, LANG, LC_*, TZ and
 * TMPDIR, the named extras, the additions and the protocol's variables. The build sets
 * FOLK_TEST_SECRET (which must not leak) and LC_FOLK_TEST (which LC_* must pass) in this JVM.
 */
class WorkerEnvironmentTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    @Test
    void byDefaultAWorkerSeesOnlyTheMinimalJvmVariablesTheAdditionsAndTheProtocolsOwn() throws Exception {
        assertThat(System.getenv("FOLK_TEST_SECRET")).as("set by the build for this test").isEqualTo("do-not-leak-me");
        assertThat(System.getenv("LC_FOLK_TEST")).as("set by the build for this test").isNotNull();
        Map<String, String> env = environmentOf(WorkerSpec.builder("sleep").args("1000")
                .environment("GREETING", "hello"));

        Map<String, String> expected = new HashMap<>();
        for (String key : new String[] {"PATH", "HOME", "LANG", "TZ", "TMPDIR"}) {
            if (System.getenv(key) != null) {
                expected.put(key, System.getenv(key));
            }
        }
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("LC_")) {
                expected.put(k, v);
            }
        });
        expected.put("GREETING", "hello");
        expected.put("FOLK_RUNTIME", "pipe");
        expected.put("FOLK_TASK_FD", "3");
        expected.put("FOLK_CONTROL_FD", "4");
        expected.put("FOLK_RUN_ID", SUPERVISOR.get().runId());
        assertThat(env).isEqualTo(expected);
        assertThat(env).doesNotContainKey("FOLK_TEST_SECRET").containsEntry("LC_FOLK_TEST", "passed-by-prefix")
                .containsEntry("PATH", System.getenv("PATH"));
    }

    @Test
    void inheritingIsOptInAndPassesTheSecret() throws Exception {
        Map<String, String> env = environmentOf(WorkerSpec.builder("sleep").args("1000").inheritEnvironment(true));
        assertThat(env).containsEntry("FOLK_TEST_SECRET", "do-not-leak-me").containsEntry("FOLK_RUNTIME", "pipe");
        Map<String, String> jvm = new HashMap<>(System.getenv());
        assertThat(env).containsAllEntriesOf(jvm);
    }

    @Test
    void namedVariablesAndPrefixesArePassedAndAdditionsWin() throws Exception {
        Map<String, String> env = environmentOf(WorkerSpec.builder("sleep").args("1000")
                .passEnvironment("FOLK_TEST_*", "NO_SUCH_VARIABLE").environment("LC_FOLK_TEST", "mine"));
        assertThat(env).containsEntry("FOLK_TEST_SECRET", "do-not-leak-me").containsEntry("LC_FOLK_TEST", "mine")
                .doesNotContainKey("NO_SUCH_VARIABLE");
        assertThrows(IllegalArgumentException.class, () -> WorkerSpec.builder("sleep").passEnvironment("A*B"));
        assertThrows(IllegalArgumentException.class, () -> WorkerSpec.builder("sleep").passEnvironment("A=B"));
    }

    @Test
    void theExecutableIsFoundInTheJvmsPathByDefaultAndInTheWorkersOwnWhenSet() {
        assertThat(WorkerSpec.builder("sleep").build().resolveExecutable()).endsWith("/sleep");
        SpawnException e = assertThrows(SpawnException.class,
                () -> WorkerSpec.builder("sleep").environment("PATH", "/nonexistent-dir").build().resolveExecutable());
        assertThat(e.getMessage()).contains("PATH=/nonexistent-dir");
    }

    /** The environment of a worker started from {@code spec}, read once it has settled. */
    private static Map<String, String> environmentOf(WorkerSpec.Builder spec) throws IOException {
        WorkerProcess p = SUPERVISOR.get().spawn(spec.build());
        try {
            // execve releases the spawning parent before the new image's environment is in place.
            Procs.awaitAsleep(p.pid());
            return environ(p.pid());
        } finally {
            SUPERVISOR.get().terminate(p, Duration.ofSeconds(5));
        }
    }

    static Map<String, String> environ(int pid) throws IOException {
        Map<String, String> env = new HashMap<>();
        for (String entry : new String(Files.readAllBytes(Path.of("/proc", Integer.toString(pid), "environ")),
                StandardCharsets.UTF_8).split("\0")) {
            int eq = entry.indexOf('=');
            if (eq > 0) {
                env.put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        }
        return env;
    }
}
