package dev.folk.spring.boot.autoconfigure.observation;

import java.util.List;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;

/**
 * W3C {@code traceparent} for Micrometer's test tracer, which comes without a propagator: what a
 * tracing bridge's propagator (Brave's, OpenTelemetry's) is in an application. Production code
 * never formats the header: it asks the application's propagator.
 */
final class W3cTestPropagator implements Propagator {

    private static final java.util.Random RANDOM = new java.util.Random();

    private final Tracer tracer;

    W3cTestPropagator(Tracer tracer) {
        this.tracer = tracer;
    }

    @Override
    public List<String> fields() {
        return List.of("traceparent", "tracestate");
    }

    @Override
    public <C> void inject(TraceContext context, C carrier, Setter<C> setter) {
        // The test tracer keeps every span: always sampled.
        setter.set(carrier, "traceparent", "00-" + context.traceId() + '-' + context.spanId() + "-01");
        setter.set(carrier, "tracestate", "folk=test");
    }

    @Override
    public <C> Span.Builder extract(C carrier, Getter<C> getter) {
        String traceparent = getter.get(carrier, "traceparent");
        String[] parts = traceparent == null ? new String[0] : traceparent.split("-");
        if (parts.length != 4) {
            // A new trace: the test tracer's builder would leave a root span without a trace id.
            String traceId = String.format("%016x%016x", RANDOM.nextLong(), RANDOM.nextLong());
            return tracer.spanBuilder().setParent(tracer.traceContextBuilder().traceId(traceId).spanId("").build());
        }
        return tracer.spanBuilder().setParent(tracer.traceContextBuilder().traceId(parts[1]).spanId(parts[2])
                .sampled("01".equals(parts[3])).build());
    }
}
