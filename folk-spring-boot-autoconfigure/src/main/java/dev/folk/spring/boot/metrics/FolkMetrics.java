package dev.folk.spring.boot.metrics;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import java.time.Duration;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;

import org.jspecify.annotations.Nullable;

import dev.folk.core.pool.CallOutcome;
import dev.folk.core.pool.ExitReason;
import dev.folk.core.pool.ExitRecord;
import dev.folk.core.pool.PoolListener;
import dev.folk.core.pool.PoolSnapshot;
import dev.folk.core.pool.WorkerInfo;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;
import dev.folk.core.util.Preload;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * Micrometer meters of every pool. Every meter has the tag {@code pool}; tags are bounded (no
 * pid; {@code method} only with {@code folk.metrics.method-tag=true}).
 *
 * <table>
 *   <caption>Meters (Prometheus name in brackets)</caption>
 *   <tr><td>{@code folk.pool.size} (folk_pool_size)</td><td>gauge: configured workers</td></tr>
 *   <tr><td>{@code folk.workers} (folk_workers)</td><td>gauge: live workers, tag {@code state} =
 *       starting, idle, busy, stopping</td></tr>
 *   <tr><td>{@code folk.calls.queued} (folk_calls_queued)</td><td>gauge: calls waiting for a worker</td></tr>
 *   <tr><td>{@code folk.workers.spawned} (folk_workers_spawned_total)</td><td>counter: workers spawned</td></tr>
 *   <tr><td>{@code folk.calls.slow} (folk_calls_slow_total)</td><td>counter: calls that ran past
 *       slow-call-threshold (each logged once with the worker's PHP stack)</td></tr>
 *   <tr><td>{@code folk.workers.boot.failures} (folk_workers_boot_failures_total)</td><td>counter:
 *       failed boots</td></tr>
 *   <tr><td>{@code folk.workers.exited} (folk_workers_exited_total)</td><td>counter: workers that left,
 *       tag {@code reason} (crash, max-jobs, memory, shutdown, ...)</td></tr>
 *   <tr><td>{@code folk.workers.memory.used} (folk_workers_memory_used_bytes)</td><td>gauge: sum of the
 *       workers' resident memory</td></tr>
 *   <tr><td>{@code folk.workers.memory.largest} (folk_workers_memory_largest_bytes)</td><td>gauge:
 *       the largest worker's resident memory</td></tr>
 *   <tr><td>{@code folk.call.wait} (folk_call_wait_seconds)</td><td>timer: time a call waited for a
 *       worker, tag {@code outcome}; with histogram buckets from 1 ms to 10 s ({@link #WAIT_BUCKETS})</td></tr>
 *   <tr><td>{@code folk.pool.size.target}, {@code .current}, {@code .min}, {@code .max}
 *       (folk_pool_size_target...)</td><td>gauges: workers wanted now, workers starting or serving
 *       now, and an elastic pool's bounds (all equal to the size for a fixed pool)</td></tr>
 *   <tr><td>{@code folk.calls.queued.max} (folk_calls_queued_max)</td><td>gauge: longest queue within
 *       the last 1-2 minutes</td></tr>
 *   <tr><td>{@code folk.workers.busy.max} (folk_workers_busy_max)</td><td>gauge: most calls running at
 *       once within the last 1-2 minutes</td></tr>
 *   <tr><td>{@code folk.calls.no.free.worker} (folk_calls_no_free_worker_total)</td><td>counter: calls
 *       that found no idle worker and had to queue or were refused</td></tr>
 *   <tr><td>{@code folk.worker.boot} (folk_worker_boot_seconds)</td><td>timer: spawn to ready of each
 *       worker</td></tr>
 *   <tr><td>{@code folk.worker.calls} (folk_worker_calls)</td><td>distribution: calls each worker
 *       served, recorded when it exits</td></tr>
 *   <tr><td>{@code folk.call.execution} (folk_call_execution_seconds)</td><td>timer: time a call ran
 *       on its worker, tag {@code outcome} (calls that never reached a worker are not recorded)</td></tr>
 * </table>
 */
public class FolkMetrics implements MeterBinder {

    /**
     * Buckets of {@code folk.call.wait}, published as a Prometheus histogram by default (a bounded
     * set, unlike percentiles-histogram's ~70 per outcome); override with
     * {@code management.metrics.distribution.slo.folk.call.wait} or turn on
     * {@code management.metrics.distribution.percentiles-histogram.folk.call.wait}.
     */
    public static final Duration[] WAIT_BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
        Duration.ofSeconds(10)};

    /** How long one snapshot of a pool serves the gauges, so a scrape takes one snapshot per pool. */
    private static final long SNAPSHOT_TTL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final FolkPools pools;
    private final boolean methodTag;
    /** Function counters hold their state weakly: the binder keeps it alive. */
    private final List<Snapshots> held = new CopyOnWriteArrayList<>();

    public FolkMetrics(FolkPools pools, boolean methodTag) {
        this.pools = pools;
        this.methodTag = methodTag;
        // A call the pools' close cuts short is recorded after a deploy may have overwritten the jar.
        Preload.classes(FolkMetrics.class);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (WorkerPool pool : pools.all()) {
            bind(pool, registry);
        }
    }

    private void bind(WorkerPool pool, MeterRegistry registry) {
        Tags tags = Tags.of("pool", pool.name());
        // Meters hold their state objects weakly by default: these must live as long as the meters.
        Snapshots snapshots = new Snapshots(pool);
        held.add(snapshots);

        Gauge.builder("folk.pool.size", pool, p -> p.config().size()).tags(tags)
                .description("Configured number of workers of the pool (an elastic pool's starting size)").strongReference(true).register(registry);
        for (WorkerState state : WorkerState.values()) {
            Gauge.builder("folk.workers", snapshots, s -> s.get().count(state)).tags(tags)
                    .tag("state", state.name().toLowerCase(Locale.ROOT))
                    .description("Live workers of the pool by state").strongReference(true).register(registry);
        }
        Gauge.builder("folk.calls.queued", pool, WorkerPool::queueLength).tags(tags)
                .description("Calls waiting for a free worker").strongReference(true).register(registry);
        FunctionCounter.builder("folk.workers.spawned", snapshots, s -> s.get().spawns()).tags(tags)
                .description("Workers spawned").register(registry);
        FunctionCounter.builder("folk.calls.slow", snapshots, s -> s.get().slowCalls()).tags(tags)
                .description("Calls that ran past slow-call-threshold").register(registry);
        FunctionCounter.builder("folk.workers.boot.failures", snapshots, s -> s.get().bootFailures()).tags(tags)
                .description("Worker boots that failed (spawn errors, missed handshakes)").register(registry);
        for (ExitReason reason : ExitReason.values()) {
            FunctionCounter.builder("folk.workers.exited", snapshots, s -> s.get().exits().getOrDefault(reason, 0L))
                    .tags(tags).tag("reason", reason.tag())
                    .description("Workers that left the pool, by reason").register(registry);
        }
        Gauge.builder("folk.workers.memory.used", snapshots, s -> memory(s.get(), false)).tags(tags)
                .baseUnit(BaseUnits.BYTES).description("Sum of the resident memory of the pool's workers")
                .strongReference(true).register(registry);
        Gauge.builder("folk.workers.memory.largest", snapshots, s -> memory(s.get(), true)).tags(tags)
                .baseUnit(BaseUnits.BYTES).description("Resident memory of the pool's largest worker")
                .strongReference(true).register(registry);
        bindSaturation(pool, snapshots, registry, tags);
        pool.addListener(new CallTimers(registry, tags, methodTag));
    }

    /** Size (target, current, bounds) and saturation: what PHP-FPM's status page shows. */
    private void bindSaturation(WorkerPool pool, Snapshots snapshots, MeterRegistry registry, Tags tags) {
        Gauge.builder("folk.pool.size.target", snapshots, s -> s.get().sizing().target()).tags(tags)
                .description("Workers the pool wants now (between min and max for an elastic pool)")
                .strongReference(true).register(registry);
        Gauge.builder("folk.pool.size.current", snapshots, s -> s.get().currentSize()).tags(tags)
                .description("Workers starting, idle or busy now").strongReference(true).register(registry);
        Gauge.builder("folk.pool.size.min", pool, p -> p.config().minSize()).tags(tags)
                .description("Fewest workers the pool keeps").strongReference(true).register(registry);
        Gauge.builder("folk.pool.size.max", pool, p -> p.config().maxSize()).tags(tags)
                .description("Most workers the pool runs").strongReference(true).register(registry);
        // Recent maxima, not since start: a scrape sees a spike between scrapes, and the value falls back after it.
        Gauge.builder("folk.calls.queued.max", snapshots, s -> s.get().saturation().recentMaxQueueLength()).tags(tags)
                .description("Longest queue of calls waiting for a worker within the last 1-2 minutes")
                .strongReference(true).register(registry);
        Gauge.builder("folk.workers.busy.max", snapshots, s -> s.get().saturation().recentMaxBusy()).tags(tags)
                .description("Most calls running at once within the last 1-2 minutes")
                .strongReference(true).register(registry);
        FunctionCounter.builder("folk.calls.no.free.worker", snapshots, s -> s.get().saturation().noFreeWorker())
                .tags(tags).description("Calls that found no idle worker and had to queue or were refused")
                .register(registry);
        pool.addListener(new WorkerMeters(registry, tags));
    }

    private static double memory(PoolSnapshot s, boolean largest) {
        long sum = 0;
        long max = 0;
        for (WorkerInfo w : s.workers()) {
            if (w.rssBytes() > 0) {
                sum += w.rssBytes();
                max = Math.max(max, w.rssBytes());
            }
        }
        return largest ? max : sum;
    }

    /** A pool's snapshot, reused for {@link #SNAPSHOT_TTL_NANOS}. */
    static final class Snapshots {
        private final WorkerPool pool;
        private volatile @Nullable PoolSnapshot last;
        private volatile long takenAt;

        Snapshots(WorkerPool pool) {
            this.pool = pool;
        }

        PoolSnapshot get() {
            PoolSnapshot s = last;
            long now = System.nanoTime();
            if (s == null || now - takenAt > SNAPSHOT_TTL_NANOS) {
                s = pool.snapshot();
                last = s;
                takenAt = now;
            }
            return s;
        }
    }

    /** {@code folk.call.wait} with its histogram buckets. */
    static Timer.Builder waitTimer(Tags tags) {
        return Timer.builder("folk.call.wait").tags(tags).description("Time calls waited for a free worker")
                .serviceLevelObjectives(WAIT_BUCKETS);
    }

    /** Boot time and calls served per worker, from the pool's events; no pid tag. */
    static final class WorkerMeters implements PoolListener {
        private final Timer boot;
        private final DistributionSummary callsServed;

        WorkerMeters(MeterRegistry registry, Tags tags) {
            this.boot = Timer.builder("folk.worker.boot").tags(tags)
                    .description("Time from spawn to ready (handshake) of each worker").register(registry);
            this.callsServed = DistributionSummary.builder("folk.worker.calls").tags(tags).baseUnit("calls")
                    .description("Calls each worker served, recorded when it exits").register(registry);
        }

        @Override
        public void workerStarted(WorkerPool pool, int pid, long bootNanos) {
            boot.record(Math.max(0, bootNanos), TimeUnit.NANOSECONDS);
        }

        @Override
        public void workerExited(WorkerPool pool, ExitRecord exit) {
            if (exit.reason() != ExitReason.BOOT_FAILURE) { // never served: no worker's lifetime of calls
                callsServed.record(exit.jobs());
            }
        }
    }

    /** Records the call timers from the pool's events. */
    static final class CallTimers implements PoolListener {
        private final MeterRegistry registry;
        private final Tags tags;
        private final boolean methodTag;
        private final Map<Key, Timers> timers = new ConcurrentHashMap<>();
        private final MethodTags methods = new MethodTags();

        /**
         * The outcomes whose wait timers exist from the start, at zero. Prometheus takes a series'
         * first sample as its baseline: an outcome first seen in an incident (the first
         * acquire-timeouts of a saturated pool) would add nothing to rate() or increase(), and the
         * wait's quantile alert would miss it. Each costs ~20 series a pool; the other outcomes wait
         * as calls that succeed do, so their first ones shift no quantile.
         */
        static final List<CallOutcome> REGISTERED_AT_START = List.of(CallOutcome.SUCCESS, CallOutcome.ACQUIRE_TIMEOUT,
                CallOutcome.QUEUE_FULL, CallOutcome.NO_WORKER);

        CallTimers(MeterRegistry registry, Tags tags, boolean methodTag) {
            this.registry = registry;
            this.tags = tags;
            this.methodTag = methodTag;
            if (!methodTag) { // with a method tag, the methods are not known before their calls
                for (CallOutcome outcome : REGISTERED_AT_START) {
                    Key key = new Key(outcome, null);
                    timers.put(key, new Timers(waitTimer(tags(key)).register(registry)));
                }
            }
        }

        private record Key(CallOutcome outcome, @Nullable String method) {
        }

        /** An outcome's (and method's) timers; its execution timer comes with its first call that ran. */
        private static final class Timers {
            final Timer wait;
            volatile @Nullable Timer execution;

            Timers(Timer wait) {
                this.wait = wait;
            }
        }

        @Override
        public void callCompleted(WorkerPool pool, String method, CallOutcome outcome, long waitNanos,
                                  long execNanos) {
            Key key = new Key(outcome, methodTag ? methods.tag(pool.name(), String.valueOf(method)) : null);
            Timers t = timers.computeIfAbsent(key, k -> new Timers(waitTimer(tags(k)).register(registry)));
            t.wait.record(Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
            if (execNanos > 0) {
                Timer execution = t.execution;
                if (execution == null) {
                    // Made by the first call of its outcome that ran: outcomes that never reach a
                    // worker (acquire-timeout, queue-full) must not show an execution timer of zeros.
                    // A race makes it twice; the registry gives both the same timer.
                    execution = Timer.builder("folk.call.execution").tags(tags(key))
                            .description("Time calls ran on their worker").register(registry);
                    t.execution = execution;
                }
                execution.record(execNanos, TimeUnit.NANOSECONDS);
            }
        }

        private Tags tags(Key key) {
            Tags t = tags.and("outcome", key.outcome().tag());
            return key.method() == null ? t : t.and("method", key.method());
        }
    }
}
