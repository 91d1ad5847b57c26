package dev.folk.benchmarks;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Command-line options of the runner. */
final class Options {

    static final List<String> COMPARISONS = List.of("jmh", "roundtrip", "master", "vthreads", "http", "frameworks", "spawn",
            "shutdown", "memory");

    boolean quick;
    int rounds;
    Set<String> only = new LinkedHashSet<>(COMPARISONS);
    int httpWorkers = 4;
    int httpSeconds = 10;
    int httpConnections = 16;
    int httpThreads = 2;
    boolean httpServletToo;
    int shutdownWorkers = 256;
    double quietThreshold = 0.10;
    long quietMaxWaitSeconds = 300;
    Path out;

    /** Rounds of a comparison: the option if given, else the comparison's default (fewer when quick). */
    int rounds(int normal) {
        if (rounds > 0) {
            return rounds;
        }
        return quick ? Math.max(1, Math.min(normal, 2)) : normal;
    }

    /** A count scaled down in quick mode. */
    int n(int normal) {
        return quick ? Math.max(1, normal / 5) : normal;
    }

    static Options parse(List<String> args) {
        Options o = new Options();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--quick" -> o.quick = true;
                case "--rounds" -> o.rounds = Integer.parseInt(value(args, ++i, a));
                case "--only" -> o.only = pick(value(args, ++i, a));
                case "--skip" -> o.only.removeAll(pick(value(args, ++i, a)));
                case "--http-workers" -> o.httpWorkers = Integer.parseInt(value(args, ++i, a));
                case "--http-seconds" -> o.httpSeconds = Integer.parseInt(value(args, ++i, a));
                case "--http-servlet-too" -> o.httpServletToo = true;
                case "--http-connections" -> o.httpConnections = Integer.parseInt(value(args, ++i, a));
                case "--shutdown-workers" -> o.shutdownWorkers = Integer.parseInt(value(args, ++i, a));
                case "--quiet-threshold" -> o.quietThreshold = Double.parseDouble(value(args, ++i, a));
                case "--quiet-max-wait" -> o.quietMaxWaitSeconds = Long.parseLong(value(args, ++i, a));
                case "--out" -> o.out = Path.of(value(args, ++i, a));
                default -> throw new IllegalArgumentException("unknown option: " + a);
            }
        }
        if (o.quick && o.httpSeconds == 10) {
            o.httpSeconds = 3;
        }
        return o;
    }

    private static String value(List<String> args, int i, String option) {
        if (i >= args.size()) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args.get(i);
    }

    private static Set<String> pick(String list) {
        Set<String> s = new LinkedHashSet<>();
        for (String name : list.split(",")) {
            String n = name.trim();
            if (!COMPARISONS.contains(n)) {
                throw new IllegalArgumentException("unknown comparison '" + n + "'; known: " + COMPARISONS);
            }
            s.add(n);
        }
        return s;
    }
}
