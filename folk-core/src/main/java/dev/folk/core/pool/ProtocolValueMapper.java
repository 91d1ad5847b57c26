package dev.folk.core.pool;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Map;

import dev.folk.core.protocol.Values;

import org.jspecify.annotations.Nullable;

/**
 * {@link ValueMapper#PROTOCOL}: String, byte[], Long, Integer, Double, Boolean (or their
 * primitives), Map, List and Object, with PHP's quirks accepted (a str where bytes are wanted, an
 * empty array where a map is wanted). Anything else needs a mapper that knows it.
 */
final class ProtocolValueMapper implements ValueMapper {

    @Override
    public @Nullable Object fromWire(@Nullable Object value, Type type) {
        Class<?> raw = type instanceof Class<?> c ? c
                : type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> c ? c : null;
        if (value == null || raw == Object.class) {
            return value;
        }
        if (raw == String.class) {
            return Values.asString(value);
        } else if (raw == byte[].class) {
            return Values.asBytes(value);
        } else if (raw == Long.class || raw == long.class) {
            return Values.asLong(value);
        } else if (raw == Integer.class || raw == int.class) {
            return Values.asInt(value);
        } else if (raw == Double.class || raw == double.class) {
            return Values.asDouble(value);
        } else if (raw == Boolean.class || raw == boolean.class) {
            return Values.asBoolean(value);
        } else if (raw != null && raw.isAssignableFrom(Map.class)) {
            return Values.asMap(value);
        } else if (raw != null && raw.isAssignableFrom(List.class)) {
            return Values.asList(value);
        } else if (raw != null && raw.isInstance(value)) {
            return value;
        }
        throw new IllegalArgumentException("a " + value.getClass().getSimpleName() + " is not convertible to "
                + type.getTypeName() + " without a value mapper that knows it (records and POJOs need one: the "
                + "Spring Boot starter uses the application's JSON mapper; see PoolConfig.Builder.valueMapper)");
    }
}
