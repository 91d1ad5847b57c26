package dev.folk.benchmarks;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.folk.core.supervision.ExitStatus;
import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerProcess;
import dev.folk.core.supervision.WorkerSpec;

/**
 * Comparison 4: spawn-to-reap of a tiny C program through the Supervisor against ProcessBuilder,
 * and PHP spawn-to-ready ({@code control.ready} received) through the Supervisor against bare
 * {@code php -n -r 'exit;'} start-up, with and without the distribution's php.ini.
 */
final class Spawn {

    private final Env env;
    private final Options options;
    private final Quiet quiet;

    Spawn(Env env, Options options, Quiet quiet) {
        this.env = env;
        this.options = options;
        this.quiet = quiet;
    }

    Table run() throws Exception {
        env.requireNative();
        int rounds = options.rounds(9);
        int nTiny = options.n(400);
        int nPhp = options.n(25);

        Series supTiny = new Series();
        Series pbTiny = new Series();
        Series cTiny = new Series();
        Series bare = new Series();
        Series phpDefault = new Series();
        Series phpMsgpack = new Series();

        WorkerSpec tiny = WorkerSpec.builder(env.tiny.toString()).name("bench-tiny").output(OutputPolicy.discard())
                .build();
        Workers.Kind php = Workers.phpEcho(env);
        Workers.Kind phpBare = Workers.phpEchoBare(env);
        List<String> bareCommand = List.of(env.spawnC.toString(), "-n", Integer.toString(nPhp), "-w", "3", env.php,
                "-n", "-r", "exit;");

        Supervisor supervisor = new Supervisor();
        try {
            Log.info("spawn: warming up");
            supervisorTiny(supervisor, tiny, nTiny);
            processBuilderTiny(nTiny);
            phpReady(supervisor, php.spec("bench-php"), 5);
            phpReady(supervisor, phpBare.spec("bench-php-n"), 5);
            List<Load.Side> tinySides = List.of(
                    () -> supTiny.add(supervisorTiny(supervisor, tiny, nTiny)),
                    () -> pbTiny.add(processBuilderTiny(nTiny)),
                    () -> cTiny.add(Proc.num(Proc.run(List.of(env.spawnC.toString(), "-f", "-n", Integer.toString(nTiny),
                            "-w", "20"), 120).kv(), "spawn_p50_us")));
            List<Load.Side> phpSides = List.of(
                    () -> bare.add(Proc.num(Proc.run(bareCommand, 120).kv(), "spawn_p50_us")),
                    () -> phpDefault.add(phpReady(supervisor, php.spec("bench-php"), nPhp)),
                    () -> phpMsgpack.add(phpReady(supervisor, phpBare.spec("bench-php-n"), nPhp)));
            for (int r = 0; r < rounds; r++) {
                Quiet.Round round = quiet.round("spawn round " + (r + 1), supTiny, pbTiny, cTiny);
                while (round.next()) {
                    Load.rotate(tinySides, r);
                }
                round = quiet.round("PHP spawn round " + (r + 1), bare, phpDefault, phpMsgpack);
                while (round.next()) {
                    Load.rotate(phpSides, r);
                }
                Log.info("spawn round %d/%d: tiny p50 supervisor %.0f us, ProcessBuilder %.0f us, C %.0f us; "
                        + "PHP ready p50 %.1f ms (php.ini), %.1f ms (-n msgpack), bare php -n %.1f ms", r + 1, rounds,
                        last(supTiny), last(pbTiny), last(cTiny), last(phpDefault) / 1000, last(phpMsgpack) / 1000,
                        last(bare) / 1000);
            }
        } finally {
            supervisor.close();
        }

        Table table = new Table("4", "Spawn: Supervisor vs ProcessBuilder, PHP spawn-to-ready vs bare php start-up");
        table.intro(rounds + " rounds, sides in rotating order; per round and side " + nTiny + " spawns of tiny and "
                + nPhp + " PHP starts (after a warm-up), one after another. Each round's p50; medians over rounds.");
        table.ratioRow("spawn-to-reap of tiny: Supervisor vs ProcessBuilder", supTiny, pbTiny, "us",
                Table.Target.atMost(0.6));
        table.ratioRow("spawn-to-reap of tiny: Supervisor vs C posix_spawn floor (`spawn -f`)", supTiny, cTiny, "us",
                null);
        table.ratioRow("PHP spawn-to-ready, `php` (Debian php.ini, " + extensionCount(false)
                + " extensions) vs bare `php -n -r 'exit;'`", scale(phpDefault), scale(bare), "ms",
                Table.Target.atMost(1.3));
        table.ratioRow("PHP spawn-to-ready, `php -n -d extension=msgpack` (" + extensionCount(true)
                + " extensions) vs bare `php -n -r 'exit;'`", scale(phpMsgpack), scale(bare), "ms",
                Table.Target.atMost(1.3));
        table.note("Supervisor: `spawn(spec)` (two socket pairs, two drained pipes, posix_spawnp with closefrom, "
                + "own process group, signal reset, pidfd), then `awaitExit` and `terminate` (reap, sweep the group, "
                + "release). ProcessBuilder: `new ProcessBuilder(tiny).start().waitFor()` with its default pipes. "
                + "C floor: `benchmarks/target/native/spawn -f` (what a supervisor does per worker, in C). tiny is "
                + "linked " + tinyLink() + ".");
        table.note("PHP spawn-to-ready: from `spawn` to the `control.ready` frame read from fd 4, for `"
                + String.join(" ", Workers.phpEcho(env).command()) + "`; bare start-up: `spawn -n N <php> -n -r "
                + "'exit;'` (posix_spawn to waitpid, in C).");
        table.note(quiet.summary());
        return table;
    }

    /** p50 spawn-to-reap in us. */
    private long[] samples;

    private double supervisorTiny(Supervisor supervisor, WorkerSpec spec, int n) {
        samples = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            WorkerProcess p = supervisor.spawn(spec);
            supervisor.awaitExit(p, Duration.ofSeconds(5));
            ExitStatus status = supervisor.terminate(p, Duration.ofSeconds(1));
            samples[i] = System.nanoTime() - t0;
            if (status == null || status.exitCode() != 0) {
                throw new IllegalStateException("tiny ended with " + status);
            }
        }
        return p50(samples);
    }

    private double processBuilderTiny(int n) throws IOException, InterruptedException {
        samples = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(env.tiny.toString()).start();
            int code = p.waitFor();
            samples[i] = System.nanoTime() - t0;
            p.getInputStream().close();
            p.getErrorStream().close();
            p.getOutputStream().close();
            if (code != 0) {
                throw new IllegalStateException("tiny exited " + code);
            }
        }
        return p50(samples);
    }

    /** p50 spawn-to-ready in us; each worker is stopped (untimed) before the next starts. */
    private double phpReady(Supervisor supervisor, WorkerSpec spec, int n) throws IOException {
        samples = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            WorkerProcess p = supervisor.spawn(spec);
            try {
                Workers.handshake(p);
                samples[i] = System.nanoTime() - t0;
            } finally {
                Workers.stop(supervisor, p);
            }
        }
        return p50(samples);
    }

    private static double p50(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return Series.percentileMicros(sorted, 50);
    }

    private static Series scale(Series micros) {
        Series s = new Series();
        for (double v : micros.values()) {
            s.add(v / 1000);
        }
        return s;
    }

    private String extensionCount(boolean bare) {
        List<String> cmd = new ArrayList<>(List.of(env.php));
        if (bare) {
            cmd.addAll(List.of("-n", "-d", "extension=msgpack"));
        }
        cmd.add("-m");
        try {
            String out = Proc.run(cmd, 30).out();
            long n = out.lines().filter(l -> !l.isBlank() && !l.startsWith("[")).distinct().count();
            return Long.toString(n);
        } catch (RuntimeException e) {
            return "?";
        }
    }

    private String tinyLink() {
        try {
            return java.nio.file.Files.readString(env.nativeDir.resolve("tiny.link")).trim();
        } catch (IOException e) {
            return "(unknown)";
        }
    }

    private static double last(Series s) {
        List<Double> v = s.values();
        return v.isEmpty() ? Double.NaN : v.get(v.size() - 1);
    }
}
