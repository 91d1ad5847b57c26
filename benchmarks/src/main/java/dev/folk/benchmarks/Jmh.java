package dev.folk.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import dev.folk.benchmarks.jmh.CallBench;
import dev.folk.benchmarks.jmh.CodecBench;

/**
 * The JMH microbenchmarks ({@link CodecBench}, {@link CallBench}) with modest settings — 1 fork,
 * 3 × 1 s warm-up, 5 × 1 s measurement for the codec; 2 × 1 s and 3 × 1 s for calls (20
 * configurations) — about 3 minutes in all. JSON results go next to the report.
 */
final class Jmh {

    static final int[] THREADS = {1, 2, 4, 8, 16};

    private final Env env;
    private final Options options;
    private final Quiet quiet;
    private final Path resultDir;

    Jmh(Env env, Options options, Quiet quiet, Path resultDir) {
        this.env = env;
        this.options = options;
        this.quiet = quiet;
        this.resultDir = resultDir;
    }

    Table run() throws Exception {
        env.require(env.cEcho, "run benchmarks/scripts/build-native.sh");
        Files.createDirectories(resultDir);
        Table table = new Table("7", "JMH microbenchmarks: codec and pool calls");
        table.columns("benchmark", "worker", "pool size", "threads", "score", "± error (99.9%)", "unit");
        int codecWarm = options.quick ? 1 : 3;
        int codecMeasure = options.quick ? 2 : 5;
        int callWarm = options.quick ? 1 : 2;
        int callMeasure = options.quick ? 1 : 3;

        quiet.await("JMH codec");
        Log.info("jmh: codec (4 benchmarks)");
        Quiet.Span span = quiet.span();
        List<RunResult> results = new ArrayList<>(run(base(CodecBench.class, codecWarm, codecMeasure, "codec")));
        span.record("JMH codec");
        int[] threads = options.quick ? new int[] {1, 4} : THREADS;
        for (int t : threads) {
            quiet.await("JMH calls, " + t + " thread(s)");
            Log.info("jmh: pool calls with %d thread(s) (c/php × 1/2 workers)", t);
            span = quiet.span();
            results.addAll(run(base(CallBench.class, callWarm, callMeasure, "call-t" + t).threads(t)));
            span.record("JMH calls, " + t + " thread(s)");
        }
        for (RunResult rr : results) {
            var params = rr.getParams();
            String name = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.', params.getBenchmark()
                    .lastIndexOf('.') - 1) + 1);
            boolean call = name.startsWith("CallBench");
            var primary = rr.getPrimaryResult();
            table.row(name, call ? params.getParam("worker") : "—", call ? params.getParam("size") : "—",
                    Integer.toString(params.getThreads()), Series.num(primary.getScore()),
                    Double.isNaN(primary.getScoreError()) ? "—" : Series.num(primary.getScoreError()),
                    primary.getScoreUnit());
        }
        table.intro("JMH 1.37, 1 fork each. Codec: " + codecWarm + " × 1 s warm-up, " + codecMeasure + " × 1 s "
                + "measured, average time per operation (64-character string or 1 MiB byte[] as params; decode of "
                + "the matching response payload from memory). Calls: `WorkerPool.call(\"echo\", <64-char string>)`, "
                + callWarm + " × 1 s warm-up, " + callMeasure + " × 1 s measured, all threads' calls per second; "
                + "`c` = benchmarks/target/native/echo-worker, `php` = folk-worker-php's echo-worker.php.");
        table.note("Raw JMH results (JSON): `" + env.root.relativize(resultDir) + "/jmh-*.json`. "
                + "Run JMH alone: `java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/folk-benchmarks.jar "
                + "jmh [JMH options]`.");
        table.note(quiet.summary());
        return table;
    }

    private ChainedOptionsBuilder base(Class<?> benchmark, int warmups, int measurements, String resultName) {
        List<String> jvmArgs = new ArrayList<>(Env.jvmFlags());
        jvmArgs.add("-Dfolk.bench.root=" + env.root);
        jvmArgs.add("-Dfolk.bench.php=" + env.php);
        return new OptionsBuilder()
                .include("^" + benchmark.getName().replace(".", "\\.") + "\\.")
                .forks(1)
                .warmupIterations(warmups)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(measurements)
                .measurementTime(TimeValue.seconds(1))
                .jvmArgs(jvmArgs.toArray(new String[0]))
                .shouldFailOnError(true)
                .verbosity(VerboseMode.SILENT)
                .resultFormat(ResultFormatType.JSON)
                .result(resultDir.resolve("jmh-" + resultName + ".json").toString());
    }

    private static Collection<RunResult> run(ChainedOptionsBuilder options) throws RunnerException {
        return new Runner(options.build()).run();
    }

    /** {@code jmh [args]}: JMH's own command line over this jar's benchmarks, with our JVM flags in forks. */
    static void main(List<String> args, Env env) throws Exception {
        List<String> all = new ArrayList<>();
        boolean hasJvmArgs = args.stream().anyMatch(a -> a.equals("-jvmArgs") || a.equals("-jvmArgsAppend"));
        if (!hasJvmArgs) {
            List<String> jvm = new ArrayList<>(Env.jvmFlags());
            jvm.add("-Dfolk.bench.root=" + env.root);
            all.add("-jvmArgsAppend");
            all.add(String.join(" ", jvm));
        }
        all.addAll(args);
        Log.info("jmh %s", String.join(" ", all));
        org.openjdk.jmh.Main.main(all.toArray(new String[0]));
    }
}
