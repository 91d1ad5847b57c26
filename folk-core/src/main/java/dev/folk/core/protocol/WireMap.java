package dev.folk.core.protocol;

import java.util.LinkedHashMap;

/**
 * Call params that their maker built from the protocol's own types only: String keys, and values
 * that are String, byte[], integral numbers, Boolean, null, or maps and lists of those. The pool
 * hands such a map to the codec as it is: its {@code ValueMapper} is not asked to walk it, which
 * for the HTTP gateway's {@code http.handle} params (a request's headers and server facts) cost
 * as much as encoding them. A value of any other type is still refused when the call is encoded,
 * as it would be without a mapper.
 *
 * <p>Insertion-ordered, so the params go on the wire in the order they were put, and iterating
 * them does not scan a hash table's empty buckets.
 */
public final class WireMap extends LinkedHashMap<String, Object> {

    private static final long serialVersionUID = 1L;

    /** @param expectedSize how many entries it will hold, so that it never grows */
    public WireMap(int expectedSize) {
        super(expectedSize * 4 / 3 + 1);
    }
}
