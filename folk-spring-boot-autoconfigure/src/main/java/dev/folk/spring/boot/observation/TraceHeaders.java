package dev.folk.spring.boot.observation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * Puts a call's trace context into the {@code http.handle} params (docs/PROTOCOL.md, "The HTTP
 * shape") as request headers, so that any worker (the Folk SDK included) sees {@code traceparent}
 * (and {@code tracestate}) as a plain header: in {@code headers}, and in {@code header_list}, from
 * which PHP's {@code $_SERVER['HTTP_TRACEPARENT']} is made. The params are copied, never changed in
 * place (the gateway may send the same params again).
 */
final class TraceHeaders {

    /** W3C Trace Context's headers: a client's are dropped together when ours replace them. */
    private static final Set<String> W3C = Set.of("traceparent", "tracestate");

    private TraceHeaders() {
    }

    /**
     * @param params  the http.handle params
     * @param context the trace context, header name to value (empty: no tracer)
     * @param replace whether ours replace a trace context the client sent (otherwise the client's is kept)
     * @return params with the trace context as headers, or {@code params} itself when nothing changes
     */
    static @Nullable Object withTraceContext(@Nullable Object params, Map<String, String> context, boolean replace) {
        if (context.isEmpty() || !(params instanceof Map<?, ?> map)
                || !(map.get("headers") instanceof Map<?, ?> headers)) {
            return params;
        }
        Set<String> names = new HashSet<>(W3C);
        for (String name : context.keySet()) {
            names.add(name.toLowerCase(Locale.ROOT));
        }
        boolean clientSent = false;
        for (Object name : headers.keySet()) {
            clientSent |= name instanceof String s && names.contains(s.toLowerCase(Locale.ROOT));
        }
        if (clientSent && !replace) {
            return params;
        }
        Map<Object, Object> newHeaders = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : headers.entrySet()) {
            if (!(e.getKey() instanceof String s && names.contains(s.toLowerCase(Locale.ROOT)))) {
                newHeaders.put(e.getKey(), e.getValue());
            }
        }
        newHeaders.putAll(context);
        Map<Object, Object> copy = new HashMap<>(map);
        copy.put("headers", newHeaders);
        if (map.get("header_list") instanceof List<?> lines) {
            List<Object> newLines = new ArrayList<>(lines.size() + context.size());
            for (Object line : lines) {
                if (!(line instanceof List<?> pair && !pair.isEmpty() && pair.get(0) instanceof String s
                        && names.contains(s.toLowerCase(Locale.ROOT)))) {
                    newLines.add(line);
                }
            }
            context.forEach((name, value) -> newLines.add(List.of(name, value)));
            copy.put("header_list", newLines);
        }
        return copy;
    }
}
