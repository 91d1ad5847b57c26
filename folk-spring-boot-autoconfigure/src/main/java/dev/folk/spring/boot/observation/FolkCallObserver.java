package dev.folk.spring.boot.observation;

import java.util.Map;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;

import org.jspecify.annotations.Nullable;

import dev.folk.core.pool.CallObservation;
import dev.folk.core.pool.CallObserver;
import dev.folk.core.pool.CallOutcome;
import dev.folk.core.pool.WorkerPool;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * Makes each pool call a Micrometer {@link Observation} named {@code folk.call} (see
 * {@link DefaultFolkCallObservationConvention}). It starts on the caller's thread, so its parent is
 * the caller's current observation (the HTTP request being served, say), and stops where the call
 * ends, with the call's outcome and error. With a tracer, the trace context the propagator wrote
 * for it goes to the worker: to workers that declared the {@code context} feature with every
 * request, and for {@code http.handle} as HTTP headers any worker sees (see {@link TraceHeaders}).
 *
 * <p>An observation turned off ({@code management.observations.enable.folk=false}) or a registry
 * without handlers leaves calls unobserved: nothing is sent and nothing is recorded.
 */
public class FolkCallObserver implements CallObserver {

    /** The method whose params carry HTTP headers (docs/PROTOCOL.md, "The HTTP shape"). */
    static final String HTTP_HANDLE = "http.handle";

    private final ObservationRegistry registry;
    private final @Nullable FolkCallObservationConvention convention;
    private final FolkCallObservationConvention defaultConvention;

    /**
     * @param registry   where observations go
     * @param convention the application's convention, or null for {@code defaultConvention}
     */
    public FolkCallObserver(ObservationRegistry registry, @Nullable FolkCallObservationConvention convention,
                            FolkCallObservationConvention defaultConvention) {
        this.registry = registry;
        this.convention = convention;
        this.defaultConvention = defaultConvention;
    }

    /** Observes the calls of every pool from now on. */
    public void observe(FolkPools pools) {
        for (WorkerPool pool : pools.all()) {
            pool.observeCalls(this);
        }
    }

    @Override
    public @Nullable CallObservation callStarted(WorkerPool pool, String method, @Nullable Object params,
                                                 @Nullable String label) {
        if (registry.isNoop()) {
            return null;
        }
        FolkCallContext context = new FolkCallContext(pool.name(), method, label);
        Observation observation = Observation.createNotStarted(convention, defaultConvention, () -> context,
                registry);
        if (observation.isNoop()) {
            return null;
        }
        observation.start();
        return new Call(observation, context);
    }

    /** One observed call. */
    private static final class Call implements CallObservation {
        private final Observation observation;
        private final FolkCallContext context;

        Call(Observation observation, FolkCallContext context) {
            this.observation = observation;
            this.context = context;
        }

        @Override
        public @Nullable Object params(@Nullable Object params) {
            if (!HTTP_HANDLE.equals(context.method())) {
                return params;
            }
            // A current trace: the call's parent continues the client's trace (Spring Boot's server
            // observation), so ours replaces the client's; without one the client's is kept.
            return TraceHeaders.withTraceContext(params, context.traceContext(),
                    context.getParentObservation() != null);
        }

        @Override
        public Map<String, String> context() {
            return context.traceContext();
        }

        @Override
        public void worker(int pid) {
            context.pid(pid);
        }

        @Override
        public void ended(@Nullable CallOutcome outcome, @Nullable Throwable error) {
            context.outcome(outcome);
            if (error != null) {
                observation.error(error);
            }
            observation.stop();
        }

        @Override
        public String toString() {
            return "folk.call observation of " + context.pool() + ' ' + context.method();
        }
    }
}
