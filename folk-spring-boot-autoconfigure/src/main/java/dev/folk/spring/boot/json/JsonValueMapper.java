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
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.BeanDescription;
import tools.jackson.databind.DeserializationConfig;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.deser.ValueDeserializerModifier;
import tools.jackson.databind.deser.std.DelegatingDeserializer;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.type.ArrayType;

import org.jspecify.annotations.Nullable;

/**
 * Typed calls with the application's JSON mapper: records and POJOs as call parameters and as
 * results, bound as the application binds JSON (its modules, naming strategy and annotations).
 *
 * <p>The protocol's own types keep their exact meaning: a {@code String}, {@code byte[]},
 * number, Boolean, Map or List result is read by {@link ValueMapper#PROTOCOL}, and parameters made
 * only of such values are sent as they are, without a detour through the mapper. Inside a record or
 * POJO, values follow JSON's rules but for strings, which PHP holds as bytes: a {@code byte[]}
 * field travels as raw bytes (never base64) and reads a PHP string's bytes as they are, binary or
 * not; a {@code String} field reads a PHP string that is not valid UTF-8 with U+FFFD in place of
 * its invalid bytes (an {@code Object} field gets its bytes, as the protocol's own reading does).
 * {@code BigDecimal} and {@code Instant} fields travel as strings, and a numeric string or a
 * number reads back into a {@code BigDecimal}. PHP packs an empty array the same way whether it
 * meant a list or a map; an object field receiving one gets null.
 */
public final class JsonValueMapper implements ValueMapper {

    /** The encoder's nesting limit: past it, values go to the encoder as they are, which refuses them clearly. */
    private static final int MAX_DEPTH = 256;

    private final JsonMapper mapper;

    public JsonValueMapper(JsonMapper applicationMapper) {
        this.mapper = applicationMapper.rebuild()
                .enable(DeserializationFeature.ACCEPT_EMPTY_ARRAY_AS_NULL_OBJECT)
                .addModule(new SimpleModule("folk-php-strings").setDeserializerModifier(new PhpStringFields()))
                .build();
    }

    /** @throws IllegalArgumentException if the JSON mapper cannot convert a value of {@code params} */
    @Override
    public @Nullable Object toWire(@Nullable Object params) {
        if (isWireValue(params, 1)) {
            return params;
        }
        try {
            return convert(params, 1);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(e.getOriginalMessage(), e);
        }
    }

    @Override
    public @Nullable Object fromWire(@Nullable Object value, Type type) {
        JavaType target = mapper.constructType(type);
        if (value == null || isProtocolType(target)) {
            return ValueMapper.PROTOCOL.fromWire(value, type);
        }
        try {
            return mapper.convertValue(textKeys(value), target);
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

    /**
     * Values the protocol encodes as they are, all the way down (or too deep to look further: a
     * cycle, which the encoder then refuses with its path, instead of a StackOverflowError here).
     *
     * @param level containers around {@code v}, counted as the encoder counts them
     */
    private static boolean isWireValue(@Nullable Object v, int level) {
        // Most leaves are strings (every header and server fact of an HTTP request): one class compare.
        if (v == null || v.getClass() == String.class) {
            return true;
        }
        if (v instanceof Number || v instanceof Boolean || v instanceof byte[] || v instanceof CharSequence
                || v instanceof ByteBuffer || v instanceof Enum<?> || v instanceof Instant) {
            return true; // BigDecimal included: the encoder sends its plain decimal text
        }
        if (v instanceof Optional<?> o) {
            return o.isEmpty() || level >= MAX_DEPTH || isWireValue(o.get(), level + 1);
        }
        if (v instanceof Map<?, ?> map) {
            if (level >= MAX_DEPTH) {
                return true; // too deep to look into: the encoder refuses it
            }
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!isWireValue(e.getKey(), level + 1) || !isWireValue(e.getValue(), level + 1)) {
                    return false;
                }
            }
            return true;
        }
        if (v instanceof Collection<?> c) {
            if (level >= MAX_DEPTH) {
                return true;
            }
            for (Object o : c) {
                if (!isWireValue(o, level + 1)) {
                    return false;
                }
            }
            return true;
        }
        if (v instanceof Object[] array) {
            if (level >= MAX_DEPTH) {
                return true;
            }
            for (Object o : array) {
                if (!isWireValue(o, level + 1)) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    /** Maps and collections rebuilt, wire values kept, anything else through the JSON mapper. */
    @SuppressWarnings("NullAway") // null is a wire value: rebuilt only sees non-null values
    private @Nullable Object convert(@Nullable Object v, int level) {
        if (v instanceof Optional<?> o) {
            return o.map(x -> convert(x, level + 1)).orElse(null);
        }
        return isWireValue(v, level) ? v
                : rebuilt(v, x -> convert(x, level + 1), x -> mapper.convertValue(x, Object.class));
    }

    /**
     * Decoded values with every map key that is a byte[] (a PHP string that is not UTF-8) read as
     * text, as JSON's keys are; values stay bytes for {@link PhpStringFields} to read as the field wants.
     */
    private static Object textKeys(Object v) {
        if (v instanceof Map<?, ?> map) {
            Map<Object, Object> out = new LinkedHashMap<>(map.size() * 2);
            map.forEach((k, val) -> out.put(k instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : k,
                    val == null ? null : textKeys(val)));
            return out;
        }
        return v instanceof List<?> ? rebuilt(v, JsonValueMapper::textKeys, x -> x) : v;
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

    /**
     * PHP strings are bytes. JSON's reading of them would base64-decode a string for a byte[]
     * field and base64-encode bytes for a String field; instead a byte[] field takes a string's
     * bytes as they are, and a String field bytes that are not UTF-8 as text (U+FFFD for the
     * invalid ones). The application's own deserializers for either still do the rest.
     */
    private static final class PhpStringFields extends ValueDeserializerModifier {
        private static final long serialVersionUID = 1L;

        @Override
        public ValueDeserializer<?> modifyDeserializer(DeserializationConfig config, BeanDescription.Supplier bean,
                ValueDeserializer<?> deserializer) {
            return bean.getBeanClass() == String.class ? new PhpString(deserializer, false) : deserializer;
        }

        @Override
        public ValueDeserializer<?> modifyArrayDeserializer(DeserializationConfig config, ArrayType type,
                BeanDescription.Supplier bean, ValueDeserializer<?> deserializer) {
            return type.getRawClass() == byte[].class ? new PhpString(deserializer, true) : deserializer;
        }
    }

    private static final class PhpString extends DelegatingDeserializer {
        private final boolean asBytes;

        PhpString(ValueDeserializer<?> deserializer, boolean asBytes) {
            super(deserializer);
            this.asBytes = asBytes;
        }

        @Override
        protected ValueDeserializer<?> newDelegatingInstance(ValueDeserializer<?> deserializer) {
            return new PhpString(deserializer, asBytes);
        }

        @Override
        public Object deserialize(JsonParser p, DeserializationContext context) {
            if (asBytes && p.hasToken(JsonToken.VALUE_STRING)) {
                return p.getString().getBytes(StandardCharsets.UTF_8); // a PHP string that was valid UTF-8
            }
            if (!asBytes && p.hasToken(JsonToken.VALUE_EMBEDDED_OBJECT) && p.getEmbeddedObject() instanceof byte[] b) {
                return new String(b, StandardCharsets.UTF_8);
            }
            return super.deserialize(p, context);
        }
    }
}
