package dev.folk.spring.boot.lifecycle;

import java.util.List;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;

import dev.folk.core.FolkException;
import dev.folk.core.pool.BootFailure;

/**
 * Pools did not get their minimum of ready workers within their boot timeout at start-up.
 * Names each pool and its last failure; {@link FolkStartupFailureAnalyzer} explains it.
 */
public class FolkStartupException extends FolkException {

    private final List<NotReady> pools;

    public FolkStartupException(List<NotReady> pools) {
        super(pools.stream()
                .map(p -> "Pool '" + p.pool() + "' had " + p.ready() + " of " + p.minReady()
                        + " required workers ready after " + p.waited().toMillis() + " ms; last failure: "
                        + (p.lastFailure() == null ? "none recorded" : p.lastFailure()))
                .collect(Collectors.joining("\n")));
        this.pools = List.copyOf(pools);
    }

    public List<NotReady> pools() {
        return pools;
    }

    /**
     * A pool that was not ready in time.
     *
     * @param pool            its name
     * @param ready           workers ready when the wait ended
     * @param minReady        workers required
     * @param waited          how long start-up waited for it
     * @param lastFailure     the pool's last boot or crash failure, or null
     * @param command         the command line of its workers
     * @param lastBootFailure the last failed boot with exit status and output, or null
     * @param bootFailures    failed boots so far
     * @param bootTimeout     the pool's boot timeout (also the longest wait without progress)
     */
    public record NotReady(String pool, long ready, int minReady, java.time.Duration waited, @Nullable String lastFailure,
                           String command, @Nullable BootFailure lastBootFailure, long bootFailures,
                           java.time.Duration bootTimeout) {
    }
}
