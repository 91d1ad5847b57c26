package dev.folk.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The benchmark runner: every comparison of the benchmark issue with same-run baselines, one
 * table each, printed to stdout and written to {@code benchmarks/target/results/<timestamp>.md}.
 * Progress goes to stderr. Normally started by {@code benchmarks/run.sh}, which builds first.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/folk-benchmarks.jar [all] [options]
 * java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/folk-benchmarks.jar jmh [JMH options]
 * </pre>
 */
public final class Main {

    private static final String USAGE = """
            usage: java --enable-native-access=ALL-UNNAMED -jar folk-benchmarks.jar [all] [options]
                   java --enable-native-access=ALL-UNNAMED -jar folk-benchmarks.jar jmh [JMH options]
              (on Java 24+ add --sun-misc-unsafe-memory-access=allow)
            options:
              --only a,b        run only these comparisons: %s
              --skip a,b        run all but these
              --rounds N        rounds per comparison (defaults: 9 round trip/master/spawn, 5 vthreads,
                                3 http/shutdown, 2 memory)
              --quick           a smoke test: few rounds, short runs (figures not for publishing)
              --http-workers N  PHP processes on each HTTP side (default 4)
              --http-seconds N  duration of each timed wrk run (default 10)
              --http-connections N  wrk connections (default 16)
              --http-servlet-too    HTTP: also the sample app with its gateway as a servlet behind
                                Spring Boot's filters (folk.http.filter-order unset), in the same rounds
              --shutdown-workers N  workers in the shutdown comparison (default 256)
              --quiet-threshold F   machine CPU use (0..1) counted as quiet before a round (default 0.10)
              --quiet-max-wait S    longest wait for a quiet machine before a round (default 300)
              --out FILE        the report (default benchmarks/target/results/<timestamp>.md)
            """;

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        List<String> list = new ArrayList<>(Arrays.asList(args));
        String command = list.isEmpty() || list.get(0).startsWith("--") ? "all" : list.remove(0);
        Env env = Env.detect();
        switch (command) {
            case "jmh" -> Jmh.main(list, env);
            case "all" -> System.exit(runAll(env, list));
            case "help", "-h", "--help" -> System.out.printf(USAGE, Options.COMPARISONS);
            default -> {
                if (Options.COMPARISONS.contains(command)) {
                    list.add(0, command);
                    list.add(0, "--only");
                    System.exit(runAll(env, list));
                }
                System.err.printf("unknown command '%s'%n" + USAGE, command, Options.COMPARISONS);
                System.exit(2);
            }
        }
    }

    private static int runAll(Env env, List<String> args) throws IOException {
        if (args.contains("--help") || args.contains("-h")) {
            System.out.printf(USAGE, Options.COMPARISONS);
            return 0;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.printf(USAGE, Options.COMPARISONS);
            return 2;
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path resultsDir = env.target.resolve("results");
        Path out = options.out != null ? options.out : resultsDir.resolve(stamp + ".md");
        Path extras = resultsDir.resolve(stamp);
        Files.createDirectories(out.toAbsolutePath().getParent());
        long start = System.nanoTime();
        String machine = Report.machine(env);
        Log.info("benchmarks: %s; writing %s", String.join(",", options.only), out);
        Quiet quiet = new Quiet(options.quietThreshold, options.quietMaxWaitSeconds);

        List<Table> tables = new ArrayList<>();
        // Order of running: everything that starts a Supervisor in this JVM last but memory, which
        // forks. A Supervisor makes this JVM a child subreaper, and nginx/FPM daemonize: started
        // after that, their masters would become our unreaped zombies when stopped.
        for (String name : List.of("jmh", "http", "frameworks", "roundtrip", "master", "vthreads", "spawn", "shutdown",
                "memory")) {
            if (!options.only.contains(name)) {
                continue;
            }
            quiet.reset();
            Log.info("=== %s", name);
            long t0 = System.nanoTime();
            try {
                switch (name) {
                    case "jmh" -> tables.add(new Jmh(env, options, quiet, extras).run());
                    case "http" -> tables.add(new Http(env, options, quiet, extras).run());
                    case "frameworks" -> tables.add(new Frameworks(env, options, quiet, extras).run());
                    case "roundtrip" -> tables.add(new RoundTrip(env, options, quiet).run());
                    case "master" -> {
                        PoolVsMaster m = new PoolVsMaster(env, options, quiet);
                        tables.add(m.run());
                        tables.add(m.throughputTable());
                    }
                    case "vthreads" -> tables.add(new VirtualCallers(env, options, quiet).run());
                    case "spawn" -> tables.add(new Spawn(env, options, quiet).run());
                    case "shutdown" -> tables.add(new Shutdown(env, options, quiet).run());
                    case "memory" -> tables.add(new Memory(env, options, quiet).run());
                    default -> throw new IllegalStateException(name);
                }
            } catch (Exception | Error e) {
                Log.info("%s failed: %s", name, e);
                e.printStackTrace();
                tables.add(failedTable(name, e));
            }
            Log.info("=== %s done in %d s", name, Duration.ofNanos(System.nanoTime() - t0).toSeconds());
        }
        tables.sort(Comparator.comparing(t -> t.id));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        // Paths inside the checkout are shown relative to it: the report is meant to be published.
        String report = Report.render(machine, options, args, tables, took).replace(env.root + "/", "");
        Files.writeString(out, report);
        System.out.print(report);
        System.out.flush();
        Log.info("report written to %s (%d min %d s)", out, took.toMinutes(), took.toSecondsPart());
        boolean failed = tables.stream().anyMatch(t -> t.verdicts.stream().anyMatch(
                v -> v.measure().equals("(comparison did not complete)")));
        return failed ? 1 : 0;
    }

    private static Table failedTable(String name, Throwable e) {
        String id = switch (name) {
            case "roundtrip" -> "1";
            case "master" -> "2";
            case "http" -> "3";
            case "frameworks" -> "3b";
            case "spawn" -> "4";
            case "shutdown" -> "5";
            case "memory" -> "6";
            case "vthreads" -> "8";
            default -> "7";
        };
        return new Table(id, name).failed(String.valueOf(e).replace('\n', ' '));
    }
}
