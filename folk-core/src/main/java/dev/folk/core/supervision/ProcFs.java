package dev.folk.core.supervision;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * What the supervisor reads from /proc: group membership, process start times, children, tags.
 *
 * <p>Why /proc: {@code kill(-pgid, 0)} cannot tell whether a group still has live members (it
 * succeeds as long as the zombie leader, which we keep unreaped on purpose, is in it), and a
 * process's start time is what tells a recycled pid from the one we recorded.
 */
final class ProcFs {

    private static final Path PROC = Path.of("/proc");
    private static final Path MAIN_TASK_CHILDREN = PROC.resolve("self/task")
            .resolve(Long.toString(ProcessHandle.current().pid())).resolve("children");

    private ProcFs() {
    }

    /** One line of /proc/<pid>/stat, parsed after the command name (which may hold spaces and parens). */
    record Stat(int pid, char state, int ppid, int pgrp, long flags, int threads, long startTime) {
        /** PF_KTHREAD in the kernel's task flags. */
        private static final long KERNEL_THREAD = 0x00200000L;

        /**
         * Exited, waiting to be reaped. A process whose first thread has exited while other
         * threads run shows the same state, with more than one thread: it is alive.
         */
        boolean zombie() {
            return deadLeader() && threads <= 1;
        }

        /** Its first thread has exited (or an exec'ing thread is taking its place) while others run. */
        boolean headless() {
            return deadLeader() && threads > 1;
        }

        private boolean deadLeader() {
            return state == 'Z' || state == 'X' || state == 'x';
        }

        /** A kernel thread: no memory of its own, so no environment to read. */
        boolean kernelThread() {
            return (flags & KERNEL_THREAD) != 0;
        }
    }

    /** The stat of {@code pid}, or null if it is gone. */
    static @Nullable Stat stat(int pid) {
        String stat;
        try {
            stat = Files.readString(PROC.resolve(Integer.toString(pid)).resolve("stat"));
        } catch (IOException | RuntimeException gone) {
            return null;
        }
        int close = stat.lastIndexOf(')');
        if (close < 0 || close + 2 >= stat.length()) {
            return null;
        }
        // after ") ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
        //             cutime cstime priority nice num_threads itrealvalue starttime ...
        String[] f = stat.substring(close + 2).split(" ", 21);
        try {
            return new Stat(pid, f[0].charAt(0), Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                    Long.parseUnsignedLong(f[6]), Integer.parseInt(f[17]), Long.parseLong(f[19]));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The subset of {@code pgids} with at least one member that is not a zombie. */
    static Set<Integer> withLiveMembers(Set<Integer> pgids) {
        Set<Integer> live = new HashSet<>();
        if (pgids.isEmpty()) {
            return live;
        }
        try {
            for (int pid : pids()) {
                Stat s = stat(pid);
                if (s != null && !s.zombie() && pgids.contains(s.pgrp())) {
                    live.add(s.pgrp());
                    if (live.size() == pgids.size()) {
                        break;
                    }
                }
            }
        } catch (IOException e) {
            // /proc unreadable: report every group as live so callers fall back to KILL and waiting
            live.addAll(pgids);
        }
        return live;
    }

    static boolean hasLiveMembers(int pgid) {
        return !withLiveMembers(Set.of(pgid)).isEmpty();
    }

    /**
     * Whether a child of our main thread that is not a zombie belongs to {@code pgid}; null if
     * the main thread's children list cannot be read. When this JVM is a child subreaper (or PID
     * 1) the kernel re-parents orphans to its first live thread, the main thread: once a group's
     * leader has exited, each of its live members is such an orphan or descends from one in the
     * same group, so this list of a few entries answers what a scan of all of /proc would. (A
     * process from elsewhere in our session that joined the group with setpgid(2) is missed; it
     * is left to the run-tag sweeps.)
     */
    static @Nullable Boolean hasLiveOrphanIn(int pgid) {
        Set<Integer> live = groupsWithLiveOrphans(Set.of(pgid));
        return live == null ? null : !live.isEmpty();
    }

    /**
     * {@link #hasLiveOrphanIn} for many groups in one pass: which of {@code pgids} have a live
     * child of our main thread; null if that list cannot be read.
     */
    static @Nullable Set<Integer> groupsWithLiveOrphans(Set<Integer> pgids) {
        List<Integer> orphans = childPids(MAIN_TASK_CHILDREN);
        if (orphans == null) {
            return null;
        }
        Set<Integer> live = new HashSet<>();
        for (int pid : orphans) {
            Stat s = stat(pid);
            if (s != null && !s.zombie() && pgids.contains(s.pgrp())) {
                live.add(s.pgrp());
                if (live.size() == pgids.size()) {
                    break; // every group asked about has a live member
                }
            }
        }
        return live;
    }

    /** The children of {@code pid}'s main thread (a process's children are those of the thread that forked them). */
    static @Nullable List<Integer> children(int pid) {
        String p = Integer.toString(pid);
        return childPids(PROC.resolve(p).resolve("task").resolve(p).resolve("children"));
    }

    /** The pids of a {@code /proc/<pid>/task/<tid>/children} file; null if it cannot be read. */
    private static @Nullable List<Integer> childPids(Path file) {
        String list;
        try {
            list = Files.readString(file);
        } catch (IOException | RuntimeException gone) {
            return null;
        }
        List<Integer> pids = new ArrayList<>();
        for (String pid : list.trim().split(" ")) {
            if (!pid.isEmpty()) {
                pids.add(Integer.parseInt(pid));
            }
        }
        return pids;
    }

    /** Every pid in /proc. */
    static List<Integer> pids() throws IOException {
        List<Integer> pids = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(PROC)) {
            for (Path proc : procs) {
                String name = proc.getFileName().toString();
                if (!name.isEmpty() && Character.isDigit(name.charAt(0))) {
                    pids.add(Integer.parseInt(name));
                }
            }
        }
        return pids;
    }

    /**
     * Children of this process, from every thread's children list: a child belongs to the thread
     * that spawned it, and orphans re-parented to us (we are a subreaper, or PID 1) to our main thread.
     */
    static Set<Integer> ownChildren() {
        Set<Integer> children = new HashSet<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(PROC.resolve("self/task"))) {
            for (Path task : tasks) {
                List<Integer> pids = childPids(task.resolve("children"));
                if (pids != null) { // null: the thread is gone
                    children.addAll(pids);
                }
            }
        } catch (IOException e) {
            // no /proc/self/task: nothing we can do here
        }
        return children;
    }

    /** Whether {@code pid}'s environment holds exactly {@code entry} ("NAME=value"); false if unreadable. */
    static boolean environHas(int pid, byte[] entry) {
        return tag(pid, entry) == Tag.PRESENT;
    }

    /** What {@code /proc/<pid>/environ} says of a tag. */
    enum Tag {
        PRESENT,
        /** A whole environment without it; or nothing to read: gone, a zombie, a kernel thread. */
        ABSENT,
        /**
         * In the middle of an exec: for a moment the process has no memory to read, or new memory
         * without arguments or environment yet, until the loader copies them in. Look again.
         */
        MID_EXEC,
        /**
         * Arguments, but no whole environment we may read: started with an empty one, another
         * user's, one that rewrote its environment's memory — or one that began another exec
         * between our reads. Look again, a few times.
         */
        UNCLEAR
    }

    /**
     * Whether {@code pid}'s environment holds {@code entry}. An exec replaces the memory the
     * environment is read from: while it does, the read fails (ESRCH, or EACCES while the new
     * memory is not yet dumpable), comes back empty, or returns a piece of it. Only a whole
     * environment (ending in NUL) without the entry says ABSENT.
     */
    static Tag tag(int pid, byte[] entry) {
        Path environ = PROC.resolve(Integer.toString(pid)).resolve("environ");
        Tag seen = verdict(read(environ), entry);
        if (seen != null) {
            return seen;
        }
        Stat s = stat(pid);
        if (s == null || s.kernelThread() || s.zombie()) {
            return Tag.ABSENT;
        }
        if (s.headless()) {
            // environ is read through the first thread, gone: its other threads share the memory.
            seen = verdict(otherThreadsEnviron(pid), entry);
            if (seen != null) {
                return seen;
            }
            // or a thread that called exec is taking the first one's place: look again
        }
        byte[] args = read(environ.resolveSibling("cmdline"));
        if (args == null || args.length == 0) {
            return Tag.MID_EXEC;
        }
        seen = verdict(read(environ), entry); // the exec may have ended since the first read
        return seen != null ? seen : Tag.UNCLEAR;
    }

    /** PRESENT if {@code env} holds {@code entry}, ABSENT if it is a whole environment without it, null if it cannot tell. */
    private static @Nullable Tag verdict(byte @Nullable [] env, byte[] entry) {
        if (env != null && contains(env, entry)) {
            return Tag.PRESENT;
        }
        return whole(env) ? Tag.ABSENT : null;
    }

    /** The environment as the first other thread of {@code pid} that has one reads it; null if none does. */
    private static byte @Nullable [] otherThreadsEnviron(int pid) {
        String leader = Integer.toString(pid);
        try (DirectoryStream<Path> threads = Files.newDirectoryStream(PROC.resolve(leader).resolve("task"))) {
            for (Path task : threads) {
                if (!task.getFileName().toString().equals(leader)) {
                    byte[] env = read(task.resolve("environ"));
                    if (env != null && env.length > 0) {
                        return env;
                    }
                }
            }
        } catch (IOException | RuntimeException gone) {
            return null;
        }
        return null;
    }

    private static boolean whole(byte @Nullable [] env) {
        return env != null && env.length > 0 && env[env.length - 1] == 0;
    }

    private static byte @Nullable [] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException | RuntimeException gone) {
            return null;
        }
    }

    private static boolean contains(byte[] env, byte[] entry) {
        int start = 0;
        for (int i = 0; i <= env.length; i++) {
            if (i == env.length || env[i] == 0) {
                if (i - start == entry.length && java.util.Arrays.equals(env, start, i, entry, 0, entry.length)) {
                    return true;
                }
                start = i + 1;
            }
        }
        return false;
    }

    static byte[] runTag(String runId) {
        return ("FOLK_RUN_ID=" + runId).getBytes(StandardCharsets.UTF_8);
    }

    /** This boot's id: start times only compare within one boot. */
    static String bootId() {
        try {
            return Files.readString(PROC.resolve("sys/kernel/random/boot_id")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
