package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.RunAs;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.pool.ClasspathScripts;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * folk.inherit-env's default, and folk.user / folk.group: real PHP workers started by the
 * auto-configuration. The build sets FOLK_TEST_SECRET in this JVM. Tests that switch users need a
 * root JVM (CI runs as root) and are skipped otherwise; the non-root refusal is checked only there.
 */
class WorkerUserTest {

    private final String tag = Workers.newTag();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FolkAutoConfiguration.class))
            .withPropertyValues("folk.shutdown.signal-handler=false", "folk.args=classpath:php/identity-app.php",
                    "folk.size=2", "folk.env.FOLK_TEST_RUN=" + tag);

    private static void assumeRoot() {
        assumeTrue(RunAs.effectiveUid() == 0, "switching the workers' user needs a root JVM; this one is not root");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> identity(WorkerPool pool) {
        return (Map<String, Object>) pool.call("identity", null, Map.class);
    }

    @Test
    void theJvmsSecretsReachWorkersOnlyWithInheritEnv() {
        assertThat(System.getenv("FOLK_TEST_SECRET")).as("set by the build").isEqualTo("do-not-leak-me");
        runner.run(ctx -> {
            assertThat(ctx).hasNotFailed();
            Map<String, Object> id = identity(ctx.getBean(WorkerPool.class));
            assertThat(id.get("secret")).isEqualTo(false);
            assertThat(id.get("home")).isEqualTo(System.getenv("HOME") == null ? false : System.getenv("HOME"));
        });
        runner.withPropertyValues("folk.inherit-env=true").run(ctx ->
                assertThat(identity(ctx.getBean(WorkerPool.class)).get("secret")).isEqualTo("do-not-leak-me"));
        runner.withPropertyValues("folk.pass-env=FOLK_TEST_SECRET").run(ctx ->
                assertThat(identity(ctx.getBean(WorkerPool.class)).get("secret")).isEqualTo("do-not-leak-me"));
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void poolsRunAsTheirConfiguredUserWithClasspathScriptsReadableByItsGroupOnly() {
        assumeRoot();
        RunAs.Account nobody = RunAs.lookupUser("nobody");
        runner.withPropertyValues("folk.pools.web.user=nobody", "folk.pools.web.size=1",
                "folk.pools.group-only.group=" + nobody.gid()).run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    FolkPools pools = ctx.getBean(FolkPools.class);

                    Map<String, Object> web = identity(pools.get("web"));
                    assertThat(((Number) web.get("uid")).intValue()).isEqualTo(nobody.uid());
                    assertThat(((Number) web.get("gid")).intValue()).isEqualTo(nobody.gid());
                    assertThat(web.get("home")).isEqualTo(nobody.home());
                    assertThat(web.get("secret")).isEqualTo(false);
                    for (int pid : Procs.aliveWithEnv(Workers.RUN_TAG, tag)) {
                        String uid = Procs.status(pid, "Uid").split("\\s+")[0];
                        assertThat(uid).isIn("0", Integer.toString(nobody.uid()));
                    }

                    Map<String, Object> groupOnly = identity(pools.get("group-only"));
                    assertThat(((Number) groupOnly.get("uid")).intValue()).as("the JVM's uid").isZero();
                    assertThat(((Number) groupOnly.get("gid")).intValue()).isEqualTo(nobody.gid());

                    // The extracted copy: ours, readable by the workers' group, by no one else, by no one writable.
                    Path script = Path.of((String) web.get("script"));
                    Path root = ctx.getBean(ClasspathScripts.class).directory();
                    assertThat(script).startsWith(root);
                    for (Path p = script; p.startsWith(root); p = p.getParent()) {
                        assertThat(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0);
                        assertThat(Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS))
                                .isEqualTo(nobody.gid());
                        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p)))
                                .isEqualTo(Files.isDirectory(p) ? "rwxr-x---" : "rw-r-----");
                    }
                });
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void aScriptTheWorkersUserCannotReadFailsStartupNamingThePathAndTheUser(@TempDir Path dir) throws Exception {
        assumeRoot();
        Path script = Files.writeString(dir.resolve("worker.php"), "<?php\n");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        runner.withPropertyValues("folk.pools.web.user=nobody", "folk.pools.web.args=" + script).run(ctx -> {
            assertThat(ctx).hasFailed();
            FailureAnalysis analysis = new FolkConfigurationFailureAnalyzer(null).analyze(ctx.getStartupFailure());
            assertThat(analysis.getDescription()).contains("Property: folk.pools.web.args")
                    .contains("cannot read " + script).contains("nobody").contains("folk.pools.web.user");
            assertThat(analysis.getAction()).contains("readable by that user");
        });
        assertThat(Procs.withEnv(Workers.RUN_TAG, tag)).as("no worker may start").isEmpty();
    }

    /**
     * A temporary directory the workers' user cannot write: every upload would get
     * UPLOAD_ERR_NO_TMP_DIR with nothing logged, and each worker's start a PHP notice about
     * tempnam(). Said at start-up instead, with what to do.
     */
    @Test
    void aTemporaryDirectoryTheWorkersUserCannotWriteFailsStartup(@TempDir Path dir) throws Exception {
        assumeRoot();
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        runner.withPropertyValues("folk.pools.web.user=nobody", "folk.pools.web.env.TMPDIR=" + tmp).run(ctx -> {
            assertThat(ctx).hasFailed();
            FailureAnalysis analysis = new FolkConfigurationFailureAnalyzer(null).analyze(ctx.getStartupFailure());
            assertThat(analysis.getDescription()).contains("Property: folk.pools.web.user")
                    .contains("cannot create files in its temporary directory " + tmp + " (TMPDIR)")
                    .contains("UPLOAD_ERR_NO_TMP_DIR");
            assertThat(analysis.getAction()).contains("mode 1777", "env TMPDIR", "sandbox");
        });
        assertThat(Procs.withEnv(Workers.RUN_TAG, tag)).as("no worker may start").isEmpty();
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        runner.withPropertyValues("folk.pools.web.user=nobody", "folk.pools.web.env.TMPDIR=" + tmp)
                .run(ctx -> assertThat(ctx).hasNotFailed());
    }

    @Test
    void poolsOfDifferentGroupsCannotShareTheExtractedScripts() {
        assumeRoot();
        runner.withPropertyValues("folk.pools.a.user=nobody", "folk.pools.b.user=nobody", "folk.pools.b.group=root")
                .run(ctx -> {
                    assertThat(ctx).hasFailed();
                    FailureAnalysis analysis = new FolkConfigurationFailureAnalyzer(null).analyze(ctx.getStartupFailure());
                    assertThat(analysis.getDescription()).contains("Property: folk.pools.b.group")
                            .contains("already shared with gid");
                    assertThat(analysis.getAction()).contains("same group");
                });
        assertThat(Procs.withEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void unknownUsersAndGroupsFailStartupUnderTheirKey() {
        runner.withPropertyValues("folk.user=folk-no-such-user", "folk.pools.jobs.group=folk-no-such-group",
                "folk.pools.web.size=1").run(ctx -> {
                    assertThat(ctx).hasFailed();
                    FolkConfigurationException e = cause(ctx.getStartupFailure());
                    assertThat(e.violations()).filteredOn(v -> v.problem().contains("no such user"))
                            .extracting(FolkConfigurationException.Violation::key)
                            .as("once, though both pools inherit it").containsExactly("folk.user");
                    assertThat(e.violations()).filteredOn(v -> v.problem().contains("no such group"))
                            .extracting(FolkConfigurationException.Violation::key)
                            .containsExactly("folk.pools.jobs.group");
                    FailureAnalysis analysis = new FolkConfigurationFailureAnalyzer(null).analyze(ctx.getStartupFailure());
                    assertThat(analysis.getDescription()).contains("Value:    \"folk-no-such-user\"");
                });
        assertThat(Procs.withEnv(Workers.RUN_TAG, tag)).isEmpty();
    }

    @Test
    void aJvmThatIsNotRootCannotSwitchUsers() {
        assumeTrue(RunAs.effectiveUid() > 0, "checks the refusal of a JVM that is not root; this one is root");
        runner.withPropertyValues("folk.user=nobody").run(ctx -> {
            FailureAnalysis analysis = new FolkConfigurationFailureAnalyzer(null).analyze(ctx.getStartupFailure());
            assertThat(analysis.getDescription()).contains("Property: folk.user").contains("needs the JVM to run as root");
        });
    }

    private static FolkConfigurationException cause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof FolkConfigurationException e) {
                return e;
            }
        }
        throw new AssertionError("no FolkConfigurationException in " + t, t);
    }
}
