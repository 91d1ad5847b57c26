package dev.folk.spring.boot.health;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

import dev.folk.core.pool.BootFailure;
import dev.folk.core.pool.PoolSnapshot;
import dev.folk.core.pool.WorkerInfo;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;

/**
 * Health of one pool:
 * <ul>
 *   <li>DOWN when no worker is alive, or the pool is BROKEN (repeated boot failures) with no
 *       worker ready;</li>
 *   <li>UP when at least one worker is ready (idle or busy), a BROKEN pool's included: it serves
 *       with the workers it has (those of before a broken deploy or edit), and taking the instance
 *       out of service (readiness that includes {@code folk}) would only turn a pool that cannot
 *       grow into one that serves nobody; its {@code state} detail says BROKEN, with the last
 *       failure. And UP when an elastic pool with
 *       min-size 0 has let every worker go while idle: it starts one for the next call, as
 *       PHP-FPM's {@code pm = ondemand} does, so an idle instance is not reported down;</li>
 *   <li>OUT_OF_SERVICE while it drains or after it closed, and while its only workers are still
 *       starting;</li>
 *   <li>UNKNOWN before it is started.</li>
 * </ul>
 * Details: state, size, ready, busy, idle, starting, queued calls, the longest queue and most busy
 * workers since start, calls that found no free worker, an elastic pool's bounds and target, the last failure (with
 * the last lines the worker printed, when it failed to boot), and what each
 * busy worker is doing when its caller labelled the call (for the HTTP gateway, the request line).
 */
public class PoolHealthIndicator implements HealthIndicator {

    private final WorkerPool pool;

    public PoolHealthIndicator(WorkerPool pool) {
        this.pool = pool;
    }

    @Override
    public Health health() {
        PoolSnapshot s = pool.snapshot();
        long ready = s.ready();
        long starting = s.count(WorkerState.STARTING);
        long alive = ready + starting;
        // Scaled to zero: nothing alive because nothing is wanted, not because workers fail (a pool
        // whose workers died wants them back: its target stays above 0 while they are replaced).
        boolean scaledToZero = s.sizing().elastic() && s.sizing().target() == 0 && alive == 0;
        Health.Builder b = switch (s.state()) {
            case NEW -> Health.unknown();
            case BROKEN -> ready > 0 ? Health.up() : Health.down();
            case DRAINING, CLOSED -> Health.outOfService();
            case STARTING, RUNNING -> ready > 0 || scaledToZero ? Health.up()
                    : alive == 0 ? Health.down() : Health.outOfService();
        };
        b.withDetail("state", s.state().name())
                .withDetail("size", s.size())
                .withDetail("ready", ready)
                .withDetail("busy", s.count(WorkerState.BUSY))
                .withDetail("idle", s.count(WorkerState.IDLE))
                .withDetail("starting", starting)
                .withDetail("queued", s.queueLength())
                .withDetail("maxQueued", s.saturation().maxQueueLength())
                .withDetail("maxBusy", s.saturation().maxBusy())
                .withDetail("noFreeWorker", s.saturation().noFreeWorker());
        if (s.sizing().elastic()) {
            b.withDetail("minSize", s.sizing().min()).withDetail("maxSize", s.sizing().max())
                    .withDetail("targetSize", s.sizing().target());
        }
        List<Map<String, Object>> calls = new ArrayList<>();
        for (WorkerInfo w : s.workers()) {
            if (w.state() == WorkerState.BUSY && w.currentLabel() != null) {
                Map<String, Object> call = new LinkedHashMap<>();
                call.put("pid", w.pid());
                call.put("call", w.currentLabel());
                if (w.currentElapsed() != null) {
                    call.put("elapsedMillis", w.currentElapsed().toMillis());
                }
                calls.add(call);
            }
        }
        if (!calls.isEmpty()) {
            b.withDetail("currentCalls", calls);
        }
        if (s.lastFailure() != null) {
            b.withDetail("lastFailure", s.lastFailure());
            b.withDetail("lastFailureAt", String.valueOf(s.lastFailureAt()));
            BootFailure boot = pool.lastBootFailure();
            if (boot != null && !boot.output().isEmpty() && boot.message().equals(s.lastFailure())) {
                // The cause is there ("PHP Parse error: ... on line 12"), where the failure only says how it ended.
                b.withDetail("lastFailureOutput", boot.output());
            }
        }
        return b.build();
    }
}
