package dev.folk.core.pool;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * What a worker declared it supports, in the {@code features} list of its {@code control.ready}
 * params (docs/PROTOCOL.md). A worker that declares nothing (the Folk SDK, a custom executable) is
 * sent only what the base protocol defines: the pool never relies on a feature it was not told of.
 */
record WorkerFeatures(Set<String> names) {

    static final WorkerFeatures NONE = new WorkerFeatures(Set.of());

    /** Reads {@code {"features": ["name", ...]}}; anything else, or no such key, declares nothing. */
    static WorkerFeatures of(@Nullable Object readyParams) {
        if (!(readyParams instanceof Map<?, ?> map) || !(map.get("features") instanceof List<?> list)
                || list.isEmpty()) {
            return NONE;
        }
        String[] names = list.stream().filter(String.class::isInstance).map(String.class::cast)
                .toArray(String[]::new);
        return names.length == 0 ? NONE : new WorkerFeatures(Set.copyOf(List.of(names)));
    }

    boolean has(String feature) {
        return names.contains(feature);
    }
}
