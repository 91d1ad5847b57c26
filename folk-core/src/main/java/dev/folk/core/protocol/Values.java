package dev.folk.core.protocol;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * How MessagePack values map to Java, and small helpers that read decoded values while accepting
 * the quirks of PHP workers.
 *
 * <h2>Decoding (what a worker sends)</h2>
 * <table>
 * <caption>MessagePack to Java</caption>
 * <tr><th>MessagePack</th><th>Java</th></tr>
 * <tr><td>nil</td><td>{@code null}</td></tr>
 * <tr><td>bool</td><td>{@link Boolean}</td></tr>
 * <tr><td>int</td><td>{@link Long}; a uint64 above {@code Long.MAX_VALUE} becomes a {@link BigInteger}</td></tr>
 * <tr><td>float32, float64</td><td>{@link Double}</td></tr>
 * <tr><td>str</td><td>{@link String} when it is valid UTF-8, otherwise {@code byte[]} with the exact bytes:
 *     PHP packs binary bodies as str, and they must arrive intact</td></tr>
 * <tr><td>bin</td><td>{@code byte[]}</td></tr>
 * <tr><td>array</td><td>{@code List<Object>} (an {@link java.util.ArrayList})</td></tr>
 * <tr><td>map</td><td>{@code Map<Object, Object>} (a {@link LinkedHashMap}, wire order kept); keys may be
 *     String, Long or null: a PHP object arrives as a map whose {@code null} key holds its class name</td></tr>
 * <tr><td>ext -1 (timestamp)</td><td>{@link java.time.Instant} (PHP sends none)</td></tr>
 * <tr><td>any other ext</td><td>a {@link ProtocolException}</td></tr>
 * </table>
 * An empty PHP array always arrives as an empty <em>list</em>, even where a map is meant
 * (e.g. empty response headers): read maps with {@link #asMap}.
 *
 * <h2>Encoding (what we send)</h2>
 * <table>
 * <caption>Java to MessagePack</caption>
 * <tr><th>Java</th><th>MessagePack</th></tr>
 * <tr><td>{@code null}, {@code Optional.empty()}</td><td>nil</td></tr>
 * <tr><td>{@link Boolean}</td><td>bool</td></tr>
 * <tr><td>{@link Byte}, {@link Short}, {@link Integer}, {@link Long}, {@link BigInteger}</td><td>int, smallest
 *     encoding (a BigInteger outside [-2^63, 2^64-1] is refused)</td></tr>
 * <tr><td>{@link java.math.BigDecimal}</td><td>str, its plain decimal text ({@code toPlainString()}:
 *     {@code "12.50"}, never {@code "1E+3"}), exact for PHP's bcmath and {@code is_numeric}</td></tr>
 * <tr><td>{@link Float}, {@link Double}</td><td>float64, like PHP</td></tr>
 * <tr><td>{@link String}, other {@link CharSequence}s, {@link Enum} (its name)</td><td>str (UTF-8; an unpaired
 *     surrogate becomes '?')</td></tr>
 * <tr><td>{@code byte[]}, {@link java.nio.ByteBuffer} (its remaining bytes; position untouched)</td><td>bin</td></tr>
 * <tr><td>{@link java.util.Collection}, {@code Object[]}</td><td>array</td></tr>
 * <tr><td>{@link Map} (String or integral keys; a null key is refused)</td><td>map; but see empty
 *     maps below</td></tr>
 * <tr><td>{@link java.util.Optional} with a value</td><td>the value</td></tr>
 * <tr><td>{@link java.time.Instant}</td><td>str, ISO-8601 ({@code toString()}:
 *     {@code "2024-05-06T07:08:09.123456789Z"}), as inside a record: PHP cannot read the timestamp ext
 *     (ext-msgpack makes it null, the pure-PHP codec refuses the call)</td></tr>
 * </table>
 * Anything else, a null map key, a cycle or nesting deeper than 256 levels is an
 * {@link IllegalArgumentException} naming the path of the value, e.g. {@code params.headers[2]}
 * (a pool's call reports it as an {@link dev.folk.core.pool.InvalidParamsException}).
 * Nothing is encoded as an ext type: PHP has no use for one.
 * <p>
 * <b>Empty maps.</b> PHP unpacks an empty msgpack map ({@code 0x80}) as an object, not an array,
 * which breaks handlers that index it. So an empty {@code Map}, as the params of a request or
 * notify or anywhere inside them, is sent as an empty array ({@code 0x90}), which is exactly how
 * PHP itself packs an empty array: a handler gets {@code []}. A value that holds
 * an empty map therefore comes back from a round trip with an empty list in its place.
 *
 * <h2>Helpers</h2>
 * The {@code as*} methods convert one decoded value and throw an {@link IllegalArgumentException}
 * naming the actual type when it does not fit.
 */
public final class Values {

    private Values() {
    }

    /** A map as is; an empty list (how PHP packs an empty array) as a new empty map. */
    @SuppressWarnings("unchecked")
    public static Map<Object, Object> asMap(@Nullable Object value) {
        if (value instanceof Map<?, ?> map) {
            return (Map<Object, Object>) map;
        }
        if (value instanceof List<?> list && list.isEmpty()) {
            return new LinkedHashMap<>();
        }
        throw mismatch("a map", value);
    }

    @SuppressWarnings("unchecked")
    public static List<Object> asList(@Nullable Object value) {
        if (value instanceof List<?> list) {
            return (List<Object>) list;
        }
        throw mismatch("a list", value);
    }

    /**
     * Bytes as is; a String as its UTF-8 bytes, which is lossless for decoded values because a str
     * only becomes a String when it is valid UTF-8.
     */
    public static byte[] asBytes(@Nullable Object value) {
        if (value instanceof byte[] bytes) {
            return bytes;
        }
        if (value instanceof String s) {
            return s.getBytes(StandardCharsets.UTF_8);
        }
        throw mismatch("bytes or a string", value);
    }

    /** A String as is; bytes decoded as UTF-8, invalid sequences replaced by U+FFFD. */
    public static String asString(@Nullable Object value) {
        if (value instanceof String s) {
            return s;
        }
        if (value instanceof byte[] bytes) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
        throw mismatch("a string", value);
    }

    public static long asLong(@Nullable Object value) {
        if (value instanceof Long l) {
            return l;
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof BigInteger) {
            throw new IllegalArgumentException("Expected a long, got " + value + ", which is too large");
        }
        throw mismatch("an integer", value);
    }

    public static int asInt(@Nullable Object value) {
        long l = asLong(value);
        if (l != (int) l) {
            throw new IllegalArgumentException("Expected an int, got " + l + ", which is out of range");
        }
        return (int) l;
    }

    /** A Double (or Float) as is, and an integer widened: PHP sends 1.0 as float but 1 as int. */
    public static double asDouble(@Nullable Object value) {
        if (value instanceof Double || value instanceof Float) {
            return ((Number) value).doubleValue();
        }
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        throw mismatch("a number", value);
    }

    public static boolean asBoolean(@Nullable Object value) {
        if (value instanceof Boolean b) {
            return b;
        }
        throw mismatch("a boolean", value);
    }

    private static IllegalArgumentException mismatch(String expected, @Nullable Object actual) {
        return new IllegalArgumentException("Expected " + expected + ", got " + describe(actual));
    }

    private static String describe(@Nullable Object value) {
        if (value == null) {
            return "nil";
        }
        if (value instanceof List<?> list) {
            return "a list of " + list.size() + " elements";
        }
        if (value instanceof Map<?, ?> map) {
            return "a map of " + map.size() + " entries";
        }
        if (value instanceof byte[] bytes) {
            return bytes.length + " bytes";
        }
        return value.getClass().getSimpleName();
    }
}
