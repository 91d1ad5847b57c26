package dev.folk.spring.boot.json;

import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

import dev.folk.core.pool.ValueMapper;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.json.JsonMapper;

import org.jspecify.annotations.Nullable;

/**
 * Typed calls with the application's JSON mapper: records and POJOs as call parameters and as
 * results, bound as the application binds JSON (its modules, naming strategy and annotations).
 *
 * <p>The protocol's own types keep their exact meaning: a {@code String}, {@code byte[]},
 * number, Boolean, Map or List result is read by {@link ValueMapper#PROTOCOL}, and parameters made
 * only of such values are sent as they are, without a detour through the mapper. Inside a record or
 * POJO, values follow JSON's rules: a {@code byte[]} field travels as base64 text, and a PHP string
 * that is not valid UTF-8 is read with U+FFFD in place of its invalid bytes. PHP packs an empty
 * array the same way whether it meant a list or a map; an object field receiving one gets null.
 */
public final class JsonValueMapper implements ValueMapper {

    private final JsonMapper mapper;

    public JsonValueMapper(JsonMapper applicationMapper) {
        this.mapper = applicationMapper.rebuild()
                .enable(DeserializationFeature.ACCEPT_EMPTY_ARRAY_AS_NULL_OBJECT)
                .build();
    }

    @Override
    public @Nullable Object toWire(@Nullable Object params) {
        return isWireValue(params) ? params : convert(params);
    }

    @Override
    public @Nullable Object fromWire(@Nullable Object value, Type type) {
        JavaType target = mapper.constructType(type);
        if (value == null || isProtocolType(target)) {
            return ValueMapper.PROTOCOL.fromWire(value, type);
        }
        try {
            return mapper.convertValue(textOnly(value), target);
        } catch (JacksonException e) {
            // The original message, without Jackson's "[No location information]" suffix.
            throw new IllegalArgumentException(e.getOriginalMessage(), e);
        }
    }

    /** Types the protocol's own reading serves: scalars, and maps and lists of anything. */
    private static boolean isProtocolType(JavaType t) {
        Class<?> raw = t.getRawClass();
        if (raw == Map.class || raw == List.class) {
            // Map<String, Object> and List<Object> as decoded; List<Order> is the mapper's.
            for (int i = 0; i < t.containedTypeCount(); i++) {
                Class<?> arg = t.containedType(i).getRawClass();
                if (arg != Object.class && !(raw == Map.class && i == 0 && arg == String.class)) {
                    return false;
                }
            }
            return true;
        }
        return raw == Object.class || raw == String.class || raw == byte[].class || raw == Boolean.class
                || raw == boolean.class || raw == Long.class || raw == long.class || raw == Integer.class
                || raw == int.class || raw == Double.class || raw == double.class;
    }

    /** Values the protocol encodes as they are, all the way down. */
    private static boolean isWireValue(@Nullable Object v) {
        // Most leaves are strings (every header and server fact of an HTTP request): one class compare.
        if (v == null || v.getClass() == String.class) {
            return true;
        }
        if (v instanceof Number || v instanceof Boolean || v instanceof byte[] || v instanceof CharSequence
                || v instanceof ByteBuffer || v instanceof Enum<?> || v instanceof Instant) {
            return true;
        }
        if (v instanceof Optional<?> o) {
            return o.isEmpty() || isWireValue(o.get());
        }
        if (v instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!isWireValue(e.getKey()) || !isWireValue(e.getValue())) {
                    return false;
                }
            }
            return true;
        }
        if (v instanceof Collection<?> c) {
            for (Object o : c) {
                if (!isWireValue(o)) {
                    return false;
                }
            }
            return true;
        }
        if (v instanceof Object[] array) {
            for (Object o : array) {
                if (!isWireValue(o)) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    /** Maps and collections rebuilt, wire values kept, anything else through the JSON mapper. */
    @SuppressWarnings("NullAway") // null is a wire value: rebuilt only sees non-null values
    private @Nullable Object convert(@Nullable Object v) {
        if (v instanceof Optional<?> o) {
            return o.map(this::convert).orElse(null);
        }
        return isWireValue(v) ? v : rebuilt(v, this::convert, x -> mapper.convertValue(x, Object.class));
    }

    /** Decoded values with every byte[] (a PHP string that is not UTF-8) read as text, as JSON has no bytes. */
    private static Object textOnly(Object v) {
        return rebuilt(v, JsonValueMapper::textOnly,
                x -> x instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : x);
    }

    /** A map, collection or array rebuilt with {@code each} applied to its keys and elements; anything else through {@code leaf}. */
    private static Object rebuilt(Object v, UnaryOperator<Object> each, UnaryOperator<Object> leaf) {
        if (v instanceof Map<?, ?> map) {
            Map<Object, Object> out = new LinkedHashMap<>(map.size() * 2);
            map.forEach((k, val) -> out.put(each.apply(k), each.apply(val)));
            return out;
        }
        if (v instanceof Collection<?> || v instanceof Object[]) {
            List<Object> out = new ArrayList<>();
            for (Object o : v instanceof Object[] array ? Arrays.asList(array) : (Collection<?>) v) {
                out.add(each.apply(o));
            }
            return out;
        }
        return leaf.apply(v);
    }
}
