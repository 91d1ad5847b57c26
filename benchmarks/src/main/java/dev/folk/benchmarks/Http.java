package dev.folk.benchmarks;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Comparison 3: HTTP end to end. The sample app (Tomcat → the starter's HTTP gateway → pool → PHP,
 * {@code www/worker.php})
 * against nginx + PHP-FPM ({@code fpm/run.sh}, pm = static) with the same number of PHP
 * processes, handlers hello and boot, load from wrk on 127.0.0.1. Both servers run for the
 * whole comparison and take turns; CPU per request is the server side's CPU time over the run
 * (the JVM and its workers from /proc; nginx and FPM from {@code fpm/run.sh cpu}) divided by the
 * requests served.
 */
final class Http {

    /** One server under test. */
    private interface Server {
        String url(String handler);

        double cpuMillis();

        /** The part of {@link #cpuMillis()} spent by the server's front process(es) (JVM; nginx). */
        default double frontCpuMillis() {
            return Double.NaN;
        }
    }

    /** One wrk run. */
    record Wrk(double requestsPerSecond, double p50Micros, double p99Micros, long requests, long errors,
               long non2xx) {
    }

    private final Env env;
    private final Options options;
    private final Quiet quiet;
    private final Path logDir;

    Http(Env env, Options options, Quiet quiet, Path logDir) {
        this.env = env;
        this.options = options;
        this.quiet = quiet;
        this.logDir = logDir;
    }

    Table run() throws Exception {
        Table table = new Table("3", "HTTP: sample app (Tomcat → gateway → pool → PHP) vs nginx + PHP-FPM");
        if (!Files.isRegularFile(env.sampleJar)) {
            return table.failed("the sample app jar " + env.sampleJar + " does not exist (./mvnw -pl sample-app -am "
                    + "-DskipTests package)");
        }
        env.require(env.fpmRun, "part of the checkout");
        int workers = options.httpWorkers;
        int rounds = options.rounds(3);
        Path workdir = env.target.resolve("fpm-work");
        int fpmPort = freePort();
        int appPort = freePort();
        int servletPort = freePort();
        boolean mvcBridge = Files.isRegularFile(env.mvcBridgeJar);
        if (!mvcBridge) {
            Log.info("http: no %s (./mvnw -pl benchmarks -am package): no Spring MVC baseline", env.mvcBridgeJar);
        }
        Process app = null;
        Process servletApp = null;
        Map<String, Map<String, Series>> series = new java.util.LinkedHashMap<>();
        long errors = 0;
        Proc.runAllowingFailure(List.of("bash", env.fpmRun.toString(), "stop", workdir.toString()), 60);
        Process[] started = new Process[2];
        List<Long> daemons = new ArrayList<>();
        // Ctrl-C during the comparison: do not leave nginx, FPM or the app running.
        Thread hook = new Thread(() -> {
            for (Process p : started) {
                if (p != null) {
                    p.destroyForcibly();
                }
            }
            Proc.runAllowingFailure(List.of("bash", env.fpmRun.toString(), "stop", workdir.toString()), 30);
        }, "bench-http-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Log.info("http: starting nginx + PHP-FPM (%d children) on 127.0.0.1:%d", workers, fpmPort);
            Proc.run(List.of("bash", env.fpmRun.toString(), "start", workdir.toString(), Integer.toString(workers),
                    Integer.toString(fpmPort)), 120);
            for (String daemon : List.of("nginx.pid", "php-fpm.pid")) {
                long pid = Long.parseLong(Files.readString(workdir.resolve(daemon)).trim());
                quiet.alsoOurs(pid);
                daemons.add(pid);
            }
            Log.info("http: starting the sample app (%d workers) on 127.0.0.1:%d", workers, appPort);
            app = startApp(appPort, workers, List.of(), "sample-app.log", mvcBridge);
            started[0] = app;
            Process appProcess = app;
            if (options.httpServletToo) {
                // The same app with the gateway as a servlet behind Spring Boot's filters (no filter-order).
                Log.info("http: starting the sample app with the gateway as a servlet on 127.0.0.1:%d", servletPort);
                servletApp = startApp(servletPort, workers, List.of("--folk.http.filter-order="),
                        "sample-app-servlet.log", false);
                started[1] = servletApp;
            }
            Process servletProcess = servletApp;
            Server fpm = new Server() {
                public String url(String handler) {
                    return "http://127.0.0.1:" + fpmPort + "/" + handler + ".php";
                }

                public double cpuMillis() {
                    return Proc.num(Proc.run(List.of("bash", env.fpmRun.toString(), "cpu", workdir.toString()), 60)
                            .kv(), "cpu_ms");
                }
            };
            Server sample = jvmServer(appPort, "php", appProcess);
            // The same JVM's Spring MVC bridge (/mvc/**, see MvcBridge): the path the gateway replaced.
            Server mvc = mvcBridge ? jvmServer(appPort, "mvc", appProcess) : null;
            // The same JVM answering /floor/hello without PHP (ContainerFloor, in the same jar): Tomcat's own cost.
            Server floor = mvcBridge ? jvmServer(appPort, "floor", appProcess) : null;
            Server servlet = servletProcess == null ? null : jvmServer(servletPort, "php", servletProcess);
            List<Server> ours = servlet == null ? List.of(sample) : List.of(sample, servlet);
            awaitApp(app, sample.url("hello"));
            if (servlet != null) {
                awaitApp(servletProcess, servlet.url("hello"));
                for (String h : List.of("hello", "boot")) {
                    check(servlet.url(h), h);
                }
                warmUp(servlet, "the app with the gateway as a servlet");
            }
            for (String h : List.of("hello", "boot")) {
                check(fpm.url(h), h);
                check(sample.url(h), h);
            }
            if (mvc != null) {
                check(mvc.url("hello"), "hello");
                // Its own code paths (Spring MVC, Boot's filters) warm until steady too: after a fixed 20 s
                // its CPU per request still fell from round to round (308, 216, 166 us), flattering the gateway.
                warmUp(mvc, "the Spring MVC bridge");
                check(floor.url("hello"), "hello");
                wrk(floor.url("hello"), 10);
            }
            warmUp(sample, "the app");
            wrk(fpm.url("hello"), 3);
            wrk(fpm.url("boot"), 3);

            for (String side : List.of("app", "servlet", "mvc", "floor", "fpm")) {
                for (String h : List.of("hello", "boot")) {
                    Map<String, Series> m = new java.util.LinkedHashMap<>();
                    for (String metric : List.of("rps", "p50", "p99", "cpu", "front")) {
                        m.put(metric, new Series());
                    }
                    series.put(side + "-" + h, m);
                }
            }
            for (int r = 0; r < rounds; r++) {
                for (String h : List.of("hello", "boot")) {
                    List<Server> order = new ArrayList<>(ours);
                    if (mvc != null && h.equals("hello")) {
                        order.add(mvc);
                        order.add(floor);
                    }
                    order.add(fpm);
                    java.util.Collections.rotate(order, r); // each side first in turn
                    for (Server s : order) {
                        String side = s == sample ? "app" : s == servlet ? "servlet" : s == mvc ? "mvc"
                                : s == floor ? "floor" : "fpm";
                        Map<String, Series> m = series.get(side + "-" + h);
                        wrk(s.url(h), 2); // untimed: connections and caches back after the other side's turn
                        Quiet.Round round = quiet.round("http " + side + " " + h + " round " + (r + 1), m.get("rps"),
                                m.get("p50"), m.get("p99"), m.get("cpu"), m.get("front"));
                        while (round.next()) {
                            double cpu0 = s.cpuMillis();
                            double front0 = s.frontCpuMillis();
                            Wrk w = wrk(s.url(h), options.httpSeconds);
                            double cpu1 = s.cpuMillis();
                            double front1 = s.frontCpuMillis();
                            if (!Double.isNaN(front0)) {
                                m.get("front").add((front1 - front0) * 1000 / Math.max(1, w.requests));
                            }
                            double cpuPerRequest = (cpu1 - cpu0) * 1000 / Math.max(1, w.requests);
                            m.get("rps").add(w.requestsPerSecond);
                            m.get("p50").add(w.p50Micros / 1000);
                            m.get("p99").add(w.p99Micros / 1000);
                            m.get("cpu").add(cpuPerRequest);
                            errors += w.errors + w.non2xx;
                            Log.info("http round %d/%d %s %s: %.0f req/s, p50 %.2f ms, p99 %.2f ms, %.0f us CPU/req",
                                    r + 1, rounds, side, h, w.requestsPerSecond, w.p50Micros / 1000, w.p99Micros / 1000,
                                    cpuPerRequest);
                        }
                    }
                }
            }
        } finally {
            if (app != null) {
                stopApp(app);
            }
            if (servletApp != null) {
                stopApp(servletApp);
            }
            Proc.runAllowingFailure(List.of("bash", env.fpmRun.toString(), "stop", workdir.toString()), 60);
            daemons.forEach(quiet::forget);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }

        table.intro(rounds + " rounds; in each, for each handler, both servers take turns (order alternating), each "
                + "for `wrk -t" + options.httpThreads + " -c" + options.httpConnections + " -d" + options.httpSeconds
                + "s --latency` on 127.0.0.1 after a 2 s untimed run. Before the first round the app is warmed "
                + "until its hello rate is steady (5 s turns of each handler, at least 5, until one gains < 5%). "
                + workers + " PHP processes on each side. Medians over rounds, (min..max).");
        for (String h : List.of("hello", "boot")) {
            table.ratioRow("req/s, " + h, get(series, "app-" + h, "rps"), get(series, "fpm-" + h, "rps"), "/s",
                    h.equals("hello") ? Table.Target.atLeast(1.3) : Table.Target.atLeast(10));
        }
        for (String h : List.of("hello", "boot")) {
            table.ratioRow("p50 latency, " + h, get(series, "app-" + h, "p50"), get(series, "fpm-" + h, "p50"), "ms",
                    null);
            table.ratioRow("p99 latency, " + h, get(series, "app-" + h, "p99"), get(series, "fpm-" + h, "p99"), "ms",
                    null);
        }
        for (String h : List.of("hello", "boot")) {
            table.ratioRow("server CPU per request, " + h, get(series, "app-" + h, "cpu"),
                    get(series, "fpm-" + h, "cpu"), "us", null);
        }
        if (options.httpServletToo) {
            for (String h : List.of("hello", "boot")) {
                table.ratioRow("req/s, " + h + ", gateway as a servlet behind Boot's filters",
                        get(series, "servlet-" + h, "rps"), get(series, "fpm-" + h, "rps"), "/s", null);
            }
            for (String h : List.of("hello", "boot")) {
                table.ratioRow("JVM CPU per request, " + h + ": gateway filter first vs servlet",
                        get(series, "app-" + h, "front"), get(series, "servlet-" + h, "front"), "us", null);
            }
        }
        Series mvcFront = get(series, "mvc-hello", "front");
        if (!mvcFront.isEmpty()) {
            table.ratioRow("JVM CPU per request, hello: gateway vs Spring MVC bridge", get(series, "app-hello", "front"),
                    mvcFront, "us", Table.Target.atMost(0.5));
            table.ratioRow("req/s, hello: gateway vs Spring MVC bridge", get(series, "app-hello", "rps"),
                    get(series, "mvc-hello", "rps"), "/s", null);
            table.note("The Spring MVC bridge (the gateway issue's baseline, \"today's sample app\"): the same JVM "
                    + "serves /mvc/hello through benchmarks' MvcBridge, a @RestController behind Spring Boot's filters "
                    + "making a blocking call per request, as the sample app's PhpBridge did before the gateway; "
                    + "its rounds alternate with the gateway's.");
        }
        Series floorFront = get(series, "floor-hello", "front");
        if (!floorFront.isEmpty()) {
            table.ratioRow("JVM CPU per request, hello: Tomcat alone (no PHP) vs gateway", floorFront,
                    get(series, "app-hello", "front"), "us", null);
            table.ratioRow("req/s, hello: Tomcat alone (no PHP) vs nginx + PHP-FPM", get(series, "floor-hello", "rps"),
                    get(series, "fpm-hello", "rps"), "/s", null);
            table.note("Tomcat alone: the same JVM answers /floor/hello with hello's bytes from a filter ahead of all "
                    + "others, without PHP (benchmarks' ContainerFloor): what Tomcat itself spends on a keep-alive "
                    + "request, which no gateway inside it can go below. A gateway and pool that cost nothing would "
                    + "leave nginx + PHP-FPM spending " + times(ceiling(series)) + " our server CPU per hello "
                    + "request (per round: FPM's CPU per request over Tomcat alone plus what our PHP workers spend "
                    + "per request); wrk shares the cores, so req/s would gain less than that.");
        }
        Series appFront = get(series, "app-hello", "front");
        Series appFrontBoot = get(series, "app-boot", "front");
        if (!appFront.isEmpty()) {
            table.note("Of the sample app's CPU per request, the JVM itself (Tomcat, the gateway, the pool) took "
                    + appFront.format("us") + " for hello and " + appFrontBoot.format("us") + " for boot; the rest is "
                    + "its PHP workers.");
        }
        table.note("Ours: `java -jar sample-app/target/folk-sample-app.jar --folk.args=benchmarks/scripts/fpm/www/worker.php "
                + "--folk.size=" + workers + " --folk.pools.default.max-jobs=0 --folk.output=DISCARD "
                + "--server.tomcat.max-keep-alive-requests=100000` (no recycling, like `pm.max_requests = 0`; "
                + "connections kept as long as nginx's `keepalive_requests 100000`), URLs /php/hello and /php/boot; the worker boots the fake framework once. "
                + "Baseline: `benchmarks/scripts/fpm/run.sh` — nginx (1 worker) + php-fpm8.2, `pm = static`, "
                + workers + " children, unix socket, opcache on; /hello.php and /boot.php (boots the framework on "
                + "every request). Server CPU: the JVM and its PHP workers vs nginx and FPM (masters and children), "
                + "user + system, over the timed run, per request. wrk shares the 2 cores with the server.");
        table.note("Non-2xx responses and socket errors over all runs: " + errors + ".");
        table.note(quiet.summary());
        return table;
    }

    /** A sample app JVM serving the handlers under {@code /<prefix>/}; its front is the JVM, the rest its workers. */
    private static Server jvmServer(int port, String prefix, Process jvm) {
        return new Server() {
            public String url(String handler) {
                return "http://127.0.0.1:" + port + "/" + prefix + "/" + handler;
            }

            public double cpuMillis() {
                return Proc.treeCpuMillis(jvm.pid());
            }

            public double frontCpuMillis() {
                return Proc.cpuMillis(jvm.pid());
            }
        };
    }

    /**
     * Per round: nginx + PHP-FPM's server CPU per hello request over (Tomcat alone + our PHP workers'
     * CPU per request): the CPU ratio a gateway and pool that cost nothing would reach.
     */
    private static Series ceiling(Map<String, Map<String, Series>> m) {
        List<Double> fpm = get(m, "fpm-hello", "cpu").values();
        List<Double> floor = get(m, "floor-hello", "front").values();
        List<Double> app = get(m, "app-hello", "cpu").values();
        List<Double> appFront = get(m, "app-hello", "front").values();
        Series ceiling = new Series();
        for (int i = 0; i < Math.min(Math.min(fpm.size(), floor.size()), Math.min(app.size(), appFront.size())); i++) {
            ceiling.add(fpm.get(i) / (floor.get(i) + app.get(i) - appFront.get(i)));
        }
        return ceiling;
    }

    /** "1.25× (1.12..1.46)": a ratio's median and range. */
    private static String times(Series ratio) {
        return ratio.isEmpty() ? "—" : Series.num(ratio.median()) + "× (" + Series.num(ratio.min()) + ".."
                + Series.num(ratio.max()) + ")";
    }

    private static Series get(Map<String, Map<String, Series>> m, String side, String key) {
        return m.getOrDefault(side, Map.of()).getOrDefault(key, new Series());
    }

    /**
     * Starts the sample app; {@code withMvcBridge}: with the benchmarks' MVC bridge on its class path
     * (Spring Boot's PropertiesLauncher with {@code loader.path}, which runs the jar's Start-Class as
     * {@code java -jar} does).
     */
    private Process startApp(int port, int workers, List<String> extra, String logName, boolean withMvcBridge)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Env.javaExecutable());
        cmd.addAll(Env.jvmFlags());
        if (withMvcBridge) {
            cmd.addAll(List.of("-Dloader.path=" + env.mvcBridgeJar, "-cp", env.sampleJar.toString(),
                    "org.springframework.boot.loader.launch.PropertiesLauncher"));
        } else {
            cmd.addAll(List.of("-jar", env.sampleJar.toString()));
        }
        cmd.addAll(List.of("--server.port=" + port, "--server.address=127.0.0.1",
                "--folk.args=" + Workers.abs(env.fpmWorker), "--folk.size=" + workers,
                "--folk.pools.default.max-jobs=0",
                "--folk.max-memory=0", "--folk.output=DISCARD", "--logging.level.root=WARN",
                // nginx's keep-alive policy in fpm/run.sh (keepalive_requests 100000): with Tomcat's
                // default of 100, wrk would reconnect every 100 requests on our side only.
                "--server.tomcat.max-keep-alive-requests=100000"));
        cmd.addAll(extra);
        Files.createDirectories(logDir);
        Path log = logDir.resolve(logName);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    }

    static void stopApp(Process app) {
        app.destroy(); // SIGTERM: Spring closes the pool
        try {
            if (!app.waitFor(30, TimeUnit.SECONDS)) {
                Log.info("http: the sample app did not stop within 30 s of TERM: KILL");
                app.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void awaitApp(Process app, String url) throws InterruptedException {
        HttpClient client = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!app.isAlive()) {
                throw new IllegalStateException("the sample app exited with " + app.exitValue()
                        + " during start-up (see benchmarks/target/results/*/sample-app.log)");
            }
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("the sample app did not answer " + url + " within 120 s");
    }

    private static void check(String url, String handler) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        String want = handler.equals("hello") ? "Hello from PHP" : "Booted ";
        if (r.statusCode() != 200 || !r.body().startsWith(want)) {
            throw new IllegalStateException(url + " answered " + r.statusCode() + " '" + Proc.tail(r.body()) + "'");
        }
    }

    /**
     * The JIT needs tens of seconds of load before Tomcat and Spring MVC run at their steady speed
     * (on two shared cores the app's hello rate goes from ~2 500 to ~9 000 req/s over the first
     * 40 s, in steps): both handlers in turn, 5 s each, at least 5 turns, then until a turn's hello
     * rate no longer beats the best before it by 5% (at most 12 turns).
     */
    private void warmUp(Server app, String what) {
        if (options.quick) {
            Log.info("http: warming up %s (quick)", what);
            wrk(app.url("hello"), 3);
            wrk(app.url("boot"), 2);
            return;
        }
        double best = 0;
        for (int turn = 1; turn <= 12; turn++) {
            double rate = wrk(app.url("hello"), 5).requestsPerSecond;
            wrk(app.url("boot"), 5);
            Log.info("http: warming up %s, turn %d: hello %.0f req/s", what, turn, rate);
            if (turn >= 5 && rate < 1.05 * best) {
                return;
            }
            best = Math.max(best, rate);
        }
    }

    private Wrk wrk(String url, int seconds) {
        return wrk(options, url, seconds);
    }

    static Wrk wrk(Options options, String url, int seconds) {
        Proc.Result r = Proc.run(List.of("wrk", "-t" + options.httpThreads, "-c" + options.httpConnections,
                "-d" + seconds + "s", "--latency", url), seconds + 60L);
        return parse(r.out());
    }

    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern REQUESTS = Pattern.compile("(\\d+) requests in");
    private static final Pattern PCT = Pattern.compile("^\\s+(50|99)(?:\\.000)?%\\s+([0-9.]+)(us|ms|s)\\s*$",
            Pattern.MULTILINE);
    private static final Pattern SOCKET_ERRORS = Pattern.compile(
            "Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");
    private static final Pattern NON2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");

    static Wrk parse(String out) {
        Matcher m = RPS.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no Requests/sec in wrk's output: " + Proc.tail(out));
        }
        double rps = Double.parseDouble(m.group(1));
        m = REQUESTS.matcher(out);
        long requests = m.find() ? Long.parseLong(m.group(1)) : 0;
        double p50 = Double.NaN;
        double p99 = Double.NaN;
        m = PCT.matcher(out);
        while (m.find()) {
            double v = Double.parseDouble(m.group(2));
            double micros = switch (m.group(3)) {
                case "us" -> v;
                case "ms" -> v * 1000;
                default -> v * 1_000_000;
            };
            if (m.group(1).equals("50")) {
                p50 = micros;
            } else {
                p99 = micros;
            }
        }
        long errors = 0;
        m = SOCKET_ERRORS.matcher(out);
        if (m.find()) {
            for (int i = 1; i <= 4; i++) {
                errors += Long.parseLong(m.group(i));
            }
        }
        m = NON2XX.matcher(out);
        long non2xx = m.find() ? Long.parseLong(m.group(1)) : 0;
        return new Wrk(rps, p50, p99, requests, errors, non2xx);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static String versions() {
        List<String> v = new ArrayList<>();
        for (List<String> cmd : List.of(List.of("nginx", "-v"), List.of("php-fpm8.2", "-v"), List.of("wrk", "-v"))) {
            try {
                Proc.Result r = Proc.runAllowingFailure(cmd, 20);
                String text = (r.out() + r.err()).strip();
                v.add(text.isEmpty() ? cmd.get(0) + " ?" : text.lines().findFirst().orElse(""));
            } catch (RuntimeException e) {
                v.add(cmd.get(0) + " not found");
            }
        }
        return String.join("; ", v);
    }
}
