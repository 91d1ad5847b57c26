package dev.folk.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Keeps other people's work out of the figures on this shared machine, in two steps:
 * <ol>
 * <li>before a round, wait until the whole machine has been quiet for a second (CPU use from
 * /proc/stat below the threshold);</li>
 * <li>after the round, compare the machine's CPU use over the round with the CPU time of our
 * own processes (this JVM and its descendants, plus any registered roots such as nginx and
 * PHP-FPM): if foreign work took more than the threshold of the machine, the round is thrown
 * away and run again (up to {@value #MAX_RETRIES} times; then it is kept and counted as noisy).</li>
 * </ol>
 */
final class Quiet {

    static final int MAX_RETRIES = 3;

    private final double threshold;
    private final long maxWaitNanos;
    private final Set<Long> extraRoots = new HashSet<>();
    private double worstForeign;
    private int rounds;
    private int retries;
    private int noisyRounds;

    Quiet(double threshold, long maxWaitSeconds) {
        this.threshold = threshold;
        this.maxWaitNanos = TimeUnit.SECONDS.toNanos(maxWaitSeconds);
    }

    /** Counts this process's tree as ours too (daemons we started that left our tree). */
    void alsoOurs(long pid) {
        extraRoots.add(pid);
    }

    void forget(long pid) {
        extraRoots.remove(pid);
    }

    /**
     * One round of a comparison over the given series: {@code while (round.next()) { measure }}
     * runs the body once, or again (after dropping what it added to the series) while foreign
     * work disturbed it.
     */
    Round round(String what, Series... series) {
        return new Round(what, series);
    }

    final class Round {
        private final String what;
        private final Series[] series;
        private final int[] sizes;
        private int attempt;
        private Span span;

        private Round(String what, Series[] series) {
            this.what = what;
            this.series = series;
            this.sizes = new int[series.length];
        }

        boolean next() {
            if (attempt > 0) {
                double foreign = span.foreign();
                if (foreign <= threshold) {
                    worstForeign = Math.max(worstForeign, foreign);
                    rounds++;
                    return false;
                }
                if (attempt > MAX_RETRIES) {
                    Log.info("%s: other work took %s of the machine; kept after %d retries (noisy)", what,
                            Table.pct(foreign), MAX_RETRIES);
                    worstForeign = Math.max(worstForeign, foreign);
                    noisyRounds++;
                    rounds++;
                    return false;
                }
                Log.info("%s: other work took %s of the machine during the round: running it again", what,
                        Table.pct(foreign));
                retries++;
                for (int i = 0; i < series.length; i++) {
                    series[i].truncate(sizes[i]);
                }
            } else {
                for (int i = 0; i < series.length; i++) {
                    sizes[i] = series[i].size();
                }
            }
            attempt++;
            await(what);
            span = span();
            return true;
        }
    }

    /** Starts measuring foreign CPU use. */
    Span span() {
        return new Span();
    }

    /** CPU use by processes not ours, from its start until {@link #foreign()}. */
    final class Span {
        private final long[] machine0 = machineTimes();
        private final double ours0 = ourTicks();

        /** Foreign CPU use as a fraction of the machine since the start. */
        double foreign() {
            long[] machine1 = machineTimes();
            double ours1 = ourTicks();
            long total = machine1[0] - machine0[0];
            return total <= 0 ? 0 : Math.max(0, (machine1[1] - machine0[1]) - (ours1 - ours0)) / total;
        }

        /** Records a span that is not re-run (a JMH run, a probe) in the summary. */
        void record(String what) {
            double foreign = foreign();
            worstForeign = Math.max(worstForeign, foreign);
            rounds++;
            if (foreign > threshold) {
                noisyRounds++;
                Log.info("%s: other work took %s of the machine (kept, counted as noisy)", what, Table.pct(foreign));
            }
        }
    }

    /**
     * Returns once the machine has been below the threshold for four consecutive 250 ms windows,
     * or after the maximum wait.
     */
    void await(String what) {
        long start = System.nanoTime();
        long lastMessage = start;
        int quietWindows = 0;
        while (quietWindows < 4) {
            double busy = busyFraction(250);
            quietWindows = busy < threshold ? quietWindows + 1 : 0;
            long now = System.nanoTime();
            if (quietWindows < 4 && now - start > maxWaitNanos) {
                Log.info("machine still busy (%s) after %d s: measuring %s anyway", Table.pct(busy),
                        TimeUnit.NANOSECONDS.toSeconds(maxWaitNanos), what);
                return;
            }
            if (quietWindows == 0 && now - lastMessage > TimeUnit.SECONDS.toNanos(10)) {
                Log.info("waiting for a quiet machine before %s: CPU %s busy, load %s", what, Table.pct(busy),
                        loadAverage());
                lastMessage = now;
            }
        }
    }

    /** For a table's notes. */
    String summary() {
        return String.format(Locale.ROOT, "Noise control: before each round the machine was idle for 1 s; over each "
                + "kept round, CPU use by other processes was at most %s of the machine (threshold %s); %d round(s) "
                + "re-run because of other work%s.", Table.pct(worstForeign), Table.pct(threshold), retries,
                noisyRounds == 0 ? "" : ", " + noisyRounds + " kept although noisy");
    }

    void reset() {
        worstForeign = 0;
        rounds = 0;
        retries = 0;
        noisyRounds = 0;
    }

    /** CPU use of the whole machine over {@code millis}, as a fraction of all CPUs. */
    static double busyFraction(long millis) {
        long[] a = machineTimes();
        sleep(millis);
        long[] b = machineTimes();
        long total = b[0] - a[0];
        return total <= 0 ? 0 : Math.max(0, (double) (b[1] - a[1]) / total);
    }

    /**
     * {all, busy} jiffies of the "cpu" line of /proc/stat; busy = user + nice + system (what
     * processes' utime and stime add up to), all = every column but guest ones.
     */
    private static long[] machineTimes() {
        try {
            String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
            String[] f = line.trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) { // user nice system idle iowait irq softirq steal
                total += Long.parseLong(f[i]);
            }
            long busy = Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]);
            return new long[] {total, busy};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }

    /** utime + stime + cutime + cstime of this JVM's tree and the extra roots' trees, in ticks. */
    private double ourTicks() {
        Map<Long, List<Long>> children = new HashMap<>();
        Map<Long, Long> ticks = new HashMap<>();
        for (long pid : Proc.pids()) {
            String[] f = Proc.statFields(pid);
            if (f == null || f.length < 15) {
                continue;
            }
            children.computeIfAbsent(Long.parseLong(f[1]), k -> new ArrayList<>()).add(pid);
            ticks.put(pid, Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13])
                    + Long.parseLong(f[14]));
        }
        List<Long> todo = new ArrayList<>(extraRoots);
        todo.add(ProcessHandle.current().pid());
        Set<Long> seen = new HashSet<>();
        long sum = 0;
        while (!todo.isEmpty()) {
            long pid = todo.remove(todo.size() - 1);
            if (seen.add(pid)) {
                sum += ticks.getOrDefault(pid, 0L);
                todo.addAll(children.getOrDefault(pid, List.of()));
            }
        }
        return sum;
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
