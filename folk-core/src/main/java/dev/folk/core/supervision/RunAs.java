package dev.folk.core.supervision;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

/**
 * The identity workers run as when it is not the JVM's: a user (and its primary group) and/or a
 * group. The JVM must be root.
 *
 * <p>posix_spawn cannot change credentials, so the worker is started through util-linux's
 * {@code setpriv}, which switches uid/gid and then execs the worker in place: the pid, the
 * process group, fds 0-4 and the signal state the spawn set up are kept. With a user, the
 * supplementary groups are the user's ({@code --init-groups}); with only a group, the worker keeps
 * the JVM's uid with that group and no supplementary groups. By default the worker also gets
 * {@code no_new_privs}: setuid/setgid programs it runs (sudo, su, a setgid {@code sendmail}
 * helper) do not gain privileges.
 *
 * <p>Users and groups are looked up with {@code getent}, so NSS sources (LDAP, sssd) count; a
 * numeric uid or gid without an entry is accepted as is (a user then needs a group).
 */
public final class RunAs {

    /** Where setpriv is looked for (util-linux installs it in /usr/bin; older systems in /bin). */
    private static final List<String> SETPRIV = List.of("/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv",
            "/sbin/setpriv");

    /** A passwd entry: the user's name, uid, primary gid (-1 if unknown) and home (null if unknown). */
    public record Account(@Nullable String name, int uid, int gid, @Nullable String home) {
    }

    private final @Nullable Account user;
    private final int gid;
    private final String setpriv;
    private final boolean noNewPrivileges;

    private RunAs(@Nullable Account user, int gid, String setpriv, boolean noNewPrivileges) {
        this.user = user;
        this.gid = gid;
        this.setpriv = setpriv;
        this.noNewPrivileges = noNewPrivileges;
    }

    /**
     * Resolves {@code user} and {@code group} (names or numeric ids; either may be null, not both).
     *
     * @throws IllegalArgumentException naming what is wrong: an unknown user or group, a JVM that
     *                                  is not root, or no setpriv on this system
     */
    @SuppressWarnings("NullAway") // without a group, a user was given: account is set
    public static RunAs of(@Nullable String user, @Nullable String group) {
        if (blank(user) && blank(group)) {
            throw new IllegalArgumentException("a user or a group is needed");
        }
        Account account = null;
        if (!blank(user)) {
            account = lookupUser(user);
            if (account == null) {
                throw new IllegalArgumentException("no such user: '" + user + "'");
            }
        }
        int gid;
        if (!blank(group)) {
            Integer g = lookupGroup(group);
            if (g == null) {
                throw new IllegalArgumentException("no such group: '" + group + "'");
            }
            gid = g;
        } else if (account.gid() >= 0) {
            gid = account.gid();
        } else {
            throw new IllegalArgumentException("uid " + account.uid() + " has no passwd entry, so no primary group:"
                    + " a group must be given too");
        }
        int euid = effectiveUid();
        if (euid != 0) {
            throw new IllegalArgumentException("running workers as another user or group needs the JVM to run as"
                    + " root, and it runs as uid " + euid);
        }
        String setpriv = setprivPath();
        if (setpriv == null) {
            throw new IllegalArgumentException("running workers as another user or group needs setpriv (util-linux),"
                    + " which is not in " + String.join(", ", SETPRIV));
        }
        return new RunAs(account, gid, setpriv, true);
    }

    /** This identity with or without {@code no_new_privs} (default: with). */
    public RunAs noNewPrivileges(boolean on) {
        return new RunAs(user, gid, setpriv, on);
    }

    public boolean noNewPrivileges() {
        return noNewPrivileges;
    }

    /** The worker's uid, or -1 when only a group is set (the worker keeps the JVM's uid). */
    public int uid() {
        return user == null ? -1 : user.uid();
    }

    /** The worker's gid. */
    public int gid() {
        return gid;
    }

    /** The user's passwd entry, or null when only a group is set. */
    public @Nullable Account user() {
        return user;
    }

    /**
     * argv running {@code program} (an absolute path) with {@code args} as this identity:
     * setpriv's options, then the program. setpriv execs it in place.
     */
    List<String> argv(String program, List<String> args) {
        List<String> argv = new ArrayList<>(args.size() + 8);
        argv.add(setpriv);
        if (user != null) {
            argv.add("--reuid=" + user.uid());
        }
        argv.add("--regid=" + gid);
        // initgroups(3) needs the user's name; without one (or without a user) drop them all.
        argv.add(user != null && user.name() != null ? "--init-groups" : "--clear-groups");
        if (noNewPrivileges) {
            argv.add("--no-new-privs");
        }
        argv.add("--");
        argv.add(program);
        argv.addAll(args);
        return argv;
    }

    String setpriv() {
        return setpriv;
    }

    /** HOME, USER and LOGNAME of the user (not the JVM's), as far as its passwd entry tells. */
    Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        if (user != null && user.home() != null) {
            env.put("HOME", user.home());
        }
        if (user != null && user.name() != null) {
            env.put("USER", user.name());
            env.put("LOGNAME", user.name());
        }
        return env;
    }

    /** Gives {@code path} to this identity (its uid if set, and its gid), not following links. */
    void chown(Path path) throws IOException {
        if (user != null) {
            Files.setAttribute(path, "unix:uid", user.uid(), java.nio.file.LinkOption.NOFOLLOW_LINKS);
        }
        Files.setAttribute(path, "unix:gid", gid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * The paths among {@code checks} that this identity cannot use, each a mode ('r' read,
     * 'x' execute or search, 'w' create files in: write and search) and a path, e.g. {@code "r/srv/app/worker.php"}. Asked of the kernel by
     * running {@code test} as this identity, so groups, ACLs and every parent directory count.
     */
    public List<String> inaccessible(List<String> checks) {
        if (checks.isEmpty()) {
            return List.of();
        }
        List<String> script = new ArrayList<>();
        script.add("/bin/sh");
        script.add("-c");
        script.add("for c; do p=${c#?}; case $c in r*) test -r \"$p\" || echo \"$c\";; "
                + "w*) { test -w \"$p\" && test -x \"$p\"; } || echo \"$c\";; "
                + "*) test -x \"$p\" || echo \"$c\";; esac; done");
        script.add("sh");
        script.addAll(checks);
        List<String> argv = argv(script.get(0), script.subList(1, script.size()));
        String out = run(argv);
        if (out == null) {
            return checks; // could not even run the check: report everything rather than nothing
        }
        return out.lines().filter(l -> !l.isEmpty()).toList();
    }

    /** "user nobody (uid 65534), group 65534" for messages. */
    @Override
    public String toString() {
        String u = user == null ? "" : "user " + (user.name() != null ? user.name() + " (uid " + user.uid() + ")"
                : "uid " + user.uid()) + ", ";
        return u + "gid " + gid;
    }

    // --- look-ups ---

    /** The passwd entry of a user name or uid; a uid without an entry gives an account without name. */
    public static @Nullable Account lookupUser(String nameOrUid) {
        if (blank(nameOrUid) || nameOrUid.indexOf('\0') >= 0) {
            return null;
        }
        String line = getent("passwd", nameOrUid.trim());
        if (line != null) {
            String[] f = line.split(":", -1);
            if (f.length >= 7) {
                try {
                    return new Account(f[0], Integer.parseInt(f[2]), Integer.parseInt(f[3]), f[5]);
                } catch (NumberFormatException malformed) {
                    return null;
                }
            }
        }
        int uid = numericId(nameOrUid);
        return uid < 0 ? null : new Account(null, uid, -1, null);
    }

    /** The gid of a group name or gid (a gid without an entry is accepted), or null. */
    public static @Nullable Integer lookupGroup(String nameOrGid) {
        if (blank(nameOrGid) || nameOrGid.indexOf('\0') >= 0) {
            return null;
        }
        String line = getent("group", nameOrGid.trim());
        if (line != null) {
            String[] f = line.split(":", -1);
            if (f.length >= 3) {
                try {
                    return Integer.parseInt(f[2]);
                } catch (NumberFormatException malformed) {
                    return null;
                }
            }
        }
        int gid = numericId(nameOrGid);
        return gid < 0 ? null : gid;
    }

    /** The JVM's effective uid, from /proc/self/status (-1 if unreadable). */
    public static int effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** setpriv's absolute path, or null if util-linux's setpriv is not installed. */
    public static @Nullable String setprivPath() {
        for (String p : SETPRIV) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return null;
    }

    private static int numericId(String s) {
        String t = s.trim();
        if (!t.matches("[0-9]{1,10}")) {
            return -1;
        }
        long v = Long.parseLong(t);
        return v < Integer.MAX_VALUE ? (int) v : -1;
    }

    private static @Nullable String getent(String database, String key) {
        String out = run(List.of("getent", database, key));
        return out == null || out.isBlank() ? null : out.lines().findFirst().orElse(null);
    }

    /** Runs a short command; its stdout, or null if it failed to start or did not end in 10 s. */
    private static @Nullable String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(false)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            p.getOutputStream().close();
            // A hung NSS source must not hang start-up. The output (a line or a few paths) fits
            // in the pipe, so waiting before reading cannot block the child.
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static boolean blank(@Nullable String s) {
        return s == null || s.isBlank();
    }
}
