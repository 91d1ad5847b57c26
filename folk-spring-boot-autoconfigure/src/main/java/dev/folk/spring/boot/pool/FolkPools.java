package dev.folk.spring.boot.pool;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.util.DaemonThreads;
import dev.folk.spring.boot.lifecycle.FolkLifecycle;

/**
 * Every worker pool of the application, by name. Closing it closes all pools in parallel; the
 * pools themselves are started by {@link FolkLifecycle}.
 */
public class FolkPools implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FolkPools.class);

    private final Map<String, WorkerPool> pools;
    private final Map<String, Integer> minReady;

    /** Pools that must all be ready (every worker) at start-up. */
    public FolkPools(Collection<WorkerPool> pools) {
        this(pools, Map.of());
    }

    /**
     * @param pools    the pools, in order
     * @param minReady per pool name, the workers that must be ready at start-up (default: its size)
     */
    public FolkPools(Collection<WorkerPool> pools, Map<String, Integer> minReady) {
        Map<String, WorkerPool> byName = new LinkedHashMap<>();
        for (WorkerPool p : pools) {
            if (byName.putIfAbsent(p.name(), p) != null) {
                throw new IllegalArgumentException("Two pools are named '" + p.name() + "'");
            }
        }
        this.pools = Collections.unmodifiableMap(byName);
        this.minReady = Map.copyOf(minReady);
    }

    /** The pool named {@code name}, if any. */
    public Optional<WorkerPool> find(String name) {
        return Optional.ofNullable(pools.get(name));
    }

    /**
     * The pool named {@code name}.
     *
     * @throws IllegalArgumentException if there is none
     */
    public WorkerPool get(String name) {
        WorkerPool pool = pools.get(name);
        if (pool == null) {
            throw new IllegalArgumentException("No Folk pool named '" + name + "'; pools: " + pools.keySet());
        }
        return pool;
    }

    public Set<String> names() {
        return pools.keySet();
    }

    /** All pools by name, in configuration order. */
    public Map<String, WorkerPool> asMap() {
        return pools;
    }

    public Collection<WorkerPool> all() {
        return pools.values();
    }

    /** Workers of {@code pool} that must be ready before start-up completes. */
    public int minReady(WorkerPool pool) {
        Integer n = minReady.get(pool.name());
        return n != null ? n : pool.config().size();
    }

    /**
     * The longest any pool's {@link WorkerPool#close()} can take: drain timeout, close wait and
     * stop grace, plus the few seconds a KILLed group is given.
     */
    public Duration closeBound() {
        Duration max = Duration.ZERO;
        for (WorkerPool p : pools.values()) {
            PoolConfig c = p.config();
            Duration d = c.drainTimeout().plus(c.closeWait()).plus(c.stopGrace());
            if (d.compareTo(max) > 0) {
                max = d;
            }
        }
        return max.plusSeconds(5);
    }

    /**
     * Closes every pool in parallel (each drains, then stops its workers) and waits, bounded by
     * {@link #closeBound()}. Idempotent.
     */
    @Override
    public void close() {
        List<Thread> closers = new ArrayList<>();
        for (WorkerPool pool : pools.values()) {
            Thread t = DaemonThreads.newThread(() -> {
                try {
                    pool.close();
                } catch (RuntimeException e) {
                    log.warn("Closing pool '{}' failed", pool.name(), e);
                }
            }, "folk-close-" + pool.name());
            t.start();
            closers.add(t);
        }
        long deadline = System.nanoTime() + closeBound().toNanos();
        for (Thread t : closers) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (t.isAlive()) {
                log.warn("{} still running after {}; the supervisor's shutdown kills what is left", t.getName(),
                        closeBound());
            }
        }
    }

    @Override
    public String toString() {
        return "FolkPools" + pools.keySet();
    }
}
