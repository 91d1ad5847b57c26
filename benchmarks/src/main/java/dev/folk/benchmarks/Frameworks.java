package dev.folk.benchmarks;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Comparison 3b: a real framework page through the gateway (workers keep the application booted)
 * against the same page on nginx + PHP-FPM (the framework boots on every request): the home page
 * of folk-worker-php's Symfony and Laravel test applications ({@code src/test/php/apps}), with the
 * same number of PHP processes on each side. PHP-FPM is served by the tests' {@code serve.sh}
 * (pm = static, opcache as Debian configures it); ours is the sample app's jar with its default
 * pool running the application's worker, mapped at {@code /php} with strip-prefix (the framework
 * routes {@code /}).
 */
final class Frameworks {

    /**
     * One application: its directory under apps/, its worker script, its extra environment and PHP
     * arguments, and the framework its home page greets from.
     */
    private record App(String name, String worker, Map<String, String> env, boolean prepend, String framework) {
    }

    private static final Map<String, String> SYMFONY_RUNTIME = Map.of("APP_RUNTIME", "Folk\\Worker\\Symfony\\Runtime");

    private static final List<App> APPS = List.of(
            new App("symfony", "symfony/public/index.php", SYMFONY_RUNTIME, true, "Symfony"),
            new App("symfony-framework", "symfony-framework/public/index.php", SYMFONY_RUNTIME, true, "Symfony"),
            new App("laravel", "laravel/worker.php", Map.of(), false, "Laravel"));

    private final Env env;
    private final Options options;
    private final Quiet quiet;
    private final Path logDir;
    private final Path apps;
    private final Path serve;
    private final Path library;

    Frameworks(Env env, Options options, Quiet quiet, Path logDir) {
        this.env = env;
        this.options = options;
        this.quiet = quiet;
        this.logDir = logDir;
        this.apps = env.root.resolve("folk-worker-php/src/test/php/apps");
        this.serve = env.root.resolve("folk-worker-php/src/test/fpm/serve.sh");
        this.library = env.root.resolve("folk-worker-php/src/main/php/autoload.php");
    }

    Table run() throws Exception {
        Table table = new Table("3b", "Framework pages: gateway (booted workers) vs nginx + PHP-FPM (boot per request)");
        if (!Files.isRegularFile(env.sampleJar)) {
            return table.failed("the sample app jar " + env.sampleJar + " does not exist (./mvnw -pl sample-app -am "
                    + "-DskipTests package)");
        }
        env.require(serve, "part of the checkout");
        int workers = options.httpWorkers;
        int rounds = options.rounds(3);
        Map<String, Map<String, Series>> series = new LinkedHashMap<>();
        long errors = 0;
        for (App app : APPS) {
            Path work = env.target.resolve("frameworks-" + app.name());
            Path fpmWork = work.resolve("fpm");
            Proc.runAllowingFailure(List.of("bash", serve.toString(), "stop", fpmWork.toString()), 60);
            Path state = work.resolve("worker");
            for (String sub : List.of("app-state", "tmp", "sessions")) {
                Files.createDirectories(state.resolve(sub));
            }
            clearSessions(state);
            clearSessions(fpmWork);
            int fpmPort = Http.freePort();
            int appPort = Http.freePort();
            Process started = null;
            List<Long> daemons = new ArrayList<>();
            Thread hook = new Thread(() -> Proc.runAllowingFailure(List.of("bash", serve.toString(), "stop",
                    fpmWork.toString()), 30), "bench-frameworks-cleanup");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                Log.info("frameworks: %s on nginx + PHP-FPM (%d children), 127.0.0.1:%d", app.name(), workers, fpmPort);
                Proc.run(List.of("env", "FPM_CHILDREN=" + workers, "bash", serve.toString(), "start",
                        apps.resolve(app.name()).toString(), Integer.toString(fpmPort), fpmWork.toString()), 120);
                for (String daemon : List.of("nginx.pid", "php-fpm.pid")) {
                    long pid = Long.parseLong(Files.readString(fpmWork.resolve(daemon)).trim());
                    quiet.alsoOurs(pid);
                    daemons.add(pid);
                }
                Log.info("frameworks: %s through the sample app (%d workers), 127.0.0.1:%d", app.name(), workers, appPort);
                started = startApp(app, appPort, workers, state);
                Process appProcess = started;
                String appUrl = "http://127.0.0.1:" + appPort + "/php/";
                String fpmUrl = "http://127.0.0.1:" + fpmPort + "/";
                Http.awaitApp(started, appUrl);
                String want = "Hello from " + app.framework();
                check(appUrl, want);
                check(fpmUrl, want);
                // Warm: the JIT on our side (still compiling after 10 s of load: C2's time showed in the JVM's
                // CPU per request), opcache on theirs.
                for (int turn = 0; turn < (options.quick ? 1 : 4); turn++) {
                    Http.wrk(options, appUrl, options.quick ? 3 : 10);
                }
                Http.wrk(options, fpmUrl, 3);
                for (String side : List.of("app", "fpm")) {
                    Map<String, Series> m = new LinkedHashMap<>();
                    for (String metric : List.of("rps", "p50", "p99", "cpu", "front")) {
                        m.put(metric, new Series());
                    }
                    series.put(side + "-" + app.name(), m);
                }
                for (int r = 0; r < rounds; r++) {
                    for (String side : (r % 2 == 0) ? List.of("app", "fpm") : List.of("fpm", "app")) {
                        boolean ours = side.equals("app");
                        String url = ours ? appUrl : fpmUrl;
                        Map<String, Series> m = series.get(side + "-" + app.name());
                        Http.wrk(options, url, 2); // untimed: back to speed after the other side's turn
                        Quiet.Round round = quiet.round("frameworks " + app.name() + " " + side + " round " + (r + 1),
                                m.get("rps"), m.get("p50"), m.get("p99"), m.get("cpu"), m.get("front"));
                        while (round.next()) {
                            // wrk sends no cookie: every Laravel page makes a session file, and Laravel's
                            // session GC (2% of requests) reads the whole directory. Left to pile up, files
                            // from earlier turns and runs cost the side that serves more the most.
                            clearSessions(ours ? state : fpmWork);
                            double cpu0 = ours ? Proc.treeCpuMillis(appProcess.pid()) : fpmCpu(fpmWork);
                            double front0 = ours ? Proc.cpuMillis(appProcess.pid()) : Double.NaN;
                            Http.Wrk w = Http.wrk(options, url, options.httpSeconds);
                            double cpu1 = ours ? Proc.treeCpuMillis(appProcess.pid()) : fpmCpu(fpmWork);
                            double front1 = ours ? Proc.cpuMillis(appProcess.pid()) : Double.NaN;
                            long n = Math.max(1, w.requests());
                            m.get("rps").add(w.requestsPerSecond());
                            m.get("p50").add(w.p50Micros() / 1000);
                            m.get("p99").add(w.p99Micros() / 1000);
                            m.get("cpu").add((cpu1 - cpu0) * 1000 / n);
                            if (ours) {
                                m.get("front").add((front1 - front0) * 1000 / n);
                            }
                            errors += w.errors() + w.non2xx();
                            Log.info("frameworks round %d/%d %s %s: %.0f req/s, p50 %.2f ms, p99 %.2f ms, %.0f us CPU/req",
                                    r + 1, rounds, app.name(), side, w.requestsPerSecond(), w.p50Micros() / 1000,
                                    w.p99Micros() / 1000, (cpu1 - cpu0) * 1000 / n);
                        }
                    }
                }
            } finally {
                if (started != null) {
                    Http.stopApp(started);
                }
                Proc.runAllowingFailure(List.of("bash", serve.toString(), "stop", fpmWork.toString()), 60);
                daemons.forEach(quiet::forget);
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs anyway
                }
            }
        }

        table.intro(rounds + " rounds per application; in each, both servers take turns (order alternating), each for "
                + "`wrk -t" + options.httpThreads + " -c" + options.httpConnections + " -d" + options.httpSeconds
                + "s --latency` on 127.0.0.1 after a 2 s untimed run; before the first round 40 s of load on ours "
                + "and 3 s on PHP-FPM. " + workers + " PHP processes on each side. Medians over rounds, (min..max).");
        for (App app : APPS) {
            table.ratioRow("req/s, " + app.name() + " home page", get(series, "app-" + app.name(), "rps"),
                    get(series, "fpm-" + app.name(), "rps"), "/s", Table.Target.atLeast(10));
        }
        for (App app : APPS) {
            table.ratioRow("p50 latency, " + app.name(), get(series, "app-" + app.name(), "p50"),
                    get(series, "fpm-" + app.name(), "p50"), "ms", null);
            table.ratioRow("p99 latency, " + app.name(), get(series, "app-" + app.name(), "p99"),
                    get(series, "fpm-" + app.name(), "p99"), "ms", null);
            table.ratioRow("server CPU per request, " + app.name(), get(series, "app-" + app.name(), "cpu"),
                    get(series, "fpm-" + app.name(), "cpu"), "us", null);
        }
        for (App app : APPS) {
            Series front = get(series, "app-" + app.name(), "front");
            if (!front.isEmpty()) {
                table.note("Of our CPU per request for " + app.name() + ", the JVM itself took " + front.format("us")
                        + "; the rest is its PHP workers.");
            }
        }
        table.note("Pages: `GET /` of folk-worker-php/src/test/php/apps/symfony (components wired by hand: "
                + "HttpKernel, Routing, the Symfony Runtime; Debian's php-symfony-*), apps/symfony-framework (a "
                + "FrameworkBundle Kernel with MicroKernelTrait, its container compiled to the cache on the first "
                + "request, as Symfony applications are built; php-symfony-framework-bundle) and apps/laravel "
                + "(Laravel 8, Debian's php-laravel-framework; the page starts a file session, on both sides; wrk sends no cookie, so every request makes a session file, and they are removed before each timed turn on both sides). Baseline: folk-worker-php/src/test/fpm/serve.sh with "
                + "FPM_CHILDREN=" + workers + " (nginx 1 worker, php-fpm8.2 pm = static, unix socket, opcache as "
                + "Debian enables it for FPM). Ours: `java -jar sample-app/target/folk-sample-app.jar` with "
                + "--folk.args=<the app's worker> --folk.size=" + workers + " --folk.pools.default.max-jobs=0 "
                + "--folk.output=DISCARD and /php/** mapped with strip-prefix; the sample's slim pool (2 workers) "
                + "idles meanwhile. Server CPU: the JVM and its PHP workers vs nginx and FPM, user + system, per "
                + "request. wrk shares the 2 cores with the server.");
        table.note("Non-2xx responses and socket errors over all runs: " + errors + ".");
        table.note(quiet.summary());
        return table;
    }

    private double fpmCpu(Path workdir) {
        return Proc.num(Proc.run(List.of("bash", env.fpmRun.toString(), "cpu", workdir.toString()), 60).kv(),
                "cpu_ms");
    }

    private static Series get(Map<String, Map<String, Series>> m, String side, String key) {
        return m.getOrDefault(side, Map.of()).getOrDefault(key, new Series());
    }

    private Process startApp(App app, int port, int workers, Path state) throws IOException {
        Path dir = apps.resolve(app.name());
        List<String> cmd = new ArrayList<>();
        cmd.add(Env.javaExecutable());
        cmd.addAll(Env.jvmFlags());
        cmd.addAll(List.of("-jar", env.sampleJar.toString(), "--server.port=" + port, "--server.address=127.0.0.1"));
        List<String> args = new ArrayList<>(List.of("-d", "session.save_path=" + state.resolve("sessions"),
                "-d", "upload_tmp_dir=" + state.resolve("tmp")));
        if (app.prepend()) {
            args.addAll(List.of("-d", "auto_prepend_file=" + library));
        }
        args.add(apps.resolve(app.worker()).toString());
        for (int i = 0; i < args.size(); i++) {
            cmd.add("--folk.args[" + i + "]=" + args.get(i));
        }
        cmd.addAll(List.of("--folk.size=" + workers, "--folk.pools.default.max-jobs=0", "--folk.max-memory=0",
                "--folk.output=DISCARD", "--logging.level.root=WARN",
                "--folk.env[FOLK_WORKER_PHP]=" + library,
                "--folk.env[FOLK_APP_STATE]=" + state.resolve("app-state"),
                "--folk.env[TMPDIR]=" + state.resolve("tmp"),
                "--folk.http.mappings[0].path=/php/**", "--folk.http.mappings[0].pool=default",
                "--folk.http.mappings[0].strip-prefix=true",
                "--folk.http.document-root=" + dir.resolve("public"),
                "--folk.http.script-filename=" + dir.resolve("public/index.php")));
        app.env().forEach((k, v) -> cmd.add("--folk.env[" + k + "]=" + v));
        Files.createDirectories(logDir);
        Path log = logDir.resolve("sample-app-" + app.name() + ".log");
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    }

    private static void check(String url, String want) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200 || !r.body().contains(want)) {
            throw new IllegalStateException(url + " answered " + r.statusCode() + " '" + Proc.tail(r.body()) + "'");
        }
    }

    /** Removes the session files an application made under {@code work} (its app-state's and PHP's own). */
    private static void clearSessions(Path work) throws IOException {
        for (Path dir : List.of(work.resolve("app-state/framework/sessions"), work.resolve("sessions"))) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (var files = Files.newDirectoryStream(dir)) {
                for (Path file : files) {
                    if (Files.isRegularFile(file) && !file.getFileName().toString().startsWith(".")) {
                        Files.deleteIfExists(file);
                    }
                }
            }
        }
    }
}
