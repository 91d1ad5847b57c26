package dev.folk.core.supervision;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Which process groups still have live members, from /proc.
 *
 * <p>{@code kill(-pgid, 0)} cannot tell: it succeeds as long as the zombie leader, which we keep
 * unreaped on purpose, is in the group. So we read each process's state and group from
 * {@code /proc/<pid>/stat} and count those that are not zombies.
 */
final class ProcGroups {

    private static final Path PROC = Path.of("/proc");

    private ProcGroups() {
    }

    /** The subset of {@code pgids} with at least one member that is not a zombie. */
    static Set<Integer> withLiveMembers(Set<Integer> pgids) {
        Set<Integer> live = new HashSet<>();
        if (pgids.isEmpty()) {
            return live;
        }
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(PROC)) {
            for (Path proc : procs) {
                String name = proc.getFileName().toString();
                if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
                    continue;
                }
                int pgrp = liveGroupOf(proc);
                if (pgrp > 0 && pgids.contains(pgrp)) {
                    live.add(pgrp);
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

    /** The process group of a live (non-zombie) process, or -1 if it is a zombie or gone. */
    private static int liveGroupOf(Path proc) {
        String stat;
        try {
            stat = Files.readString(proc.resolve("stat"));
        } catch (IOException | RuntimeException gone) {
            return -1;
        }
        // "pid (comm) S ppid pgrp ...": comm may contain spaces and parentheses, so parse after the last ')'
        int close = stat.lastIndexOf(')');
        if (close < 0 || close + 2 >= stat.length()) {
            return -1;
        }
        char state = stat.charAt(close + 2);
        if (state == 'Z' || state == 'X' || state == 'x') {
            return -1;
        }
        String[] fields = stat.substring(close + 4).split(" ", 3);
        try {
            return Integer.parseInt(fields[1]);
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
