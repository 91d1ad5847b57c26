package dev.folk.spring.boot.lifecycle;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;

import dev.folk.core.pool.PoolState;
import dev.folk.core.pool.WorkerPool;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * Readiness that follows saturation ({@code folk.readiness.max-queue}, per pool with
 * {@code folk.readiness.pools.<name>.max-queue}): while any pool it watches has more calls waiting
 * for a worker than its {@code max-queue}, the application publishes
 * {@link ReadinessState#REFUSING_TRAFFIC}, so a load balancer or Kubernetes sends new requests to
 * other instances; once every watched queue has stayed at or below half of its {@code max-queue}
 * for {@code recovery}, it publishes {@link ReadinessState#ACCEPTING_TRAFFIC} again. The two
 * thresholds and the hold keep it from flapping. Pools without a {@code max-queue} are not watched.
 *
 * <p>It only takes back what it did: readiness is restored only if the last readiness change was
 * its own refusal, so it never undoes the refusal of a draining pool ({@link FolkReadiness}), of
 * Spring Boot's own shutdown, or of the application. While a pool drains or is closed it does
 * nothing. Liveness and the {@code folk} health contributor are not touched. The queues are
 * sampled every {@value #SAMPLE_MILLIS} ms on one daemon thread, from start until stop.
 */
public class SaturationReadiness implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(SaturationReadiness.class);

    /** How often the queues are sampled. */
    static final long SAMPLE_MILLIS = 100;

    private final FolkPools pools;
    private final ApplicationEventPublisher publisher;
    private final @Nullable ApplicationAvailability availability;
    /** The watched pools' thresholds, by pool name. */
    private final Map<String, Integer> maxQueues;
    private final long recoveryNanos;
    private volatile @Nullable ScheduledExecutorService sampler;
    private boolean refusing;
    private long calmSince;

    /**
     * @param maxQueues the pools to watch, by name, each with its threshold; pools not in it are
     *                  not watched
     */
    public SaturationReadiness(FolkPools pools, ApplicationEventPublisher publisher,
                               @Nullable ApplicationAvailability availability, Map<String, Integer> maxQueues,
                               Duration recovery) {
        this.pools = pools;
        this.publisher = publisher;
        this.availability = availability;
        this.maxQueues = Map.copyOf(maxQueues);
        this.recoveryNanos = recovery.toNanos();
    }

    /** One sample of every watched pool's queue, at {@code now} (nanoTime); called by the sampler thread. */
    synchronized void check(long now) {
        boolean over = false;
        boolean calm = true;
        String busiest = "";
        int busiestQueued = 0;
        int busiestMax = 0;
        for (WorkerPool pool : pools.all()) {
            PoolState state = pool.state();
            if (state == PoolState.DRAINING || state == PoolState.CLOSED) {
                return; // shutting down: FolkReadiness and Spring Boot own readiness now
            }
            Integer max = maxQueues.get(pool.name());
            if (max == null) {
                continue;
            }
            int queued = pool.queueLength();
            if (queued > max && (!over || queued - max > busiestQueued - busiestMax)) {
                over = true;
                busiest = pool.name();
                busiestQueued = queued;
                busiestMax = max;
            }
            calm &= queued <= max / 2;
        }
        if (over) {
            calmSince = 0;
            // Also when somebody made the application ready again meanwhile (Spring Boot does once started).
            if (!refusing || (availability != null && availability.getReadinessState() == ReadinessState.ACCEPTING_TRAFFIC)) {
                if (!refusing) {
                    log.warn("Pool '{}' has {} calls waiting for a worker (its readiness max-queue is {}): the"
                            + " application refuses traffic until the queues of {} stay at or below half their"
                            + " max-queue", busiest, busiestQueued, busiestMax, maxQueues.keySet());
                }
                refusing = true;
                publish(ReadinessState.REFUSING_TRAFFIC);
            }
            return;
        }
        if (!refusing) {
            return;
        }
        if (!calm) {
            calmSince = 0;
            return;
        }
        if (calmSince == 0) {
            calmSince = now | 1; // 0 means "not calm"
            return;
        }
        if (now - calmSince < recoveryNanos) {
            return;
        }
        refusing = false;
        calmSince = 0;
        AvailabilityChangeEvent<ReadinessState> last = availability == null ? null
                : availability.getLastChangeEvent(ReadinessState.class);
        if (availability == null || (last != null && last.getSource() == this
                && last.getState() == ReadinessState.REFUSING_TRAFFIC)) {
            log.info("The queues of {} are back at or below half their readiness max-queue: the application accepts"
                    + " traffic again", maxQueues.keySet());
            publish(ReadinessState.ACCEPTING_TRAFFIC);
        }
    }

    /** Whether it currently holds readiness at REFUSING_TRAFFIC. */
    public synchronized boolean isRefusing() {
        return refusing;
    }

    private void publish(ReadinessState state) {
        try {
            AvailabilityChangeEvent.publish(publisher, this, state);
        } catch (RuntimeException e) {
            log.debug("Could not publish the readiness change", e);
        }
    }

    @Override
    public void start() {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "folk-readiness");
            t.setDaemon(true);
            return t;
        });
        s.scheduleWithFixedDelay(() -> {
            try {
                check(System.nanoTime());
            } catch (RuntimeException e) {
                log.warn("Sampling the pools' queues failed", e);
            }
        }, SAMPLE_MILLIS, SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
        sampler = s;
    }

    @Override
    public void stop() {
        ScheduledExecutorService s = sampler;
        sampler = null;
        if (s != null) {
            s.shutdownNow();
        }
    }

    @Override
    public boolean isRunning() {
        return sampler != null;
    }
}
