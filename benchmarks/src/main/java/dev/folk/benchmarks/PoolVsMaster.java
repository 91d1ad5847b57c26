package dev.folk.benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.Supervisor;

/**
 * Comparison 2: the Java pool against the C master (benchmarks/src/main/c/master.c) driving the
 * same worker with the same 64-byte echo, with 1 and 2 workers and as many callers. The PHP
 * worker carries the target; the C echo worker shows what is left of the master's own cost when
 * the worker costs next to nothing. Also gives table 1b (throughput with 2 workers).
 */
final class PoolVsMaster {

    /** One configuration's series, per round. */
    static final class Config {
        final Workers.Kind kind;
        final int workers;
        final int callsPerWorker;
        final Series cRate = new Series();
        final Series cP50 = new Series();
        final Series cMasterCpu = new Series();
        final Series cWorkerCpu = new Series();
        final Series poolRate = new Series();
        final Series poolP50 = new Series();
        final Series poolCallerCpu = new Series();
        final Series poolWorkerCpu = new Series();
        WorkerPool pool;

        Config(Workers.Kind kind, int workers, int callsPerWorker) {
            this.kind = kind;
            this.workers = workers;
            this.callsPerWorker = callsPerWorker;
        }

        String label() {
            return kind.label() + ", " + workers + (workers == 1 ? " worker" : " workers");
        }
    }

    private final Env env;
    private final Options options;
    private final Quiet quiet;
    final List<Config> configs = new ArrayList<>();

    PoolVsMaster(Env env, Options options, Quiet quiet) {
        this.env = env;
        this.options = options;
        this.quiet = quiet;
    }

    Table run() {
        env.requireNative();
        int rounds = options.rounds(9);
        configs.add(new Config(Workers.phpEcho(env), 1, options.n(20_000)));
        configs.add(new Config(Workers.phpEcho(env), 2, options.n(20_000)));
        configs.add(new Config(Workers.cEcho(env), 1, options.n(40_000)));
        configs.add(new Config(Workers.cEcho(env), 2, options.n(40_000)));

        Supervisor supervisor = new Supervisor();
        try {
            for (Config c : configs) {
                c.pool = Workers.pool(supervisor, c.kind, c.workers);
                Log.info("pool vs C master: warming up %s", c.label());
                for (int w = 0; w < 3; w++) {
                    poolRun(c, false);
                }
            }
            for (int r = 0; r < rounds; r++) {
                for (Config c : configs) {
                    Quiet.Round round = quiet.round("pool vs C master, " + c.label() + ", round " + (r + 1), c.cRate,
                            c.cP50, c.cMasterCpu, c.cWorkerCpu, c.poolRate, c.poolP50, c.poolCallerCpu, c.poolWorkerCpu);
                    while (round.next()) {
                        if (r % 2 == 0) {
                            masterRun(c);
                            poolRun(c, true);
                        } else {
                            poolRun(c, true);
                            masterRun(c);
                        }
                    }
                    Log.info("pool vs C master round %d/%d, %s: C master %.0f/s, pool %.0f/s", r + 1, rounds,
                            c.label(), last(c.cRate), last(c.poolRate));
                }
            }
        } finally {
            for (Config c : configs) {
                if (c.pool != null) {
                    c.pool.close();
                }
            }
            supervisor.close();
        }

        Table table = new Table("2", "Java pool vs C master, same worker, same 64-byte echo");
        table.intro(rounds + " rounds; in each, the C master and the pool (as many caller threads as workers, each "
                + "making its calls one after another) alternate which goes first. Round trips/s = all calls / "
                + "(last end − first start). Medians over rounds, (min..max).");
        for (Config c : configs) {
            table.ratioRow("round trips/s, " + c.label(), c.poolRate, c.cRate, "/s", target(c));
        }
        for (Config c : configs) {
            table.ratioRow("p50 round trip, " + c.label(), c.poolP50, c.cP50, "us", null);
        }
        for (Config c : configs) {
            table.ratioRow("master-side CPU per call, " + c.label(), c.poolCallerCpu, c.cMasterCpu, "us", null);
        }
        for (Config c : configs) {
            if (c.kind.label().startsWith("PHP")) {
                table.ratioRow("worker CPU per call, " + c.label(), c.poolWorkerCpu, c.cWorkerCpu, "us", null);
            }
        }
        table.note("C master: `master -w W -n N -s 64 -W 1000 -- <worker>` (one thread per worker, blocking "
                + "send/recv, response fully checked). Pool: `WorkerPool.call(\"echo\", <64-char string>)`, "
                + "size W, W caller threads. Workers: `" + String.join(" ", Workers.phpEcho(env).command())
                + "` and `benchmarks/target/native/echo-worker`. Master-side CPU: the caller threads' CPU time "
                + "(pool) vs the C master's threads; worker CPU from /proc/<pid>/stat (10 ms ticks).");
        table.note(quiet.summary());
        return table;
    }

    /** Table 1b: pool throughput with 2 workers on 2 cores, from this comparison's rounds. */
    Table throughputTable() {
        Table t = new Table("1b", "Throughput with pool size 2 on 2 cores (2 callers)");
        t.intro("From the rounds of table 2 (same run): the pool with 2 workers and 2 caller threads against "
                + "the C master with 2 workers, for both worker kinds.");
        for (Config c : configs) {
            if (c.workers == 2) {
                t.ratioRow("round trips/s, " + c.kind.label() + ": pool vs C master", c.poolRate, c.cRate, "/s",
                        null);
            }
        }
        return t;
    }

    private void masterRun(Config c) {
        List<String> cmd = new ArrayList<>(List.of(env.master.toString(), "-w", Integer.toString(c.workers), "-n",
                Integer.toString(c.callsPerWorker), "-s", "64", "-W", "1000", "--"));
        cmd.addAll(c.kind.command());
        Map<String, String> kv = Proc.run(cmd, 300).kv();
        c.cRate.add(Proc.num(kv, "ops_per_s"));
        c.cP50.add(Proc.num(kv, "rtt_p50_us"));
        c.cMasterCpu.add(Proc.num(kv, "master_cpu_us_per_op"));
        c.cWorkerCpu.add(Proc.num(kv, "worker_cpu_us_per_op"));
    }

    private void poolRun(Config c, boolean record) {
        WorkerPool pool = c.pool;
        List<Integer> pids = Workers.pids(pool);
        Map<Integer, Double> cpu0 = new LinkedHashMap<>();
        for (int pid : pids) {
            cpu0.put(pid, Proc.cpuMillis(pid));
        }
        Load.Result res = Load.run(c.workers, c.callsPerWorker, (t, i) -> pool.call("echo", Workers.PAYLOAD_64));
        if (!record) {
            return;
        }
        double workerMs = 0;
        for (int pid : pids) {
            workerMs += Proc.cpuMillis(pid) - cpu0.get(pid);
        }
        c.poolRate.add(res.opsPerSecond());
        c.poolP50.add(res.p50Micros());
        c.poolCallerCpu.add(res.callerCpuMicrosPerOp());
        c.poolWorkerCpu.add(workerMs * 1000 / res.sortedNanos().length);
    }

    /**
     * The structure issue's targets: 0.7x with one PHP worker, 0.8x with two workers of either kind
     * (the pool's dispatch must scale); one C worker has none (it shows the JVM's own cost alone).
     */
    private static Table.Target target(Config c) {
        if (c.workers >= 2) {
            return Table.Target.atLeast(0.8);
        }
        return c.kind.label().startsWith("PHP") ? Table.Target.atLeast(0.7) : null;
    }

    private static double last(Series s) {
        List<Double> v = s.values();
        return v.isEmpty() ? Double.NaN : v.get(v.size() - 1);
    }
}
