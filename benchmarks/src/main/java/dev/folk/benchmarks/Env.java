package dev.folk.benchmarks;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Where everything is: the checkout, the native programs, PHP, the sample app, the JVM to fork. */
final class Env {

    final Path root;
    final Path nativeDir;
    final Path cEcho;
    final Path tiny;
    final Path pingpong;
    final Path master;
    final Path spawnC;
    final Path phpEcho;
    final Path fpmRun;
    final Path fpmWorker;
    final Path sampleJar;
    /** The MVC bridge (dev.folk.benchmarks.mvc) alone, for the sample app's loader.path. */
    final Path mvcBridgeJar;
    final Path target;
    final String php;

    private Env(Path root) {
        this.root = root;
        this.target = root.resolve("benchmarks/target");
        this.nativeDir = target.resolve("native");
        this.cEcho = nativeDir.resolve("echo-worker");
        this.tiny = nativeDir.resolve("tiny");
        this.pingpong = nativeDir.resolve("pingpong");
        this.master = nativeDir.resolve("master");
        this.spawnC = nativeDir.resolve("spawn");
        this.phpEcho = root.resolve("folk-worker-php/src/main/php/bin/echo-worker.php");
        this.fpmRun = root.resolve("benchmarks/scripts/fpm/run.sh");
        this.fpmWorker = root.resolve("benchmarks/scripts/fpm/www/worker.php");
        this.sampleJar = root.resolve("sample-app/target/folk-sample-app.jar");
        this.mvcBridgeJar = mvcBridge(target);
        this.php = onPath(System.getenv().getOrDefault("PHP", "php"));
    }

    /** benchmarks/target/folk-benchmarks-<version>-mvc-bridge.jar, or a path that does not exist. */
    private static Path mvcBridge(Path target) {
        Path absent = target.resolve("folk-benchmarks-mvc-bridge.jar");
        try (var files = Files.list(target)) {
            return files.filter(f -> f.getFileName().toString().endsWith("-mvc-bridge.jar")).findFirst().orElse(absent);
        } catch (java.io.IOException e) {
            return absent; // no target directory: nothing built yet
        }
    }

    /**
     * The checkout: {@code -Dfolk.bench.root}, else two levels above the runner's jar
     * (benchmarks/target/folk-benchmarks.jar), else the working directory.
     */
    static Env detect() {
        String prop = System.getProperty("folk.bench.root");
        if (prop != null && !prop.isEmpty()) {
            return new Env(Path.of(prop).toAbsolutePath().normalize());
        }
        try {
            Path jar = Path.of(Env.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path candidate = jar.getParent() == null ? null : jar.getParent().getParent();
            if (candidate != null && candidate.getParent() != null
                    && Files.isRegularFile(candidate.getParent().resolve("folk-core/pom.xml"))) {
                return new Env(candidate.getParent().toAbsolutePath().normalize());
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall through
        }
        return new Env(Path.of("").toAbsolutePath());
    }

    /** Fails with a message naming what is missing and how to get it. */
    void require(Path path, String how) {
        if (!Files.exists(path)) {
            throw new IllegalStateException("missing " + path + " (" + how + ")");
        }
    }

    void requireNative() {
        for (Path p : List.of(cEcho, tiny, pingpong, master, spawnC)) {
            require(p, "run benchmarks/scripts/build-native.sh");
        }
    }

    /** The JVM running us, to start child JVMs (memory probes, the sample app) the same way. */
    static String javaExecutable() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** The flags our code needs on this JVM: native access, and on Java 24+ sun.misc.Unsafe access. */
    static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>();
        flags.add("--enable-native-access=ALL-UNNAMED");
        if (Runtime.version().feature() >= 24) {
            flags.add("--sun-misc-unsafe-memory-access=allow");
        }
        return flags;
    }

    /** The runner's own jar (or classes directory), for child JVMs. */
    static String classPath() {
        return System.getProperty("java.class.path");
    }

    private static String onPath(String name) {
        if (name.contains("/")) {
            return name;
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(p)) {
                return p.toAbsolutePath().toString();
            }
        }
        return name;
    }
}
