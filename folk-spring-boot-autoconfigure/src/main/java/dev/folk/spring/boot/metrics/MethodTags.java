package dev.folk.spring.boot.metrics;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The values of the {@code method} tag ({@code folk.metrics.method-tag=true}), at most
 * {@value #MAX_PER_POOL} per pool; calls of any further method are tagged {@value #OTHER}, with one
 * warning per pool. A method name that comes from outside (user input, a typo answered "method not
 * found") would otherwise make new series without end, each kept by the registry for good.
 */
public final class MethodTags {

    /** Distinct methods tagged per pool, as Micrometer's own {@code maximumAllowableTags} would cap them. */
    public static final int MAX_PER_POOL = 100;

    /** The tag of methods past the limit. */
    public static final String OTHER = "other";

    private static final Logger log = LoggerFactory.getLogger(MethodTags.class);

    private final Map<String, Set<String>> byPool = new ConcurrentHashMap<>();
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    /** The tag for {@code method} of {@code pool}: itself, or {@value #OTHER} past the limit. */
    public String tag(String pool, String method) {
        Set<String> methods = byPool.computeIfAbsent(pool, p -> ConcurrentHashMap.newKeySet());
        if (methods.contains(method)) {
            return method;
        }
        // Racing first calls may take a few more than the limit: harmless.
        if (methods.size() < MAX_PER_POOL) {
            methods.add(method);
            return method;
        }
        if (warned.add(pool)) {
            log.warn("Pool '{}': calls of more than {} methods with folk.metrics.method-tag=true; calls of '{}' and of"
                    + " any other new method are tagged method=\"{}\". Does a method name come from user input?",
                    pool, MAX_PER_POOL, method, OTHER);
        }
        return OTHER;
    }
}
