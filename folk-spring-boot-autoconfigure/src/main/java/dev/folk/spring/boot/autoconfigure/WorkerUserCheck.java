package dev.folk.spring.boot.autoconfigure;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import dev.folk.core.supervision.RunAs;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.spring.boot.pool.ClasspathScripts;

/**
 * The start-up checks of {@code folk.user} / {@code folk.group}: that they exist, that the JVM can
 * switch to them (root, setpriv), and that the workers' command, scripts, working directory and
 * sandbox root are usable by that identity, so a mistake is a clear error now rather than workers
 * failing to boot later.
 */
final class WorkerUserCheck {

    /** Which of the pool's settings a problem is about. */
    enum Subject { USER, GROUP, COMMAND, ARGS, WORKING_DIR, SANDBOX, TMPDIR }

    record Problem(Subject subject, String problem, String action) {
    }

    private WorkerUserCheck() {
    }

    /** The identity to run as, or null (with problems added) when it cannot be used. */
    static @Nullable RunAs resolve(@Nullable String user, @Nullable String group, String userKey, String groupKey, List<Problem> problems) {
        int before = problems.size();
        RunAs.Account account = null;
        if (user != null) {
            account = RunAs.lookupUser(user);
            if (account == null) {
                problems.add(new Problem(Subject.USER, "no such user",
                        "Create the user, or set " + userKey + " to an existing user name or uid (e.g. www-data)."));
            } else if (account.name() == null && group == null) {
                problems.add(new Problem(Subject.USER, "uid " + account.uid()
                        + " has no passwd entry, so the workers' group is unknown",
                        "Set " + groupKey + " too, or use a user that has a passwd entry."));
            }
        }
        if (group != null && RunAs.lookupGroup(group) == null) {
            problems.add(new Problem(Subject.GROUP, "no such group",
                    "Create the group, or set " + groupKey + " to an existing group name or gid."));
        }
        Subject subject = user != null ? Subject.USER : Subject.GROUP;
        String key = user != null ? userKey : groupKey;
        int euid = RunAs.effectiveUid();
        if (euid != 0) {
            problems.add(new Problem(subject, "running workers as another user or group needs the JVM to run as root,"
                    + " but it runs as uid " + euid,
                    "Start the application as root (only the workers switch identity), or remove " + key + "."));
        } else if (RunAs.setprivPath() == null) {
            problems.add(new Problem(subject, "running workers as another user or group needs setpriv (util-linux),"
                    + " which is not installed",
                    "Install util-linux (Debian/Ubuntu: apt-get install util-linux; Fedora/RHEL: dnf install"
                            + " util-linux), or remove " + key + "."));
        }
        if (problems.size() > before) {
            return null;
        }
        try {
            return RunAs.of(user, group);
        } catch (IllegalArgumentException e) {
            problems.add(new Problem(subject, String.valueOf(e.getMessage()), "Correct " + key + "."));
            return null;
        }
    }

    /**
     * Whether {@code runAs} can run the worker: execute the command, read each argument that is an
     * existing file (the scripts) and FOLK_WORKER_PHP, and search the working directory and the
     * sandbox root. Asked of the kernel as that identity (see {@link RunAs#inaccessible}).
     */
    static void checkAccess(RunAs runAs, WorkerSpec spec, String executable, String whoKey, List<Problem> problems) {
        Map<String, Subject> checks = new LinkedHashMap<>();
        checks.put("x" + executable, Subject.COMMAND);
        Path base = spec.workingDirectory() != null ? spec.workingDirectory() : Path.of("");
        for (String arg : spec.args()) {
            Path p = Path.of(arg);
            if (spec.sandboxRoot() != null && !p.isAbsolute()) {
                continue; // relative to a sandbox that does not exist yet
            }
            Path file = base.resolve(p).toAbsolutePath();
            if (Files.isRegularFile(file)) {
                checks.putIfAbsent("r" + file, Subject.ARGS);
            }
        }
        String library = spec.environment().get(ClasspathScripts.WORKER_LIBRARY_ENV);
        if (library != null && Files.isRegularFile(Path.of(library))) {
            checks.putIfAbsent("r" + library, Subject.USER);
        }
        if (spec.sandboxRoot() == null && spec.workingDirectory() != null) {
            checks.putIfAbsent("x" + spec.workingDirectory().toAbsolutePath(), Subject.WORKING_DIR);
        }
        if (spec.sandboxRoot() != null && Files.isDirectory(spec.sandboxRoot())) {
            checks.putIfAbsent("x" + spec.sandboxRoot().toAbsolutePath(), Subject.SANDBOX);
        }
        String tmp = temporaryDirectory(spec);
        if (tmp != null) { // PHP's uploads and tempnam() (folk-worker-php's too) write there
            checks.putIfAbsent("w" + tmp, Subject.TMPDIR);
        }
        for (String denied : runAs.inaccessible(new ArrayList<>(checks.keySet()))) {
            Subject subject = checks.get(denied);
            if (subject == null) {
                continue;
            }
            String path = denied.substring(1);
            boolean read = denied.charAt(0) == 'r';
            String what = switch (subject) {
                case COMMAND -> "cannot execute " + path;
                case WORKING_DIR -> "cannot enter the working directory " + path;
                case SANDBOX -> "cannot enter the sandbox root " + path;
                case TMPDIR -> "cannot create files in its temporary directory " + path + " (TMPDIR): PHP's"
                        + " uploads would fail (UPLOAD_ERR_NO_TMP_DIR, logged nowhere) and so would tempnam()";
                default -> "cannot read " + path;
            };
            problems.add(new Problem(subject, "the workers' " + runAs + " (" + whoKey + ") " + what,
                    subject == Subject.TMPDIR ? "Make it writable by that user or group (as /tmp is: mode 1777),"
                            + " give the workers one they can write (the pool's env TMPDIR), or give the pool a"
                            + " sandbox (its TMPDIR is each worker's own directory)."
                    : "Make it " + (read ? "readable" : "accessible") + " by that user or group: every parent"
                            + " directory needs o+x (or g+x with the group), the file o+r (or g+r); or move it"
                            + " to a place the workers can read."));
        }
    }

    /**
     * The temporary directory a worker without a sandbox gets: its TMPDIR (the pool's env, else the
     * JVM's, which workers get by default), else PHP's default, /tmp; null with a sandbox (the
     * worker's own directory then) or if it does not exist (nothing to check).
     */
    private static @Nullable String temporaryDirectory(WorkerSpec spec) {
        if (spec.sandboxRoot() != null) {
            return null;
        }
        String tmp = spec.environment().get("TMPDIR");
        if (tmp == null || tmp.isEmpty()) {
            tmp = System.getenv("TMPDIR");
        }
        Path dir = Path.of(tmp == null || tmp.isEmpty() ? "/tmp" : tmp).toAbsolutePath();
        return Files.isDirectory(dir) ? dir.toString() : null;
    }
}
