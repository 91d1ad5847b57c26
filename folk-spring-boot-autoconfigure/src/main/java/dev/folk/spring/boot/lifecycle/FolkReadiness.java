package dev.folk.spring.boot.lifecycle;

import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;

import dev.folk.core.pool.PoolListener;
import dev.folk.core.pool.PoolState;
import dev.folk.core.pool.WorkerPool;

/**
 * Makes the pools take part in the application's readiness state, through Spring Boot's
 * availability events (what {@code /actuator/health/readiness} reports).
 *
 * <ul>
 *   <li>Starting: {@link FolkLifecycle} blocks the context refresh until each pool has its
 *       minimum of ready workers, and Spring Boot publishes {@code ACCEPTING_TRAFFIC} only after
 *       the refresh, so the application is not ready while its pools start.</li>
 *   <li>Draining: as soon as any pool starts to drain or is closed, this publishes
 *       {@link ReadinessState#REFUSING_TRAFFIC} (once). That also covers a pool closed at run
 *       time, not only the application's shutdown.</li>
 * </ul>
 * Liveness is never touched: a broken pool shows as DOWN in the {@code folk} health contributor,
 * which is not part of the liveness group.
 */
public class FolkReadiness implements PoolListener {

    private static final Logger log = LoggerFactory.getLogger(FolkReadiness.class);

    private final ApplicationEventPublisher publisher;
    private final AtomicBoolean refused = new AtomicBoolean();

    public FolkReadiness(ApplicationEventPublisher publisher) {
        this.publisher = publisher;
    }

    @Override
    public void stateChanged(WorkerPool pool, PoolState from, PoolState to) {
        if ((to == PoolState.DRAINING || to == PoolState.CLOSED) && refused.compareAndSet(false, true)) {
            log.debug("Pool '{}' is {}: the application now refuses traffic", pool.name(), to);
            try {
                AvailabilityChangeEvent.publish(publisher, pool, ReadinessState.REFUSING_TRAFFIC);
            } catch (RuntimeException e) {
                // The context may be past the point where it delivers events (late in its close).
                log.debug("Could not publish the readiness change", e);
            }
        }
    }
}
