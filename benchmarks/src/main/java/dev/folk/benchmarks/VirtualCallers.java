package dev.folk.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerSpec;

/**
 * Comparison 8: the same pool called from virtual threads and from platform threads, in the same
 * rounds. A virtual-thread call parks on the pool's poller while PHP works; a platform-thread call
 * blocks in read(2). Two loads: the 64-byte echo with as many callers as workers (the round trip,
 * where parking costs the most), and slow calls with twice as many callers as workers (half wait
 * in the acquire queue), where pinning would cap concurrency at the number of carriers.
 *
 * <p>Virtual threads need Java 21+, so each round runs in a child JVM on a JDK 21+ (this one if it
 * is, else {@code FOLK_BENCH_JDK21}, else the newest under /usr/lib/jvm), with the JVM's default
 * carrier count (one per core).
 */
final class VirtualCallers {

    static final int ECHO_WORKERS = 2;
    static final int SLOW_WORKERS = 4;
    static final int SLOW_CALLERS = 2 * SLOW_WORKERS;
    static final int SLOW_MS = 50;

    private final Env env;
    private final Options options;
    private final Quiet quiet;

    VirtualCallers(Env env, Options options, Quiet quiet) {
        this.env = env;
        this.options = options;
        this.quiet = quiet;
    }

    Table run() {
        Path jdk = jdk21().orElseThrow(() -> new IllegalStateException(
                "needs a JDK 21+: set FOLK_BENCH_JDK21 to its home or install one under /usr/lib/jvm"));
        int feature = feature(jdk).orElse(21);
        int rounds = options.rounds(5);
        int echoCalls = options.n(20_000);
        int slowCalls = options.quick ? 4 : 20;
        Series echoPlatform = new Series();
        Series echoVirtual = new Series();
        Series p50Platform = new Series();
        Series p50Virtual = new Series();
        Series slowPlatform = new Series();
        Series slowVirtual = new Series();
        for (int r = 0; r < rounds; r++) {
            Quiet.Round round = quiet.round("virtual vs platform callers, round " + (r + 1), echoPlatform,
                    echoVirtual, p50Platform, p50Virtual, slowPlatform, slowVirtual);
            while (round.next()) {
                List<String> cmd = new ArrayList<>();
                cmd.add(jdk.resolve("bin/java").toString());
                cmd.add("--enable-native-access=ALL-UNNAMED");
                if (feature >= 24) {
                    cmd.add("--sun-misc-unsafe-memory-access=allow");
                }
                cmd.addAll(List.of("-cp", Env.classPath(), VirtualCallers.class.getName(), env.php,
                        env.phpEcho.toString(), env.root.resolve("folk-worker-php/src/main/php/autoload.php").toString(),
                        Integer.toString(echoCalls), Integer.toString(slowCalls), Integer.toString(r % 2)));
                Map<String, String> kv = Proc.run(cmd, 600).kv();
                echoPlatform.add(Proc.num(kv, "echo_platform_rate"));
                echoVirtual.add(Proc.num(kv, "echo_virtual_rate"));
                p50Platform.add(Proc.num(kv, "echo_platform_p50_us"));
                p50Virtual.add(Proc.num(kv, "echo_virtual_p50_us"));
                slowPlatform.add(Proc.num(kv, "slow_platform_rate"));
                slowVirtual.add(Proc.num(kv, "slow_virtual_rate"));
            }
            Log.info("virtual vs platform round %d/%d: echo %.0f vs %.0f/s, slow calls %.1f vs %.1f/s", r + 1, rounds,
                    last(echoVirtual), last(echoPlatform), last(slowVirtual), last(slowPlatform));
        }
        Table t = new Table("8", "Virtual-thread callers vs platform-thread callers, same pool, same run");
        t.intro(rounds + " rounds on Java " + feature + ", each in a fresh JVM with one carrier thread per core; in "
                + "each, platform and virtual callers alternate which goes first. Ours = virtual-thread callers, "
                + "baseline = platform-thread callers. Medians over rounds, (min..max).");
        t.ratioRow("round trips/s, PHP echo 64 B, " + ECHO_WORKERS + " workers, " + ECHO_WORKERS + " callers",
                echoVirtual, echoPlatform, "/s", null);
        t.ratioRow("p50 round trip, same", p50Virtual, p50Platform, "us", null);
        t.ratioRow("calls/s, " + SLOW_MS + " ms PHP calls, " + SLOW_WORKERS + " workers, " + SLOW_CALLERS + " callers",
                slowVirtual, slowPlatform, "/s", Table.Target.atLeast(0.95));
        t.note("Echo: `WorkerPool.call(\"echo\", <64-char string>)`, " + echoCalls + " calls per caller. Slow calls: a "
                + "PHP worker whose `sleep` method usleeps " + SLOW_MS + " ms, " + slowCalls + " calls per caller; "
                + "the ideal is " + (SLOW_WORKERS * 1000 / SLOW_MS) + " calls/s. With a carrier pinned per call "
                + "(a blocking read on a virtual thread) the slow-call rate would fall to carriers x " + (1000 / SLOW_MS)
                + "/s.");
        t.note(quiet.summary());
        return t;
    }

    /** The child: one round of both loads, both kinds of caller; prints one line of key=value. */
    public static void main(String[] args) throws Exception {
        String php = args[0];
        String echoScript = args[1];
        String autoload = args[2];
        int echoCalls = Integer.parseInt(args[3]);
        int slowCalls = Integer.parseInt(args[4]);
        boolean virtualFirst = args[5].equals("1");
        ThreadFactory platform = Thread::new;
        ThreadFactory virtual = virtualThreads();

        Supervisor supervisor = new Supervisor();
        WorkerPool echo = ready(supervisor, WorkerSpec.builder(php).name("bench").args(echoScript), ECHO_WORKERS);
        String sleeper = "require '" + autoload.replace("'", "\\'") + "'; $w = new Folk\\Worker\\Worker();"
                + " $w->register('sleep', function ($ms) { usleep((int) $ms * 1000); return $ms; }); $w->run();";
        WorkerPool slow = ready(supervisor, WorkerSpec.builder(php).name("bench").args("-r", sleeper), SLOW_WORKERS);
        try {
            String payload = Workers.PAYLOAD_64;
            Load.Call echoCall = (t, i) -> echo.call("echo", payload);
            Load.Call slowCall = (t, i) -> slow.call("sleep", SLOW_MS);
            // Warm-up: the JIT, and both kinds of thread through both pools.
            for (ThreadFactory f : List.of(platform, virtual)) {
                Load.run(f, ECHO_WORKERS, Math.max(1, echoCalls / 4), echoCall);
                Load.run(f, SLOW_CALLERS, 2, slowCall);
            }
            Load.Result echoP = null;
            Load.Result echoV = null;
            Load.Result slowP = null;
            Load.Result slowV = null;
            for (int side = 0; side < 2; side++) {
                boolean v = (side == 0) == virtualFirst;
                Load.Result e = Load.run(v ? virtual : platform, ECHO_WORKERS, echoCalls, echoCall);
                Load.Result s = Load.run(v ? virtual : platform, SLOW_CALLERS, slowCalls, slowCall);
                if (v) {
                    echoV = e;
                    slowV = s;
                } else {
                    echoP = e;
                    slowP = s;
                }
            }
            System.out.printf(java.util.Locale.ROOT, "echo_platform_rate=%.1f echo_virtual_rate=%.1f "
                            + "echo_platform_p50_us=%.1f echo_virtual_p50_us=%.1f slow_platform_rate=%.2f "
                            + "slow_virtual_rate=%.2f%n", echoP.opsPerSecond(), echoV.opsPerSecond(), echoP.p50Micros(),
                    echoV.p50Micros(), slowP.opsPerSecond(), slowV.opsPerSecond());
        } finally {
            echo.close();
            slow.close();
            supervisor.close();
        }
    }

    private static WorkerPool ready(Supervisor supervisor, WorkerSpec.Builder spec, int size) {
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("bench-" + size, spec.output(OutputPolicy.discard())
                .build()).size(size).maxQueue(64).build(), supervisor);
        if (!pool.awaitReady(size, Duration.ofSeconds(30))) {
            pool.close();
            throw new IllegalStateException("pool of " + size + " did not become ready: " + pool.lastFailure());
        }
        return pool;
    }

    /** {@code Thread.ofVirtual().factory()}, reached by reflection: this module compiles for Java 17. */
    private static ThreadFactory virtualThreads() throws ReflectiveOperationException {
        Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
        return (ThreadFactory) Class.forName("java.lang.Thread$Builder").getMethod("factory").invoke(builder);
    }

    private static Optional<Path> jdk21() {
        String given = System.getenv("FOLK_BENCH_JDK21");
        if (given != null && !given.isBlank()) {
            return Optional.of(Path.of(given));
        }
        if (Runtime.version().feature() >= 21) {
            return Optional.of(Path.of(System.getProperty("java.home")));
        }
        try (Stream<Path> homes = Files.list(Path.of("/usr/lib/jvm"))) {
            return homes.filter(h -> feature(h).orElse(0) >= 21 && Files.isExecutable(h.resolve("bin/java")))
                    .max(Comparator.comparingInt(h -> feature(h).orElse(0)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Integer> feature(Path jdk) {
        try {
            Matcher m = Pattern.compile("^JAVA_VERSION=\"(\\d+)", Pattern.MULTILINE)
                    .matcher(Files.readString(jdk.resolve("release")));
            return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static double last(Series s) {
        List<Double> v = s.values();
        return v.isEmpty() ? Double.NaN : v.get(v.size() - 1);
    }
}
