package dev.folk.core.util;

import java.time.Duration;

/**
 * A duration as an application's configuration writes it ({@code 500ms}, {@code 30s}, {@code 2m}),
 * for the messages operators read beside their {@code application.yml}, instead of
 * {@link Duration#toString()}'s {@code PT0.5S}. What it prints binds back to the same duration.
 */
public final class Durations {

    private Durations() {
    }

    public static String text(Duration d) {
        long nanos;
        try {
            nanos = d.toNanos();
        } catch (ArithmeticException tooLong) {
            return d.toSeconds() + "s";
        }
        if (nanos % 1_000_000 != 0) {
            return nanos % 1000 == 0 ? nanos / 1000 + "us" : nanos + "ns";
        }
        long millis = nanos / 1_000_000;
        if (millis == 0 || millis % 1000 != 0) {
            return millis + "ms";
        }
        long seconds = millis / 1000;
        if (seconds % 3600 == 0) {
            return seconds / 3600 + "h";
        }
        return seconds % 60 == 0 ? seconds / 60 + "m" : seconds + "s";
    }
}
