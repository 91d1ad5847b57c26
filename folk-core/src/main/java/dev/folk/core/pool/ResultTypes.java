package dev.folk.core.pool;

import java.util.List;
import java.util.Map;

import dev.folk.core.protocol.Values;

/** Reads a call's result as the type its caller asked for (see {@link WorkerPool#call(String, Object, Class)}). */
final class ResultTypes {

    private ResultTypes() {
    }

    /** {@code result} (not null) as {@code type}, PHP's quirks accepted; else an IllegalArgumentException. */
    static Object convert(Object result, Class<?> type, String method, String pool) {
        if (type == String.class) {
            return Values.asString(result);
        } else if (type == byte[].class) {
            return Values.asBytes(result);
        } else if (type == Long.class || type == long.class) {
            return Values.asLong(result);
        } else if (type == Integer.class || type == int.class) {
            return Values.asInt(result);
        } else if (type == Double.class || type == double.class) {
            return Values.asDouble(result);
        } else if (type == Boolean.class || type == boolean.class) {
            return Values.asBoolean(result);
        } else if (Map.class.isAssignableFrom(type)) {
            return Values.asMap(result);
        } else if (List.class.isAssignableFrom(type)) {
            return Values.asList(result);
        } else if (type.isInstance(result)) {
            return result;
        }
        throw new IllegalArgumentException("Result of '" + method + "' on pool '" + pool + "' is a "
                + result.getClass().getSimpleName() + ", not convertible to " + type.getName());
    }
}
