package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.SharedSupervisor;
import dev.folk.core.testing.Workers;

/**
 * Workers run as another user through setpriv: same pid, own process group, exactly fds 0-4,
 * clean signal state, the user's ids, stopped and reaped as usual, and unable to read the JVM's
 * environment. Needs a root JVM (CI runs as root); skipped otherwise.
 */
class RunAsTest {

    private static final String SECRET_IN_JVM = "FOLK_TEST_SECRET=do-not-leak-me";

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    private static RunAs nobody() {
        assumeTrue(RunAs.effectiveUid() == 0, "switching the workers' user needs a root JVM; this one is not root");
        return RunAs.of("nobody", null);
    }

    @Test
    void aWorkerRunAsNobodyKeepsItsPidGroupFdsAndSignalStateAndIsStoppedAndReapedAsUsual(@TempDir Path tmp)
            throws Exception {
        RunAs nobody = nobody();
        RunAs.Account account = RunAs.lookupUser("nobody");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        String tag = Workers.newTag();
        WorkerProcess p = SUPERVISOR.get().spawn(Workers.sh(tag, "echo scratch > \"$TMPDIR/f\" && exec sleep 1000")
                .sandboxRoot(tmp.resolve("sandboxes")).runAs(nobody).build());
        int pid = p.pid();
        assertThat(Procs.pgrp(pid)).as("pgid of %d when spawn returns", pid).isEqualTo(pid);
        Procs.awaitAsleep(pid);
        assertThat(Procs.stat(pid)[1]).as("setpriv exec'd in place: the JVM is still the parent")
                .isEqualTo(Integer.toString(Procs.jvmPid()));
        assertThat(Procs.pgrp(pid)).isEqualTo(pid);
        assertThat(Procs.fds(pid)).as("fds of %d", pid).containsExactly(0, 1, 2, 3, 4);
        assertThat(Procs.fdTarget(pid, 0)).isEqualTo("/dev/null");
        assertThat(Procs.fdTarget(pid, 3)).startsWith("socket:");
        assertThat(Procs.fdTarget(pid, 4)).startsWith("socket:");
        assertThat(Long.parseLong(Procs.status(pid, "SigBlk"), 16)).isZero();
        assertThat(Long.parseLong(Procs.status(pid, "SigIgn"), 16)).isZero();
        String uid = Integer.toString(account.uid());
        String gid = Integer.toString(account.gid());
        assertThat(Procs.status(pid, "Uid").split("\\s+")).containsExactly(uid, uid, uid, uid);
        assertThat(Procs.status(pid, "Gid").split("\\s+")).containsExactly(gid, gid, gid, gid);
        assertThat(Procs.status(pid, "Groups")).doesNotContain("0 ").isNotEqualTo("0");
        assertThat(Procs.status(pid, "NoNewPrivs")).isEqualTo("1");
        assertThat(Procs.status(pid, "CapEff")).as("no capabilities left").isEqualTo("0000000000000000");

        Map<String, String> env = WorkerEnvironmentTest.environ(pid);
        assertThat(env).containsEntry("HOME", account.home()).containsEntry("USER", "nobody")
                .doesNotContainKey("FOLK_TEST_SECRET").containsEntry("FOLK_RUNTIME", "pipe");

        // The sandbox is the worker's own: its directory, its file; and still removed by us.
        Path sandbox = p.sandbox().orElseThrow();
        assertThat(Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "cwd"))).isEqualTo(sandbox);
        assertThat(Files.getAttribute(sandbox, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(account.uid());
        assertThat(Files.getAttribute(sandbox.resolve("f"), "unix:uid", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(account.uid());

        ExitStatus status = SUPERVISOR.get().terminate(p, Duration.ofSeconds(5));
        assertThat(status.signal()).isEqualTo(15);
        assertThat(Procs.alive(pid)).isFalse();
        assertThat(Files.exists(sandbox, LinkOption.NOFOLLOW_LINKS)).as("sandbox removed").isFalse();
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
        assertThat(SUPERVISOR.get().workers()).doesNotContain(p);
    }

    @Test
    void onlyAWorkerOfTheJvmsOwnUserCanReadTheJvmsEnvironmentBothCanReadItsCommandLine() {
        RunAs nobody = nobody();
        // 3: read the JVM's environ and found the secret; 2: could not; 9: could not read cmdline.
        String script = "[ \"$PPID\" = \"$JVM_PID\" ] || exit 8; head -c 1 /proc/$PPID/cmdline >/dev/null || exit 9;"
                + " if tr '\\0' '\\n' < /proc/$PPID/environ 2>/dev/null | grep -qx '" + SECRET_IN_JVM + "';"
                + " then exit 3; else exit 2; fi";
        assertThat(exitCode(script, null)).as("same uid as the JVM").isEqualTo(3);
        assertThat(exitCode(script, nobody)).as("as nobody").isEqualTo(2);
    }

    private static int exitCode(String script, RunAs runAs) {
        WorkerProcess p = SUPERVISOR.get().spawn(Workers.sh(Workers.newTag(), script)
                .environment("JVM_PID", Integer.toString(Procs.jvmPid())).runAs(runAs).build());
        assertThat(SUPERVISOR.get().awaitExit(p, Duration.ofSeconds(10))).isTrue();
        return SUPERVISOR.get().terminate(p, Duration.ofSeconds(1)).exitCode();
    }

    @Test
    void onlyAGroupKeepsTheJvmsUidWithThatGroupAndNoSupplementaryGroups() {
        assumeTrue(RunAs.effectiveUid() == 0, "switching the workers' group needs a root JVM; this one is not root");
        RunAs group = RunAs.of(null, "nogroup");
        int gid = RunAs.lookupGroup("nogroup");
        WorkerProcess p = SUPERVISOR.get().spawn(WorkerSpec.builder("sleep").args("1000").runAs(group).build());
        try {
            Procs.awaitAsleep(p.pid());
            assertThat(Procs.status(p.pid(), "Uid").split("\\s+")[1]).isEqualTo("0");
            assertThat(Procs.status(p.pid(), "Gid").split("\\s+")).containsOnly(Integer.toString(gid));
            assertThat(Procs.status(p.pid(), "Groups")).isEmpty();
        } finally {
            SUPERVISOR.get().terminate(p, Duration.ofSeconds(5));
        }
    }

    @Test
    void aPhpPoolRunAsNobodyAnswersWithNobodysIdsAndWithoutTheJvmsSecrets(@TempDir Path tmp) throws Exception {
        RunAs nobody = nobody();
        RunAs.Account account = RunAs.lookupUser("nobody");
        // A copy readable by nobody wherever the sources are checked out.
        Path library = Path.of("../folk-worker-php/src/main/php").toAbsolutePath().normalize();
        Path copy = tmp.resolve("php");
        try (Stream<Path> files = Files.walk(library)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, copy.resolve(library.relativize(f).toString()));
            }
        }
        Path script = Files.writeString(tmp.resolve("ids.php"), "<?php\nrequire getenv('FOLK_WORKER_PHP');\n"
                + "$w = new Folk\\Worker\\Worker();\n"
                + "$w->register('ids', fn () => [posix_getuid(), posix_getgid(), getenv('FOLK_TEST_SECRET'),"
                + " getenv('HOME')]);\n$w->run();\n");
        try (Stream<Path> all = Files.walk(tmp)) {
            for (Path f : (Iterable<Path>) all::iterator) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(Files.isDirectory(f) ? "rwxr-xr-x"
                        : "rw-r--r--"));
            }
        }
        assertThat(nobody.inaccessible(List.of("r" + script, "r" + copy.resolve("autoload.php")))).isEmpty();
        String tag = Workers.newTag();
        WorkerSpec spec = WorkerSpec.builder("php").name("php-nobody").args(script.toString()).runAs(nobody)
                .environment("FOLK_WORKER_PHP", copy.resolve("autoload.php").toString())
                .environment(Workers.RUN_TAG, tag).build();
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("nobody", spec).size(2).build(), SUPERVISOR.get());
        try {
            assertThat(pool.awaitReady(2, Duration.ofSeconds(20))).as("pool ready").isTrue();
            for (int i = 0; i < 4; i++) {
                List<?> ids = pool.call("ids", null, List.class);
                assertThat(ids).hasSize(4);
                assertThat(((Number) ids.get(0)).longValue()).as("uid").isEqualTo(account.uid());
                assertThat(((Number) ids.get(1)).longValue()).as("gid").isEqualTo(account.gid());
                assertThat(ids.get(2)).as("getenv('FOLK_TEST_SECRET')").isEqualTo(false);
                assertThat(ids.get(3)).as("getenv('HOME')").isEqualTo(account.home());
            }
        } finally {
            pool.close();
        }
        Procs.await(Duration.ofSeconds(10), "no worker left", () -> Procs.aliveWithEnv(Workers.RUN_TAG, tag).isEmpty());
    }

    @Test
    void unknownUsersAndGroupsAreRefusedWithTheirName() {
        IllegalArgumentException user = assertThrows(IllegalArgumentException.class,
                () -> RunAs.of("folk-no-such-user", null));
        assertThat(user.getMessage()).contains("no such user").contains("folk-no-such-user");
        IllegalArgumentException group = assertThrows(IllegalArgumentException.class,
                () -> RunAs.of(null, "folk-no-such-group"));
        assertThat(group.getMessage()).contains("no such group").contains("folk-no-such-group");
        assertThat(RunAs.lookupUser("nobody")).isNotNull();
        assertThat(RunAs.lookupUser("4000000")).as("a uid without an entry").extracting(RunAs.Account::name)
                .isNull();
        IllegalArgumentException noGroup = assertThrows(IllegalArgumentException.class,
                () -> RunAs.of("4000000", null));
        assertThat(noGroup.getMessage()).contains("no passwd entry").contains("group");
    }

    @Test
    void aWorkerRunAsNobodyCannotReadAScriptInARootOnlyDirectory(@TempDir Path tmp) throws IOException {
        RunAs nobody = nobody();
        Path script = Files.writeString(tmp.resolve("w.php"), "<?php\n");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx------"));
        assertThat(nobody.inaccessible(List.of("r" + script, "x/bin/sh"))).containsExactly("r" + script);
    }
}
