package dev.folk.spring.boot.pool;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The private temporary folders that worker scripts are extracted into, and the sweep that
 * removes those a run left behind when it ended without closing its context (killed, crashed).
 *
 * <p>A folder's name records the run that owns it:
 * {@code folk-scripts-<pid namespace>-<pid>-<start time>-<random>}, the JVM's pid with its start
 * time from /proc (which tells a recycled pid from the owner) and the pid namespace in which that
 * pid means something. A folder is removed only when all of these hold:
 * <ul>
 *   <li>it is a directory itself (not a symbolic link), owned by our uid, mode exactly 0700;</li>
 *   <li>its owner is in our pid namespace, and no process has that pid and start time any more;</li>
 *   <li>no live process names the folder in its command line, environment or working directory
 *       (a worker of the ended run that is still busy in a call may yet load a script).</li>
 * </ul>
 * Anything else is left alone: a folder of another application running now, of a container
 * sharing the temporary directory, or of an older version that did not record its owner.
 * Removal never follows symbolic links.
 */
final class ScriptFolders {

    static final String PREFIX = "folk-scripts-";

    private static final Logger log = LoggerFactory.getLogger(ScriptFolders.class);
    private static final Path PROC = Path.of("/proc");

    private ScriptFolders() {
    }

    /** The run that owns a folder: a pid, its start time (clock ticks after boot), its pid namespace. */
    record Owner(long pidNamespace, long pid, long startTime) {

        /** This JVM, or null where /proc does not tell (then nothing is recorded, nothing swept). */
        static @Nullable Owner current() {
            long pid = ProcessHandle.current().pid();
            long startTime = startTimeOf(pid);
            long namespace = ourPidNamespace();
            return startTime < 0 || namespace < 0 ? null : new Owner(namespace, pid, startTime);
        }

        /** The owner a folder name records, or null if the name records none. */
        static @Nullable Owner parse(String name) {
            if (!name.startsWith(PREFIX)) {
                return null;
            }
            String[] parts = name.substring(PREFIX.length()).split("-");
            // The owner's three numbers fit a long; the last part is the JDK's random one, an
            // unsigned long of up to 20 digits, never parsed.
            if (parts.length != 4 || !Arrays.stream(parts).allMatch(p -> !p.isEmpty()
                    && p.chars().allMatch(Character::isDigit)) || !Arrays.stream(parts, 0, 3).allMatch(p -> p.length() < 19)) {
                return null;
            }
            return new Owner(Long.parseLong(parts[0]), Long.parseLong(parts[1]), Long.parseLong(parts[2]));
        }

        String prefix() {
            return PREFIX + pidNamespace + "-" + pid + "-" + startTime + "-";
        }

        /** Whether the process that made the folder still runs (a zombie does not). */
        boolean running() {
            String[] stat = stat(pid);
            return stat != null && !"ZXx".contains(stat[0]) && startTimeOf(pid) == startTime;
        }
    }

    /** Creates a new private folder in {@code parent}, named after this run when /proc allows. */
    static Path create(Path parent) throws IOException {
        Owner self = Owner.current();
        return Files.createTempDirectory(parent, self == null ? PREFIX : self.prefix(),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /**
     * Removes the folders in {@code parent} that ended runs left behind (see the class comment);
     * {@code own} is this run's new folder, whose owner is the uid a folder must have.
     *
     * @return how many were removed
     */
    static int sweep(Path parent, Path own) {
        Owner self = Owner.current();
        Integer uid = uid(own);
        if (self == null || uid == null) {
            return 0;
        }
        List<Path> leftovers = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent, PREFIX + "*")) {
            for (Path entry : entries) {
                Owner owner = Owner.parse(entry.getFileName().toString());
                if (!entry.equals(own) && owner != null && owner.pidNamespace() == self.pidNamespace()
                        && !owner.running() && privateTo(entry, uid)) {
                    leftovers.add(entry);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("Cannot look for extracted worker scripts left in {}: {}", parent, e.toString());
            return 0;
        }
        if (leftovers.isEmpty()) {
            return 0;
        }
        leftovers.removeAll(inUse(leftovers));
        int removed = 0;
        for (Path leftover : leftovers) {
            try {
                delete(leftover);
                removed++;
            } catch (IOException e) {
                log.warn("Cannot remove worker scripts {} left by an ended run: {}", leftover, e.toString());
            }
        }
        if (removed > 0) {
            log.info("Removed {} folder(s) of worker scripts left in {} by runs that ended without closing",
                    removed, parent);
        }
        return removed;
    }

    /** Deletes {@code dir} and everything in it; symbolic links are removed, never followed. */
    static void delete(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    @SuppressWarnings("NullAway") // readAttributes returns every attribute asked for
    private static boolean privateTo(Path dir, int uid) {
        try {
            Map<String, Object> a = Files.readAttributes(dir, "unix:isDirectory,uid,mode", LinkOption.NOFOLLOW_LINKS);
            return Boolean.TRUE.equals(a.get("isDirectory")) && a.get("uid").equals(uid)
                    && ((Integer) a.get("mode") & 07777) == 0700;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static @Nullable Integer uid(Path path) {
        try {
            return (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The subset of {@code folders} that a live process names in its command line, environment or cwd. */
    private static Set<Path> inUse(List<Path> folders) {
        Set<Path> used = new HashSet<>();
        List<Path> processes;
        try (var list = Files.list(PROC)) {
            processes = list.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList();
        } catch (IOException | RuntimeException e) {
            return new HashSet<>(folders); // cannot tell: treat them all as in use
        }
        for (Path process : processes) {
            String[] stat = stat(Long.parseLong(process.getFileName().toString()));
            if (stat == null || "ZXx".contains(stat[0])) {
                continue;
            }
            String mentions = read(process.resolve("cmdline")) + "\0" + read(process.resolve("environ")) + "\0"
                    + cwd(process) + "/";
            for (Path folder : folders) {
                if (mentions.contains(folder + "/")) {
                    used.add(folder);
                }
            }
        }
        return used;
    }

    private static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException unreadable) {
            return ""; // gone, or another user's
        }
    }

    private static String cwd(Path process) {
        try {
            return Files.readSymbolicLink(process.resolve("cwd")).toString();
        } catch (IOException | RuntimeException unreadable) {
            return "";
        }
    }

    /** The fields of /proc/<pid>/stat after the command name (state is [0], start time [19]), or null. */
    private static String @Nullable [] stat(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return fields.length > 19 ? fields : null;
        } catch (IOException | RuntimeException gone) {
            return null;
        }
    }

    private static long startTimeOf(long pid) {
        String[] stat = stat(pid);
        try {
            return stat == null ? -1 : Long.parseLong(stat[19]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The inode of our pid namespace ({@code pid:[4026531836]}), or -1. */
    private static long ourPidNamespace() {
        try {
            String link = Files.readSymbolicLink(PROC.resolve("self/ns/pid")).toString();
            return Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
