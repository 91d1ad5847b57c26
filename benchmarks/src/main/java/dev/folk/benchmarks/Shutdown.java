package dev.folk.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerProcess;
import dev.folk.core.supervision.WorkerSpec;

/**
 * Comparison 5: shutdown at scale. 256 workers (benchmarks/scripts/shutdown-worker.sh), half of
 * them ignoring TERM and lingering after EOF, each with a grandchild (which ignores TERM too in
 * that half). Timed: {@code WorkerPool.close()} of an idle pool of them, and
 * {@link Supervisor#killAndReapAll()} of as many workers spawned directly; afterwards nothing
 * carrying the round's tag may be alive and no zombie child may remain.
 */
final class Shutdown {

    static final Duration GRACE = Duration.ofSeconds(1);
    static final Duration CLOSE_WAIT = Duration.ofMillis(500);

    private final Env env;
    private final Options options;
    private final Quiet quiet;

    Shutdown(Env env, Options options, Quiet quiet) {
        this.env = env;
        this.options = options;
        this.quiet = quiet;
    }

    Table run() throws Exception {
        env.requireNative();
        int rounds = options.rounds(3);
        int n = options.shutdownWorkers;
        Path script = env.root.resolve("benchmarks/scripts/shutdown-worker.sh");
        env.require(script, "part of the checkout");
        Series closeSeconds = new Series();
        Series killSeconds = new Series();
        for (int r = 0; r < rounds; r++) {
            Quiet.Round round = quiet.round("shutdown round " + (r + 1) + " (pool close)", closeSeconds);
            while (round.next()) {
                closeSeconds.add(poolClose(script, n));
            }
            round = quiet.round("shutdown round " + (r + 1) + " (killAndReapAll)", killSeconds);
            while (round.next()) {
                killSeconds.add(killAndReapAll(script, n));
            }
            Log.info("shutdown round %d/%d: pool close() %.2f s, killAndReapAll() %.2f s", r + 1, rounds,
                    last(closeSeconds), last(killSeconds));
        }

        double closeBound = CLOSE_WAIT.toMillis() / 1000.0 + GRACE.toMillis() / 1000.0;
        Table table = new Table("5", "Shutdown at scale: " + n + " workers, half ignoring TERM, each with a grandchild");
        table.columns("measure", "ours", "configured grace", "target", "result");
        table.intro(rounds + " rounds; each starts " + n + " workers (`benchmarks/scripts/shutdown-worker.sh`: the "
                + "C echo worker behind `sh`; odd ones ignore TERM, as does their grandchild, and their leader lingers "
                + "after EOF), waits until all are ready, then times the call. Medians over rounds, (min..max).");
        boolean closeOk = closeSeconds.median() <= closeBound + 0.5;
        table.row("`WorkerPool.close()`, idle pool of " + n, closeSeconds.format("s"),
                String.format(Locale.ROOT, "close-wait %.1f s + stop-grace %.1f s = %.1f s", CLOSE_WAIT.toMillis() / 1000.0,
                        GRACE.toMillis() / 1000.0, closeBound),
                String.format(Locale.ROOT, "≤ %.1f s", closeBound + 0.5), closeOk ? "PASS" : "MISS");
        table.check("pool close() of " + n, Series.num(closeSeconds.median()) + " s",
                String.format(Locale.ROOT, "≤ %.1f s", closeBound + 0.5), closeOk);
        boolean killOk = killSeconds.median() <= 0.5;
        table.row("`Supervisor.killAndReapAll()`, " + n + " workers", killSeconds.format("s"), "none (KILL at once)",
                "≤ 0.5 s", killOk ? "PASS" : "MISS");
        table.check("killAndReapAll() of " + n, Series.num(killSeconds.median()) + " s", "≤ 0.5 s", killOk);
        boolean clean = leftAlive == 0 && zombies == 0;
        table.row("processes left alive / zombie children, all rounds", leftAlive + " / " + zombies, "—", "0 / 0",
                clean ? "PASS" : "MISS");
        table.check("nothing left after shutdown", leftAlive + " alive, " + zombies + " zombies", "0 / 0", clean);
        table.note("Pool: size " + n + ", stop-grace " + GRACE.toMillis() + " ms, close-wait " + CLOSE_WAIT.toMillis()
                + " ms (close fd 3, wait close-wait for the leader, then TERM → stop-grace → KILL on the group). "
                + "The TERM-ignoring half must wait both, so close-wait + stop-grace is the bound. killAndReapAll "
                + "KILLs every group at once. Leftovers: processes carrying the round's environment tag, and zombie "
                + "children of the JVM, right after the call returned.");
        if (wrongMix > 0) {
            table.note("Warning: in " + wrongMix + " round(s) the counter did not reach " + n
                    + " (the half/half mix may be off).");
        }
        table.note(quiet.summary());
        return table;
    }

    private int leftAlive;
    private int zombies;
    private int wrongMix;

    /** An idle pool of n workers, all ready; returns how long close() took, in seconds. */
    private double poolClose(Path script, int n) throws IOException {
        String tag = "bench-" + UUID.randomUUID();
        Path counter = counter();
        Supervisor supervisor = new Supervisor();
        try {
            WorkerPool pool = WorkerPool.start(PoolConfig.builder("bench-shutdown", spec(script, counter, tag))
                    .size(n).stopGrace(GRACE).closeWait(CLOSE_WAIT).maxQueue(n).build(), supervisor);
            if (!pool.awaitReady(n, Duration.ofSeconds(120))) {
                pool.close();
                throw new IllegalStateException("pool of " + n + " shutdown workers not ready: " + pool.lastFailure());
            }
            checkMix(counter, n);
            Quiet.sleep(500); // let the grandchildren start
            long t0 = System.nanoTime();
            pool.close();
            double seconds = (System.nanoTime() - t0) / 1e9;
            leftovers(tag);
            return seconds;
        } finally {
            supervisor.close();
            Files.deleteIfExists(counter);
        }
    }

    /** n workers spawned by a supervisor, all ready; returns how long killAndReapAll() took, in seconds. */
    private double killAndReapAll(Path script, int n) throws IOException {
        String tag = "bench-" + UUID.randomUUID();
        Path counter = counter();
        Supervisor supervisor = new Supervisor();
        try {
            WorkerSpec spec = spec(script, counter, tag);
            List<WorkerProcess> all = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                all.add(supervisor.spawn(spec));
            }
            for (WorkerProcess p : all) {
                Workers.handshake(p);
            }
            checkMix(counter, n);
            Quiet.sleep(500);
            long t0 = System.nanoTime();
            supervisor.killAndReapAll();
            double seconds = (System.nanoTime() - t0) / 1e9;
            leftovers(tag);
            return seconds;
        } finally {
            supervisor.close();
            Files.deleteIfExists(counter);
        }
    }

    private static Path counter() throws IOException {
        Path counter = Files.createTempFile("folk-bench-shutdown", ".count");
        Files.writeString(counter, "0");
        return counter;
    }

    private WorkerSpec spec(Path script, Path counter, String tag) {
        return WorkerSpec.builder(script.toString()).name("bench-shutdown")
                .args(counter.toString(), env.cEcho.toString())
                .environment("FOLK_BENCH_TAG", tag).output(OutputPolicy.discard()).build();
    }

    /** Counts a round whose counter does not show exactly n workers (the half/half mix would be off). */
    private void checkMix(Path counter, int n) throws IOException {
        if (!Files.readString(counter).trim().equals(Integer.toString(n))) {
            wrongMix++;
        }
    }

    /** Counts what a shutdown left behind, and kills it so the next round starts clean. */
    private void leftovers(String tag) {
        List<Long> alive = Proc.withEnvironment("FOLK_BENCH_TAG=" + tag);
        List<Long> zombies = Proc.zombieChildren();
        for (long pid : alive) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        if (!alive.isEmpty() || !zombies.isEmpty()) {
            Log.info("shutdown left %d process(es) alive %s and %d zombie child(ren) %s", alive.size(), alive,
                    zombies.size(), zombies);
        }
        leftAlive += alive.size();
        this.zombies += zombies.size();
    }

    private static double last(Series s) {
        List<Double> v = s.values();
        return v.isEmpty() ? Double.NaN : v.get(v.size() - 1);
    }
}
