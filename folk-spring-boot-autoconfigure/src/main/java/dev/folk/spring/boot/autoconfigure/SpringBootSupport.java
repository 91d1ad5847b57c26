package dev.folk.spring.boot.autoconfigure;

import org.jspecify.annotations.Nullable;

import dev.folk.core.FolkException;

/**
 * The Spring Boot versions the starter works with. On Spring Boot 3 the pools and the gateway would
 * start, but the health contributor, the metrics and the JSON mapping are built on Spring Boot 4's
 * modules and their conditions skip them without a word: readiness would ignore the pools and
 * dashboards show nothing. So start-up fails instead, saying why.
 */
public final class SpringBootSupport {

    /** The oldest Spring Boot major version the starter works with. */
    public static final int OLDEST_MAJOR = 4;

    private SpringBootSupport() {
    }

    /**
     * Fails if {@code version} (as {@code SpringBootVersion.getVersion()} gives it) is older than
     * {@link #OLDEST_MAJOR}; a version it cannot read passes, as nothing is known against it.
     *
     * @throws UnsupportedSpringBootException naming the version found and the one needed
     */
    public static void check(@Nullable String version) {
        if (version == null) {
            return;
        }
        int major = major(version);
        if (major >= 0 && major < OLDEST_MAJOR) {
            throw new UnsupportedSpringBootException(version);
        }
    }

    /** The major version of {@code 3.5.16} or {@code 4.1.0-SNAPSHOT}; -1 if there is none. */
    static int major(String version) {
        int end = 0;
        while (end < version.length() && Character.isDigit(version.charAt(end))) {
            end++;
        }
        if (end == 0 || end > 6) {
            return -1;
        }
        return Integer.parseInt(version.substring(0, end));
    }

    /** The application's Spring Boot is older than the starter needs. */
    public static final class UnsupportedSpringBootException extends FolkException {

        private static final long serialVersionUID = 1L;

        private final String version;

        UnsupportedSpringBootException(String version) {
            super("Folk for Spring Boot needs Spring Boot " + OLDEST_MAJOR + ".0 or later, and this application has "
                    + "Spring Boot " + version + ": its Folk health, metrics and JSON would be left out without a "
                    + "word, so no worker was started");
            this.version = version;
        }

        /** The Spring Boot version the application has. */
        public String version() {
            return version;
        }
    }
}
