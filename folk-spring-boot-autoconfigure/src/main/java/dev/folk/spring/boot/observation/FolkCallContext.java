package dev.folk.spring.boot.observation;

import java.util.LinkedHashMap;
import java.util.Map;

import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.Propagator;
import io.micrometer.observation.transport.SenderContext;

import org.jspecify.annotations.Nullable;

import dev.folk.core.pool.CallOutcome;

/**
 * The context of one pool call's observation. A {@link SenderContext} (kind client) whose carrier
 * is the map of what the worker is sent as the call's trace context: with Micrometer Tracing, its
 * propagating sender handler writes {@code traceparent} (and {@code tracestate}, baggage...) into
 * it when the observation starts, with the application's own propagator (W3C by default), so no
 * header is formatted here.
 */
public class FolkCallContext extends SenderContext<Map<String, String>> {

    /** Writes a propagated field into the carrier; no state, so one instance serves every call. */
    private static final Propagator.Setter<Map<String, String>> SETTER = (carrier, key, value) -> {
        if (carrier != null) {
            carrier.put(key, value);
        }
    };

    private final String pool;
    private final String method;
    private final @Nullable String label;
    private volatile int pid;
    private volatile @Nullable CallOutcome outcome;

    public FolkCallContext(String pool, String method, @Nullable String label) {
        super(SETTER, Kind.CLIENT);
        this.pool = pool;
        this.method = method;
        this.label = label;
        setCarrier(new LinkedHashMap<>(4));
        setRemoteServiceName(pool);
    }

    /** The pool's name. */
    public String pool() {
        return pool;
    }

    /** The method called. */
    public String method() {
        return method;
    }

    /** What the call is about (an HTTP request line for the gateway's calls), or null. */
    public @Nullable String label() {
        return label;
    }

    /** The worker the call ran on, 0 until it has one (or if it never got one). */
    public int pid() {
        return pid;
    }

    void pid(int pid) {
        this.pid = pid;
    }

    /** How the call ended; null while it runs, or for a call the pool could not classify. */
    public @Nullable CallOutcome outcome() {
        return outcome;
    }

    void outcome(@Nullable CallOutcome outcome) {
        this.outcome = outcome;
    }

    /** The trace context to send, as the propagator wrote it (empty without a tracer). */
    public Map<String, String> traceContext() {
        Map<String, String> carrier = getCarrier();
        return carrier == null ? Map.of() : carrier;
    }
}
