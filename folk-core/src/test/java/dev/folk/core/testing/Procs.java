package dev.folk.core.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.concurrent.locks.LockSupport;

/** Facts about processes, read from /proc, for assertions. */
public final class Procs {

    private Procs() {
    }

    public static int jvmPid() {
        return (int) ProcessHandle.current().pid();
    }

    /** The JVM's open descriptors. */
    public static Set<Integer> jvmFds() {
        return fds(jvmPid());
    }

    /**
     * The JVM's open descriptors and what each points to. The descriptor that listed them is
     * closed by then and left out, so two listings compare equal when nothing changed.
     */
    public static Map<Integer, String> jvmDescriptors() {
        int pid = jvmPid();
        Map<Integer, String> targets = new TreeMap<>();
        for (int fd : fds(pid)) {
            String target = fdTarget(pid, fd);
            if (target != null) {
                targets.put(fd, target);
            }
        }
        return targets;
    }

    /**
     * What is open in {@code now} and was not in {@code before}: a new number, or a number reused
     * for something else. A leak shows here. A baseline descriptor that someone else closed
     * meanwhile (the JDK closing an earlier test's child process pipes, a cleaner) does not.
     */
    public static Map<Integer, String> openedSince(Map<Integer, String> before, Map<Integer, String> now) {
        Map<Integer, String> opened = new TreeMap<>(now);
        opened.entrySet().removeIf(e -> Objects.equals(before.get(e.getKey()), e.getValue()));
        return opened;
    }

    /** Waits until nothing is open in the JVM that was not open in {@code before} (see {@link #openedSince}). */
    public static void awaitNothingOpenedSince(Map<Integer, String> before, Duration timeout) {
        await(timeout, "no JVM descriptor left open", () -> openedSince(before, jvmDescriptors()).isEmpty(),
                () -> "opened since the baseline: " + openedSince(before, jvmDescriptors()));
    }

    public static Set<Integer> fds(int pid) {
        Set<Integer> fds = new TreeSet<>();
        String[] names = Path.of("/proc", Integer.toString(pid), "fd").toFile().list();
        if (names != null) {
            for (String n : names) {
                fds.add(Integer.parseInt(n));
            }
        }
        return fds;
    }

    /** What {@code /proc/<pid>/fd/<fd>} points to, e.g. {@code socket:[1234]}; null if gone. */
    public static String fdTarget(int pid, int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "fd", Integer.toString(fd))).toString();
        } catch (IOException e) {
            return null;
        }
    }

    /** Socket inodes ("socket:[n]") a process holds. */
    public static Set<String> sockets(int pid) {
        Set<String> sockets = new TreeSet<>();
        for (int fd : fds(pid)) {
            String target = fdTarget(pid, fd);
            if (target != null && target.startsWith("socket:")) {
                sockets.add(target);
            }
        }
        return sockets;
    }

    /** A line of /proc/<pid>/status, e.g. field "SigIgn" → "0000000000000000". */
    public static String status(int pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
                if (line.startsWith(field + ":")) {
                    return line.substring(field.length() + 1).trim();
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    /** {state, ppid, pgrp} from /proc/<pid>/stat, or null if gone. */
    public static String[] stat(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new String[] {f[0], f[1], f[2]};
        } catch (IOException e) {
            return null;
        }
    }

    public static int pgrp(int pid) {
        String[] s = stat(pid);
        return s == null ? -1 : Integer.parseInt(s[2]);
    }

    /**
     * Exists and is not a zombie. A process whose first thread has exited while others run shows
     * as a zombie in its stat; it is alive as long as one of its threads is.
     */
    public static boolean alive(int pid) {
        String[] s = stat(pid);
        return s != null && (!s[0].equals("Z") && !s[0].equals("X") || headless(pid));
    }

    /** A process whose first thread has exited while another runs: its stat says zombie, its thread count 2 or more. */
    public static boolean headless(int pid) {
        String[] s = stat(pid);
        String threads = status(pid, "Threads");
        return s != null && s[0].equals("Z") && threads != null && Integer.parseInt(threads) > 1;
    }

    /** Processes (zombies included) whose environment has {@code key=value}. */
    public static List<Integer> withEnv(String key, String value) {
        byte[] needle = (key + '=' + value).getBytes(StandardCharsets.UTF_8);
        List<Integer> found = new ArrayList<>();
        for (int pid : allPids()) {
            try {
                byte[] env = Files.readAllBytes(Path.of("/proc", Integer.toString(pid), "environ"));
                if (containsEntry(env, needle)) {
                    found.add(pid);
                }
            } catch (IOException | RuntimeException gone) {
                // exited meanwhile
            }
        }
        return found;
    }

    /** Living (non-zombie) processes whose environment has {@code key=value}. */
    public static List<Integer> aliveWithEnv(String key, String value) {
        List<Integer> alive = new ArrayList<>();
        for (int pid : withEnv(key, value)) {
            if (alive(pid)) {
                alive.add(pid);
            }
        }
        return alive;
    }

    /** Zombie children of the JVM. */
    public static List<Integer> zombieChildren() {
        String self = Integer.toString(jvmPid());
        List<Integer> zombies = new ArrayList<>();
        for (int pid : allPids()) {
            String[] s = stat(pid);
            if (s != null && s[0].equals("Z") && s[1].equals(self) && !headless(pid)) {
                zombies.add(pid);
            }
        }
        return zombies;
    }

    /** Living members of a process group. */
    public static List<Integer> groupMembers(int pgid) {
        List<Integer> members = new ArrayList<>();
        for (int pid : allPids()) {
            String[] s = stat(pid);
            if (s != null && Integer.parseInt(s[2]) == pgid && alive(pid)) {
                members.add(pid);
            }
        }
        return members;
    }

    /** "pid (comm) state ppid=.. pgrp=.." for each pid still in /proc: what a failed check names. */
    public static String describe(List<Integer> pids) {
        StringBuilder b = new StringBuilder();
        for (int pid : pids) {
            try {
                String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                b.append(b.length() == 0 ? "" : ", ").append(stat, 0, stat.lastIndexOf(')') + 1).append(' ')
                        .append(f[0]).append(" ppid=").append(f[1]).append(" pgrp=").append(f[2]);
            } catch (IOException gone) {
                b.append(b.length() == 0 ? "" : ", ").append(pid).append(" (gone)");
            }
        }
        return b.toString();
    }

    public static List<Integer> allPids() {
        List<Integer> pids = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : procs) {
                String n = p.getFileName().toString();
                if (!n.isEmpty() && Character.isDigit(n.charAt(0))) {
                    pids.add(Integer.parseInt(n));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return pids;
    }

    private static boolean containsEntry(byte[] env, byte[] needle) {
        int start = 0;
        for (int i = 0; i <= env.length; i++) {
            if (i == env.length || env[i] == 0) {
                if (i - start == needle.length) {
                    boolean same = true;
                    for (int j = 0; j < needle.length && same; j++) {
                        same = env[start + j] == needle[j];
                    }
                    if (same) {
                        return true;
                    }
                }
                start = i + 1;
            }
        }
        return false;
    }

    /**
     * Waits until {@code pid} sleeps in nanosleep: a worker that ends as {@code sleep} is steady
     * then, its dynamic loader done with the files it opens briefly at the lowest free fd.
     */
    public static void awaitAsleep(int pid) {
        await(Duration.ofSeconds(10), "pid " + pid + " asleep", () -> {
            try {
                return Files.readString(Path.of("/proc", Integer.toString(pid), "wchan")).contains("nanosleep");
            } catch (IOException e) {
                return false;
            }
        });
    }

    /**
     * Kills a process the JDK started, waits for it, and closes our ends of its pipes. The JDK
     * closes them itself once its reaper thread sees the exit, but at a moment of its choosing:
     * inside whatever test runs next, whose descriptors would then change under it.
     */
    public static void destroy(Process process) {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (java.io.Closeable pipe : List.of(process.getOutputStream(), process.getInputStream(),
                process.getErrorStream())) {
            try {
                pipe.close();
            } catch (IOException alreadyClosed) {
                // by the JDK's reaper, or by a reader that saw the end
            }
        }
    }

    /** Polls {@code condition} until it holds or the deadline passes; fails with {@code what}. */
    public static void await(Duration timeout, String what, BooleanSupplier condition) {
        await(timeout, what, condition, () -> "");
    }

    /** {@link #await(Duration, String, BooleanSupplier)} whose failure also says {@code detail}. */
    public static void await(Duration timeout, String what, BooleanSupplier condition, Supplier<String> detail) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                String more = detail.get();
                throw new AssertionError("Timed out after " + timeout + " waiting for: " + what
                        + (more.isEmpty() ? "" : " (" + more + ")"));
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 50_000_000);
        }
    }
}
