package dev.folk.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** One comparison's table, rendered as Markdown (the same text on stdout and in the results file). */
final class Table {

    /** A target on a ratio or a value: at most or at least a bound. */
    record Target(boolean atMost, double bound, String text) {
        static Target atMost(double bound) {
            return new Target(true, bound, "≤ " + Series.num(bound) + "×");
        }

        static Target atLeast(double bound) {
            return new Target(false, bound, "≥ " + Series.num(bound) + "×");
        }

        static Target atMost(double bound, String text) {
            return new Target(true, bound, text);
        }

        boolean met(double value) {
            return atMost ? value <= bound : value >= bound;
        }
    }

    /** A target checked in this table, for the summary. */
    record Verdict(String table, String measure, String value, String target, boolean pass) {
    }

    static final String[] RATIO_COLUMNS = {"measure", "ours", "baseline", "ratio (median)", "ratio min..max",
            "target", "result"};

    /** "1", "1b", "2"...: the comparison's number in issue 7's order. */
    final String id;
    final String title;
    private final List<String> intro = new ArrayList<>();
    private String[] columns = RATIO_COLUMNS;
    private final List<String[]> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    final List<Verdict> verdicts = new ArrayList<>();

    Table(String id, String title) {
        this.id = id;
        this.title = title;
    }

    Table intro(String line) {
        intro.add(line);
        return this;
    }

    Table columns(String... columns) {
        this.columns = columns;
        return this;
    }

    Table row(String... cells) {
        if (cells.length != columns.length) {
            throw new IllegalArgumentException("row of " + cells.length + " cells for " + columns.length + " columns");
        }
        rows.add(cells);
        return this;
    }

    Table note(String line) {
        notes.add(line);
        return this;
    }

    /**
     * A row comparing ours with a baseline measured in the same rounds: both medians (min..max),
     * the median of the per-round ratios ours/baseline and their min..max, and the target.
     */
    Table ratioRow(String measure, Series ours, Series base, String unit, Target target) {
        Series ratio = Series.ratio(ours, base);
        String result = "";
        String ratioText = Series.num(ratio.median()) + "×";
        if (target != null) {
            boolean pass = target.met(ratio.median());
            result = pass ? "PASS" : "MISS";
            verdicts.add(new Verdict(id + ". " + title, measure, ratioText, target.text(), pass));
        }
        return row(measure, ours.format(unit), base.format(unit), ratioText,
                Series.num(ratio.min()) + ".." + Series.num(ratio.max()), target == null ? "—" : target.text(), result);
    }

    /** A row with a verdict on an absolute value (shutdown time, thread count). */
    Verdict check(String measure, String value, String target, boolean pass) {
        Verdict v = new Verdict(id + ". " + title, measure, value, target, pass);
        verdicts.add(v);
        return v;
    }

    Table failed(String why) {
        notes.add("**FAILED:** " + why);
        verdicts.add(new Verdict(id + ". " + title, "(comparison did not complete)", "—", "—", false));
        return this;
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("### ").append(id).append(". ").append(title).append("\n\n");
        for (String line : intro) {
            sb.append(line).append('\n');
        }
        if (!intro.isEmpty()) {
            sb.append('\n');
        }
        if (!rows.isEmpty()) {
            appendRow(sb, columns);
            String[] rule = new String[columns.length];
            for (int i = 0; i < rule.length; i++) {
                rule[i] = i == 0 ? "---" : "--:";
            }
            appendRow(sb, rule);
            for (String[] row : rows) {
                appendRow(sb, row);
            }
            sb.append('\n');
        }
        for (String line : notes) {
            sb.append(line).append('\n');
        }
        if (!notes.isEmpty()) {
            sb.append('\n');
        }
        return sb.toString();
    }

    private static void appendRow(StringBuilder sb, String[] cells) {
        sb.append('|');
        for (String c : cells) {
            sb.append(' ').append(c.replace("|", "\\|")).append(" |");
        }
        sb.append('\n');
    }

    static String pct(double fraction) {
        return String.format(Locale.ROOT, "%.0f%%", fraction * 100);
    }
}
