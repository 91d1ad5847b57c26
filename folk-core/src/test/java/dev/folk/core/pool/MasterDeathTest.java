package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.folk.core.os.NativeOs;
import dev.folk.core.os.OsException;
import dev.folk.core.testing.ChildJvm;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/** The JVM dies without running any Java code: workers must not outlive it, nor pile up as zombies. */
class MasterDeathTest {

    @Test
    void whenTheJvmIsKilledEveryWorkerExitsWithinASecondAndTakesItsChildren() throws Exception {
        String tag = Workers.newTag();
        List<Integer> tagged;
        Map<Integer, Integer> pgrpOf = new HashMap<>();
        try (ChildJvm child = ChildJvm.start(PoolInChildMain.class, tag)) {
            child.awaitLine("READY", Duration.ofSeconds(60));
            tagged = Procs.aliveWithEnv(Workers.RUN_TAG, tag);
            assertThat(tagged).as("4 workers and their 4 children").hasSizeGreaterThanOrEqualTo(8);
            for (int pid : tagged) {
                pgrpOf.put(pid, Procs.pgrp(pid));
            }
            child.process().destroyForcibly(); // SIGKILL
            long t0 = System.nanoTime();
            assertThat(child.process().waitFor(5, TimeUnit.SECONDS)).isTrue();
            // A process in the middle of exiting has no readable environment yet is not a zombie
            // either: ask both the tag and the pids seen before.
            List<Integer> seen = tagged;
            Procs.await(Duration.ofSeconds(5), "every worker and child gone",
                    () -> Procs.aliveWithEnv(Workers.RUN_TAG, tag).isEmpty() && seen.stream().noneMatch(Procs::alive));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.println("MASTER_DEATH processes=" + tagged.size() + " gone_ms=" + ms);
            assertThat(ms).as("ms until the last worker or child exited").isLessThanOrEqualTo(1000);
        }
        // They were re-parented to this JVM (a subreaper): collect what became our zombies, and
        // anything else of their groups (other tests' leftovers are not this test's business).
        Set<Integer> groups = new HashSet<>();
        for (int pid : tagged) {
            groups.add(pgrpOf.getOrDefault(pid, -1));
            Procs.await(Duration.ofSeconds(5), "pid " + pid + " reaped", () -> {
                try {
                    return NativeOs.get().wait4(pid, true) != null;
                } catch (OsException notOurs) {
                    return true; // re-parented elsewhere, or already reaped
                }
            });
        }
        List<Integer> left = Procs.zombieChildren().stream().filter(z -> groups.contains(Procs.pgrp(z))).toList();
        assertThat(left).as("zombies of the dead pool's groups: %s", Procs.describe(left)).isEmpty();
    }

    @Test
    void asPidOneOfItsNamespaceTheJvmLetsNoOrphanedWorkerChildLingerAsAZombie() throws Exception {
        String why = unshareUnavailable();
        assumeTrue(why == null, "skipped: this machine does not allow a new pid namespace (" + why + ")");
        String tag = Workers.newTag();
        try (ChildJvm child = ChildJvm.start(Pid1Main.class, List.of("unshare", "--pid", "--fork", "--mount-proc"),
                tag)) {
            assertThat(child.awaitLine("PID", Duration.ofSeconds(30))).isEqualTo("PID 1");
            String zombies = child.awaitLine("ZOMBIES", Duration.ofSeconds(60));
            System.out.println("PID1 " + zombies);
            assertThat(zombies).as("200 orphaned jobs later").startsWith("ZOMBIES 0 ");
            assertThat(child.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(child.process().exitValue()).as(child.transcript()).isZero();
        }
    }

    /** Null when {@code unshare --pid --fork --mount-proc} works here, else why not. */
    private static String unshareUnavailable() throws InterruptedException {
        try {
            Process p = new ProcessBuilder("unshare", "--pid", "--fork", "--mount-proc", "true")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 ? null : out;
        } catch (IOException e) {
            return e.getMessage();
        }
    }
}
