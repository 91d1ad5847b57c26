package dev.folk.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.Supervisor;

/**
 * Comparison 6: JVM heap (after GC) and platform threads for pools of 4, 64 and 256 idle PHP
 * workers, each size measured in a fresh JVM ({@link #probe}) against that JVM's own baseline.
 */
final class Memory {

    /** Threads the pool may add beyond one per worker. */
    static final int THREAD_CONSTANT = 16;
    static final int[] SIZES = {4, 64, 256};

    private final Env env;
    private final Options options;
    private final Quiet quiet;

    Memory(Env env, Options options, Quiet quiet) {
        this.env = env;
        this.options = options;
        this.quiet = quiet;
    }

    Table run() {
        int rounds = options.rounds(2);
        Table table = new Table("6", "Memory and threads: pools of idle PHP workers");
        table.columns("pool size", "platform threads: JVM baseline → with pool (added)", "peak during start",
                "target (added ≤ size + " + THREAD_CONSTANT + ")", "result", "heap after GC: added", "heap per worker",
                "PHP worker PSS");
        table.intro(rounds + " rounds per size, each in a fresh JVM (`java -cp folk-benchmarks.jar "
                + "dev.folk.benchmarks.Memory <size>`): baseline after GC, then a pool of idle `"
                + String.join(" ", Workers.phpEcho(env).command()) + "` workers, 1 s after all are ready, after GC. "
                + "Medians over rounds, (min..max).");
        for (int size : SIZES) {
            Series baseThreads = new Series();
            Series poolThreads = new Series();
            Series added = new Series();
            Series peak = new Series();
            Series heapAdded = new Series();
            Series heapPerWorker = new Series();
            Series pss = new Series();
            String names = "";
            for (int r = 0; r < rounds; r++) {
                List<String> cmd = new ArrayList<>();
                cmd.add(Env.javaExecutable());
                cmd.addAll(Env.jvmFlags());
                cmd.addAll(List.of("-Dfolk.bench.root=" + env.root, "-cp", Env.classPath(), Memory.class.getName(),
                        Integer.toString(size)));
                Proc.Result res = Proc.run(cmd, 600);
                Map<String, String> kv = res.kv();
                double b = Proc.num(kv, "threads_base");
                double p = Proc.num(kv, "threads_pool");
                baseThreads.add(b);
                poolThreads.add(p);
                added.add(p - b);
                peak.add(Proc.num(kv, "threads_peak"));
                double heap = Proc.num(kv, "heap_pool") - Proc.num(kv, "heap_base");
                heapAdded.add(heap / (1024.0 * 1024));
                heapPerWorker.add(heap / 1024.0 / size);
                pss.add(Proc.num(kv, "worker_pss_kib") / 1024.0 / size);
                names = kv.getOrDefault("pool_threads", "");
                Log.info("memory: pool of %d: threads %.0f -> %.0f, heap +%.1f MiB", size, b, p, heap / 1048576);
            }
            boolean ok = added.max() <= size + THREAD_CONSTANT;
            table.row(Integer.toString(size), baseThreads.format("") + " → " + poolThreads.format("") + " (+"
                    + Series.num(added.median()) + ")", peak.format(""), "≤ " + (size + THREAD_CONSTANT),
                    ok ? "PASS" : "MISS", heapAdded.format("MiB"), heapPerWorker.format("KiB"), pss.format("MiB"));
            table.check("threads added by a pool of " + size, "+" + Series.num(added.max()),
                    "≤ " + (size + THREAD_CONSTANT), ok);
            if (size == SIZES[SIZES.length - 1]) {
                table.note("Threads the pool of " + size + " added (by name): " + names.replace(',', ' ') + ".");
            }
        }
        table.note("Threads: `ThreadMXBean.getThreadCount()` (platform threads, daemon included); peak: "
                + "`getPeakThreadCount()` from baseline to ready. Heap: used heap after `System.gc()`. PSS: "
                + "proportional set size of each PHP worker (`/proc/<pid>/smaps_rollup`), shared pages split.");
        table.note("Counts, not timings: the probes do not wait for a quiet machine.");
        return table;
    }

    /** The probe, in a fresh JVM: prints one key=value line. */
    public static void main(String[] args) throws Exception {
        int size = Integer.parseInt(args[0]);
        Env env = Env.detect();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        // Load what the baseline should already include (classes, jnr), then settle.
        Workers.phpEcho(env);
        settle();
        int baseThreads = threads.getThreadCount();
        long baseHeap = heapAfterGc();
        threads.resetPeakThreadCount();
        Map<String, Integer> before = threadNames();

        Supervisor supervisor = new Supervisor();
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("bench-idle", Workers.phpEcho(env).spec("bench-idle"))
                .size(size).build(), supervisor);
        try {
            if (!pool.awaitReady(size, Duration.ofSeconds(300))) {
                throw new IllegalStateException("pool of " + size + " not ready: " + pool.lastFailure());
            }
            int peak = threads.getPeakThreadCount();
            Thread.sleep(1000);
            long heap = heapAfterGc();
            int poolThreads = threads.getThreadCount();
            long pss = 0;
            for (int pid : Workers.pids(pool)) {
                pss += pssKib(pid);
            }
            Map<String, Integer> after = threadNames();
            StringBuilder names = new StringBuilder();
            after.forEach((name, count) -> {
                int extra = count - before.getOrDefault(name, 0);
                if (extra > 0) {
                    names.append(names.length() == 0 ? "" : ",").append(name).append("×").append(extra);
                }
            });
            System.out.printf(Locale.ROOT, "size=%d threads_base=%d threads_pool=%d threads_peak=%d heap_base=%d "
                    + "heap_pool=%d worker_pss_kib=%d pool_threads=%s%n", size, baseThreads, poolThreads, peak,
                    baseHeap, heap, pss, names.length() == 0 ? "-" : names);
        } finally {
            pool.close();
            supervisor.close();
        }
    }

    private static void settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
    }

    private static long heapAfterGc() throws InterruptedException {
        settle();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Live threads by name, with trailing numbers folded ("folk-x-spawn-2" -> "folk-x-spawn-N"). */
    private static Map<String, Integer> threadNames() {
        Map<String, Integer> m = new TreeMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            m.merge(t.getName().replaceAll("\\d+$", "N").replace(' ', '_'), 1, Integer::sum);
        }
        return m;
    }

    private static long pssKib(int pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "smaps_rollup"))) {
                if (line.startsWith("Pss:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // gone
        }
        return 0;
    }
}
