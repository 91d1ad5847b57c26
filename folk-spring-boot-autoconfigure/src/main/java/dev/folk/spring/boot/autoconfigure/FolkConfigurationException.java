package dev.folk.spring.boot.autoconfigure;

import java.util.List;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;

import dev.folk.core.FolkException;

/**
 * The {@code folk.*} configuration cannot work: thrown at start-up, before any worker is started.
 * {@link FolkConfigurationFailureAnalyzer} turns it into a description naming each key and value
 * and an action saying what to do.
 */
public class FolkConfigurationException extends FolkException {

    private final List<Violation> violations;

    public FolkConfigurationException(List<Violation> violations) {
        super("Invalid Folk configuration: " + violations.stream().distinct()
                .map(v -> v.key() + "=" + v.value() + ": " + v.problem())
                .collect(Collectors.joining("; ")));
        this.violations = violations.stream().distinct().toList();
    }

    /**
     * Every problem found, in the order of the pools and their keys; once each, though a top-level
     * key every pool inherits is wrong for each of them.
     */
    public List<Violation> violations() {
        return violations;
    }

    /**
     * One wrong setting.
     *
     * @param key     the property to change, e.g. {@code folk.pools.images.size}
     * @param value   its value as configured (or as inherited)
     * @param problem what is wrong with it
     * @param action  what to do about it
     */
    public record Violation(String key, @Nullable Object value, String problem, String action) {
    }
}
