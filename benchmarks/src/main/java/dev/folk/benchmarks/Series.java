package dev.folk.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One value per round (a p50, a rate, a ratio...). Everything we report is the median over
 * rounds with its min..max, never a lone figure.
 */
final class Series {

    private final List<Double> values = new ArrayList<>();

    void add(double v) {
        values.add(v);
    }

    /** Drops the values added after the first {@code n} (a round measured again). */
    void truncate(int n) {
        while (values.size() > n) {
            values.remove(values.size() - 1);
        }
    }

    int size() {
        return values.size();
    }

    boolean isEmpty() {
        return values.isEmpty();
    }

    double median() {
        return median(sorted());
    }

    double min() {
        return sorted()[0];
    }

    double max() {
        double[] s = sorted();
        return s[s.length - 1];
    }

    List<Double> values() {
        return List.copyOf(values);
    }

    private double[] sorted() {
        if (values.isEmpty()) {
            throw new IllegalStateException("no rounds measured");
        }
        double[] a = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a;
    }

    /** The median of sorted values (mean of the two middle ones for an even count). */
    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Per-round ratios a[i] / b[i] of two series measured in the same rounds. */
    static Series ratio(Series a, Series b) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException("series of " + a.size() + " and " + b.size() + " rounds");
        }
        Series r = new Series();
        for (int i = 0; i < a.size(); i++) {
            r.add(a.values.get(i) / b.values.get(i));
        }
        return r;
    }

    /** Nearest-rank percentile (0 < p <= 100) of sorted nanosecond samples, in microseconds. */
    static double percentileMicros(long[] sortedNanos, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sortedNanos.length);
        return sortedNanos[Math.max(0, Math.min(sortedNanos.length - 1, rank - 1))] / 1000.0;
    }

    /** "12.3 (11.9..13.0)" with a unit, or "12.3" for a single round. */
    String format(String unit) {
        if (values.isEmpty()) {
            return "—";
        }
        String u = unit.isEmpty() ? "" : " " + unit;
        if (values.size() == 1) {
            return num(median()) + u;
        }
        return num(median()) + u + " (" + num(min()) + ".." + num(max()) + ")";
    }

    /** Numbers as a reader wants them: 3 significant digits, thousands as plain digits. */
    static String num(double v) {
        double a = Math.abs(v);
        if (v == Math.rint(v) && a < 1000) {
            return String.format(Locale.ROOT, "%.0f", v); // counts
        }
        if (a >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v).replace(',', ' ');
        }
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
