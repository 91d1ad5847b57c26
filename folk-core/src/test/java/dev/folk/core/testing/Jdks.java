package dev.folk.core.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds a JDK of a given feature release or later for tests that run a child JVM on it (the build
 * itself targets 17). In order: the system property {@code folk.test.jdk21} or the environment
 * variable {@code FOLK_TEST_JDK21} (a JDK home); this JVM, if recent enough; the newest JDK in
 * {@code /usr/lib/jvm} whose {@code release} file says so.
 */
public final class Jdks {

    /** A JDK home and its feature release. */
    public record Jdk(Path home, int feature) {
    }

    private static final Pattern VERSION = Pattern.compile("^JAVA_VERSION=\"(\\d+)", Pattern.MULTILINE);

    private Jdks() {
    }

    /**
     * A JDK of {@code minimum} or later. None found: the test is skipped with the reason, except
     * on CI ({@code CI=true}), where it fails, so CI never silently skips what needs a newer JDK.
     */
    public static Jdk require(int minimum) {
        Optional<Jdk> jdk = find(minimum);
        if (jdk.isEmpty()) {
            String why = "needs a JDK " + minimum + "+: set -Dfolk.test.jdk21 or FOLK_TEST_JDK21 to its home, or install"
                    + " one under /usr/lib/jvm";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(why + " (CI=true: this test must run on CI)");
            }
            Assumptions.abort(why);
        }
        return jdk.get();
    }

    public static Optional<Jdk> find(int minimum) {
        String given = System.getProperty("folk.test.jdk21", System.getenv("FOLK_TEST_JDK21"));
        if (given != null && !given.isBlank()) {
            Jdk jdk = read(Path.of(given))
                    .orElseThrow(() -> new IllegalStateException("no JDK with a release file at " + given));
            if (jdk.feature() < minimum) {
                throw new IllegalStateException("the JDK at " + given + " is " + jdk.feature() + ", not " + minimum + "+");
            }
            return Optional.of(jdk);
        }
        if (Runtime.version().feature() >= minimum) {
            return Optional.of(new Jdk(Path.of(System.getProperty("java.home")), Runtime.version().feature()));
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        try (Stream<Path> homes = Files.list(jvms)) {
            List<Jdk> found = homes.map(Jdks::read).flatMap(Optional::stream)
                    .filter(j -> j.feature() >= minimum && Files.isExecutable(j.home().resolve("bin/java")))
                    .toList();
            return found.stream().max(Comparator.comparingInt(Jdk::feature));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Jdk> read(Path home) {
        try {
            Matcher m = VERSION.matcher(Files.readString(home.resolve("release")));
            return m.find() ? Optional.of(new Jdk(home, Integer.parseInt(m.group(1)))) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
