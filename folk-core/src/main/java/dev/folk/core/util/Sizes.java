package dev.folk.core.util;

/**
 * A size as an application's configuration writes it ({@code 512MB}, {@code 8B}), for what
 * operators read beside their {@code application.yml}. What it prints binds back to the same size
 * (Spring's {@code DataSize}: a MB is 1024 KB).
 */
public final class Sizes {

    private Sizes() {
    }

    public static String text(long bytes) {
        return bytes != 0 && bytes % (1024 * 1024) == 0 ? bytes / (1024 * 1024) + "MB" : bytes + "B";
    }
}
