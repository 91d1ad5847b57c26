package dev.folk.spring.boot.actuate.endpoint;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

import dev.folk.core.pool.CallOutcome;
import dev.folk.core.pool.ExitReason;
import dev.folk.core.pool.ExitRecord;
import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.PoolSnapshot;
import dev.folk.core.pool.WorkerInfo;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;
import dev.folk.core.util.Sizes;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * The {@code workers} actuator endpoint.
 *
 * <ul>
 *   <li>{@code GET /actuator/workers}: every pool with its workers (pid, state, jobs, age, RSS,
 *       current method and elapsed time) and its recent exits with their reasons;</li>
 *   <li>{@code GET /actuator/workers/{pool}}: one pool (404 if unknown);</li>
 *   <li>{@code POST /actuator/workers/{pool}}: rolling reset of the pool (every worker replaced,
 *       one at a time, a new one ready before an old one leaves);</li>
 *   <li>{@code DELETE /actuator/workers/{pool}/{pid}}: recycle that worker (after its current
 *       call if busy). Only a pid of that pool's live workers is accepted; anything else is a 404
 *       and nothing is signalled.</li>
 * </ul>
 * Default access is read-only: the write and delete operations exist only with
 * {@code management.endpoint.workers.access=unrestricted}.
 */
@Endpoint(id = "workers", defaultAccess = Access.READ_ONLY)
public class WorkersEndpoint {

    private static final Logger log = LoggerFactory.getLogger(WorkersEndpoint.class);

    private final FolkPools pools;

    public WorkersEndpoint(FolkPools pools) {
        this.pools = pools;
    }

    @ReadOperation
    public WorkersDescriptor workers() {
        Map<String, PoolDescriptor> all = new LinkedHashMap<>();
        for (WorkerPool pool : pools.all()) {
            all.put(pool.name(), describe(pool.snapshot(), pool.config()));
        }
        return new WorkersDescriptor(all);
    }

    /** One pool, or null (404 over HTTP) if there is no such pool. */
    @ReadOperation
    public @Nullable PoolDescriptor pool(@Selector String pool) {
        return pools.find(pool).map(p -> describe(p.snapshot(), p.config())).orElse(null);
    }

    /** Starts a rolling reset; null if there is no such pool. */
    @WriteOperation
    public @Nullable ResetDescriptor reset(@Selector String pool) {
        Optional<WorkerPool> p = pools.find(pool);
        if (p.isEmpty()) {
            return null;
        }
        int workers = p.get().snapshot().workers().size();
        p.get().reset().whenComplete((done, failure) -> {
            if (failure != null) { // the caller had its 202 long before: the log is where this is said
                log.warn("Pool '{}': the rolling reset asked through the actuator did not complete: {}. The workers"
                        + " left keep serving; ask again once the cause is fixed.", pool, failure.getMessage());
            }
        });
        return new ResetDescriptor(pool, workers, "started");
    }

    /** Recycles worker {@code pid} of {@code pool}; null (and nothing done) if it is not one of its workers. */
    @DeleteOperation
    public @Nullable RecycleDescriptor recycle(@Selector String pool, @Selector String pid) {
        Optional<WorkerPool> p = pools.find(pool);
        int number;
        try {
            number = Integer.parseInt(pid);
        } catch (NumberFormatException e) {
            return null;
        }
        if (p.isEmpty() || number <= 0 || !p.get().recycle(number)) {
            return null;
        }
        return new RecycleDescriptor(pool, number, "recycling");
    }

    static PoolDescriptor describe(PoolSnapshot s, PoolConfig config) {
        Instant now = s.takenAt();
        List<WorkerDescriptor> workers = new ArrayList<>();
        for (WorkerInfo w : s.workers()) {
            workers.add(new WorkerDescriptor(w.pid(), tag(w.state()), w.jobs(), String.valueOf(w.startedAt()),
                    w.age(now).toMillis(), w.lastUsedAt() == null ? null : w.lastUsedAt().toString(),
                    w.rssBytes() < 0 ? null : w.rssBytes(), w.currentMethod(),
                    w.currentElapsed() == null ? null : w.currentElapsed().toMillis(), w.currentLabel()));
        }
        List<ExitDescriptor> exits = new ArrayList<>();
        for (ExitRecord e : s.recentExits()) {
            exits.add(new ExitDescriptor(e.pid(), e.reason().tag(), e.status(), e.jobs(), String.valueOf(e.at())));
        }
        Map<String, Long> calls = new LinkedHashMap<>();
        s.calls().forEach((CallOutcome o, Long n) -> calls.put(o.tag(), n));
        Map<String, Long> exitCounts = new LinkedHashMap<>();
        s.exits().forEach((ExitReason r, Long n) -> exitCounts.put(r.tag(), n));
        return new PoolDescriptor(s.name(), s.state().name(), s.size(), s.ready(), s.count(WorkerState.BUSY),
                s.count(WorkerState.IDLE), s.count(WorkerState.STARTING), s.count(WorkerState.STOPPING),
                s.queueLength(), s.spawns(), s.bootFailures(), s.lastFailure(),
                s.lastFailureAt() == null ? null : s.lastFailureAt().toString(), calls, exitCounts, workers, exits,
                s.slowCalls(),
                new SizingDescriptor(s.sizing().elastic(), s.sizing().min(), s.sizing().max(), s.sizing().target(),
                        s.currentSize()),
                saturation(s.saturation()), settings(config));
    }

    /**
     * The sizes, limits and timeouts the pool runs with, by their keys: a pool's own and those it
     * takes from the top level merged (configprops shows a pool's entry as bound, with the defaults
     * of the keys it does not set, not what it inherits). Not its command line or environment,
     * which may hold secrets ({@code -d mysqli.default_pw=...}) that configprops masks.
     */
    static Map<String, Object> settings(PoolConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("size", c.size());
        m.put("min-size", c.minSize());
        m.put("max-size", c.maxSize());
        m.put("grow-after", c.growAfter().toString());
        m.put("max-jobs", c.maxJobs());
        m.put("max-jobs-jitter", c.maxJobsJitter());
        m.put("max-lifetime", c.maxLifetime().toString());
        m.put("max-idle", c.maxIdle().toString());
        m.put("max-memory", Sizes.text(c.maxMemoryBytes()));
        m.put("memory-limit", Sizes.text(c.memoryLimitBytes()));
        m.put("memory-check-interval", c.memoryCheckInterval().toString());
        m.put("boot-timeout", c.bootTimeout().toString());
        m.put("exec-timeout", c.execTimeout().toString());
        m.put("acquire-timeout", c.acquireTimeout().toString());
        m.put("max-queue", c.maxQueue());
        m.put("slow-call-threshold", c.slowCallThreshold().toString());
        m.put("drain-timeout", c.drainTimeout().toString());
        m.put("close-wait", c.closeWait().toString());
        m.put("stop-grace", c.stopGrace().toString());
        m.put("max-frame-length", Sizes.text(c.maxFrameLength()));
        return m;
    }

    private static SaturationDescriptor saturation(PoolSnapshot.Saturation s) {
        return new SaturationDescriptor(s.busy(), s.maxBusy(), s.recentMaxBusy(), s.maxQueueLength(),
                s.recentMaxQueueLength(), s.noFreeWorker());
    }

    private static String tag(WorkerState state) {
        return state.name().toLowerCase(Locale.ROOT);
    }

    /** Every pool by name. */
    public record WorkersDescriptor(Map<String, PoolDescriptor> pools) implements OperationResponseBody {
    }

    /**
     * One pool.
     *
     * @param lastFailure   the last boot or crash failure, or null
 * @param lastFailureAt when it happened (ISO-8601), or null
 * @param calls       calls so far by outcome
     * @param exits       workers that left so far, by reason
     * @param recentExits the latest exits, newest first
     * @param slowCalls   calls that ran past slow-call-threshold (each logged with the PHP stack)
     * @param sizing      the pool's size now and its bounds
     * @param saturation  how close it came to running out of workers
     * @param settings    the settings it runs with (its own and those it takes from the top level), by key
     */
    public record PoolDescriptor(String name, String state, int size, long ready, long busy, long idle, long starting,
                                 long stopping, int queued, long spawns, long bootFailures, @Nullable String lastFailure,
                                 @Nullable String lastFailureAt,
                                 Map<String, Long> calls, Map<String, Long> exits, List<WorkerDescriptor> workers,
                                 List<ExitDescriptor> recentExits, long slowCalls,
                                 SizingDescriptor sizing,
                                 SaturationDescriptor saturation, Map<String, Object> settings)
            implements OperationResponseBody {
    }

    /**
     * The size of a pool: for a fixed pool min = max = target = its size.
     *
     * @param elastic whether it grows and shrinks between min and max
     * @param target  workers it wants now
     * @param current workers starting, idle or busy now
     */
    public record SizingDescriptor(boolean elastic, int min, int max, int target, long current) {
    }

    /**
     * PHP-FPM's status page for a pool: maxima since start, and "recent" over the last 1-2 minutes.
     *
     * @param busy           calls running on a worker now
     * @param maxBusy        most calls running at once
     * @param maxQueued      longest the queue has been
     * @param noFreeWorker   calls that found no idle worker and had to queue or were refused
     */
    public record SaturationDescriptor(int busy, int maxBusy, int recentMaxBusy, int maxQueued, int recentMaxQueued,
                                       long noFreeWorker) {
    }

    /**
     * One live worker.
     *
     * @param ageMillis            time since it was spawned
     * @param rssBytes             resident memory at the last sample, null before the first
     * @param currentMethod        the method of its call in progress, or null
     * @param currentElapsedMillis how long that call has run, or null
     * @param currentCall          what that call is about as its caller labelled it (for HTTP, the
     *                             request line, e.g. {@code GET /php/hello}), or null
     */
    public record WorkerDescriptor(int pid, String state, long jobs, String startedAt, long ageMillis,
                                   @Nullable String lastUsedAt, @Nullable Long rssBytes,
                                   @Nullable String currentMethod, @Nullable Long currentElapsedMillis,
                                   @Nullable String currentCall) {
    }

    /** A worker that left: why ({@code reason}) and how it ended ({@code status}). */
    public record ExitDescriptor(int pid, String reason, String status, long jobs, String at) {
    }

    /** A rolling reset was started. */
    public record ResetDescriptor(String pool, int workers, String reset) implements OperationResponseBody {
    }

    /** A worker is being recycled. */
    public record RecycleDescriptor(String pool, int pid, String state) implements OperationResponseBody {
    }
}
