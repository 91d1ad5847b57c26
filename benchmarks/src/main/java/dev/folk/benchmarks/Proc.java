package dev.folk.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** External programs (the native tools, wrk, fpm/run.sh) and what /proc says about processes. */
final class Proc {

    private Proc() {
    }

    record Result(int exit, String out, String err) {
        /** The last line of stdout as key=value pairs (the native tools' output format). */
        Map<String, String> kv() {
            String[] lines = out.strip().split("\n");
            return Proc.kv(lines[lines.length - 1]);
        }
    }

    /** Runs a command to its end (at most {@code timeoutSeconds}); fails unless it exits 0. */
    static Result run(List<String> command, long timeoutSeconds) {
        Result r = runAllowingFailure(command, timeoutSeconds);
        if (r.exit != 0) {
            throw new IllegalStateException("'" + String.join(" ", command) + "' exited " + r.exit + ": "
                    + tail(r.err.isBlank() ? r.out : r.err));
        }
        return r;
    }

    static Result runAllowingFailure(List<String> command, long timeoutSeconds) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start '" + command.get(0) + "': " + e.getMessage(), e);
        }
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                throw new IllegalStateException("'" + String.join(" ", command) + "' took more than " + timeoutSeconds
                        + " s: killed");
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (in) {
                f.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                f.complete("");
            }
        }, "bench-drain");
        t.setDaemon(true);
        t.start();
        return f;
    }

    static String tail(String text) {
        String s = text.strip();
        return s.length() <= 600 ? s : "..." + s.substring(s.length() - 600);
    }

    static Map<String, String> kv(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String pair : line.trim().split("\\s+")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                m.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        return m;
    }

    static double num(Map<String, String> kv, String key) {
        String v = kv.get(key);
        if (v == null) {
            throw new IllegalStateException("no '" + key + "' in " + kv);
        }
        return Double.parseDouble(v);
    }

    // ---------------------------------------------------------------- /proc

    /** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux x86-64 and arm64). */
    static final long TICKS_PER_SECOND = 100;

    /** Fields after "(comm) " of /proc/<pid>/stat, or null if the process is gone. */
    static String[] statFields(long pid) {
        try {
            String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
        } catch (IOException | RuntimeException gone) {
            return null;
        }
    }

    /**
     * CPU time in ms of a process and all its live descendants, plus what they collected from
     * reaped children (utime + stime + cutime + cstime of each). Take it before and after a run.
     */
    static double treeCpuMillis(long rootPid) {
        Map<Long, List<Long>> children = new HashMap<>();
        Map<Long, Long> ticks = new HashMap<>();
        for (long pid : pids()) {
            String[] f = statFields(pid);
            if (f == null || f.length < 15) {
                continue;
            }
            long ppid = Long.parseLong(f[1]);
            children.computeIfAbsent(ppid, k -> new ArrayList<>()).add(pid);
            ticks.put(pid, Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13])
                    + Long.parseLong(f[14]));
        }
        long sum = 0;
        List<Long> todo = new ArrayList<>(List.of(rootPid));
        while (!todo.isEmpty()) {
            long pid = todo.remove(todo.size() - 1);
            sum += ticks.getOrDefault(pid, 0L);
            todo.addAll(children.getOrDefault(pid, List.of()));
        }
        return sum * 1000.0 / TICKS_PER_SECOND;
    }

    /** utime + stime of one process in ms, or -1 if it is gone. */
    static double cpuMillis(long pid) {
        String[] f = statFields(pid);
        if (f == null) {
            return -1;
        }
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1000.0 / TICKS_PER_SECOND;
    }

    static List<Long> pids() {
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : dir) {
                String name = p.getFileName().toString();
                if (!name.isEmpty() && Character.isDigit(name.charAt(0))) {
                    pids.add(Long.parseLong(name));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return pids;
    }

    /** Pids whose environment holds exactly {@code entry} ("NAME=value"). */
    static List<Long> withEnvironment(String entry) {
        byte[] want = entry.getBytes(StandardCharsets.UTF_8);
        List<Long> found = new ArrayList<>();
        for (long pid : pids()) {
            byte[] env;
            try {
                env = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ"));
            } catch (IOException | RuntimeException gone) {
                continue;
            }
            int start = 0;
            for (int i = 0; i <= env.length; i++) {
                if (i == env.length || env[i] == 0) {
                    if (i - start == want.length && java.util.Arrays.equals(env, start, i, want, 0, want.length)) {
                        String[] f = statFields(pid);
                        if (f != null && !f[0].equals("Z")) {
                            found.add(pid);
                        }
                        break;
                    }
                    start = i + 1;
                }
            }
        }
        return found;
    }

    /** Our zombie children (exited, not reaped). */
    static List<Long> zombieChildren() {
        List<Long> zombies = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        for (long pid : pids()) {
            String[] f = statFields(pid);
            if (f != null && f[0].equals("Z") && Long.parseLong(f[1]) == self) {
                zombies.add(pid);
            }
        }
        return zombies;
    }

    /** Resident set size in KiB (VmRSS), or -1. */
    static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException gone) {
            // gone
        }
        return -1;
    }
}
