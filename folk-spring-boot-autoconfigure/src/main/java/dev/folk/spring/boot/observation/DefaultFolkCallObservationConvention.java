package dev.folk.spring.boot.observation;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.common.KeyValue;
import io.micrometer.common.KeyValues;

import dev.folk.core.pool.CallOutcome;
import dev.folk.spring.boot.metrics.MethodTags;

/**
 * The default names and keys of a pool call's observation.
 *
 * <p>Name {@value #NAME}: with Spring Boot's meter observation handler, a timer
 * {@code folk.call} (Prometheus {@code folk_call_seconds}) of whole calls, waiting for a worker
 * included, and a long task timer {@code folk.call.active}; with a tracer, a client span named
 * {@code <pool> <method>}.
 * <table>
 *   <caption>Keys</caption>
 *   <tr><th>key</th><th>cardinality</th><th>value</th></tr>
 *   <tr><td>{@code pool}</td><td>low</td><td>the pool's name</td></tr>
 *   <tr><td>{@code outcome}</td><td>low</td><td>as on {@code folk.call.execution}: success,
 *       application-error, exec-timeout, worker-crashed, acquire-timeout...; {@code unknown} while
 *       the call runs (on {@code folk.call.active}) and for a call that failed before the pool could
 *       classify it (params that cannot be encoded: the {@code error} key names the exception)</td></tr>
 *   <tr><td>{@code method}</td><td>low with {@code folk.metrics.method-tag=true}, else high</td>
 *       <td>the method called; as a low-cardinality key, {@code other} past {@value MethodTags#MAX_PER_POOL}
 *       methods of a pool (see {@link MethodTags})</td></tr>
 *   <tr><td>{@code worker.pid}</td><td>high</td><td>the worker's pid (absent if the call got none)</td></tr>
 *   <tr><td>{@code label}</td><td>high</td><td>what the call is about: for the HTTP gateway, the
 *       request line ({@code GET /php/hello}); absent when the caller gave none</td></tr>
 * </table>
 * High-cardinality keys go on spans only, never on meters.
 */
public class DefaultFolkCallObservationConvention implements FolkCallObservationConvention {

    /** The observation's name. */
    public static final String NAME = "folk.call";

    /** One slot per outcome, and the last for a call still running or unclassified. */
    private static final int SLOTS = CallOutcome.values().length + 1;

    private final boolean methodTag;
    /**
     * Low-cardinality key values by pool (and method, when it is one of them), one per outcome:
     * they are few and the same for every call, and building them took a few microseconds per call.
     */
    private final Map<String, KeyValues[]> lowCardinality = new ConcurrentHashMap<>();
    private final MethodTags methods = new MethodTags();

    /**
     * @param methodTag whether {@code method} is a low-cardinality key (it then tags the timer, as
     *                  {@code folk.metrics.method-tag} does for the call timers)
     */
    public DefaultFolkCallObservationConvention(boolean methodTag) {
        this.methodTag = methodTag;
    }

    @Override
    public String getName() {
        return NAME;
    }

    @Override
    public String getContextualName(FolkCallContext context) {
        return context.pool() + ' ' + context.method();
    }

    @Override
    public KeyValues getLowCardinalityKeyValues(FolkCallContext context) {
        String method = methodTag ? methods.tag(context.pool(), context.method()) : null;
        KeyValues[] byOutcome = lowCardinality.computeIfAbsent(
                method != null ? context.pool() + '\0' + method : context.pool(), key -> new KeyValues[SLOTS]);
        CallOutcome outcome = context.outcome();
        int slot = outcome == null ? SLOTS - 1 : outcome.ordinal();
        KeyValues values = byOutcome[slot];
        if (values == null) { // a benign race: two threads build equal values
            values = KeyValues.of(KeyValue.of("pool", context.pool()),
                    KeyValue.of("outcome", outcome == null ? "unknown" : outcome.tag()));
            values = method != null ? values.and("method", method) : values;
            byOutcome[slot] = values;
        }
        return values;
    }

    @Override
    public KeyValues getHighCardinalityKeyValues(FolkCallContext context) {
        KeyValues values = methodTag ? KeyValues.empty() : KeyValues.of("method", context.method());
        if (context.pid() > 0) {
            values = values.and("worker.pid", Integer.toString(context.pid()));
        }
        String label = context.label();
        return label == null ? values : values.and("label", label);
    }
}
