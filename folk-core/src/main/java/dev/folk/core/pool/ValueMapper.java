package dev.folk.core.pool;

import java.lang.reflect.Type;

import org.jspecify.annotations.Nullable;

/**
 * Turns what a caller passes into values the protocol encodes, and what a worker answers into the
 * type the caller asked for. {@link #PROTOCOL} knows the protocol's own types (String, byte[],
 * numbers, Boolean, Map, List); the Spring Boot starter plugs in the application's JSON mapper so
 * that records and POJOs work both ways. Set one per pool with
 * {@link PoolConfig.Builder#valueMapper(ValueMapper)}.
 */
public interface ValueMapper {

    /** The protocol's own types only; the default. */
    ValueMapper PROTOCOL = new ProtocolValueMapper();

    /**
     * {@code params} as the protocol can encode them (maps, lists, strings, numbers, booleans,
     * bytes, nil). Called on every call: return the argument itself when it needs no conversion.
     *
     * @throws IllegalArgumentException if they cannot be converted; the call then fails with an
     *         {@link InvalidParamsException} naming the pool and the method
     */
    default @Nullable Object toWire(@Nullable Object params) {
        return params;
    }

    /**
     * A decoded result (Map, List, String, byte[], Long, Double, Boolean or null) as {@code type}.
     *
     * @throws IllegalArgumentException if it cannot be read as {@code type}; the message says
     *         what was found
     */
    @Nullable Object fromWire(@Nullable Object value, Type type);
}
