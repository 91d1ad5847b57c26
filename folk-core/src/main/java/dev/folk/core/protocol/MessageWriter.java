package dev.folk.core.protocol;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;

import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;

import org.jspecify.annotations.Nullable;

/**
 * Packs messages and Java values into a {@link FrameOutput}, following the mapping documented in
 * {@link Values}. Refuses unsupported types, null map keys (in what goes to PHP), cycles and over-deep nesting with an
 * {@link IllegalArgumentException} that names the path of the bad value ({@code params.headers[2]}).
 * Not thread-safe; owned by one {@link MessageCodec}.
 */
final class MessageWriter {

    /** Same limit as {@link MessageReader#MAX_DEPTH}, so whatever we send we could read back. */
    static final int MAX_DEPTH = MessageReader.MAX_DEPTH;

    private static final MessagePack.PackerConfig CONFIG = new MessagePack.PackerConfig();
    private static final int SCRATCH_SIZE = 4096;
    /** A cycle would otherwise print 255 path segments. */
    private static final int MAX_PATH_LENGTH = 200;

    private final FrameOutput out;
    /** ASCII strings and direct ByteBuffers pass through here instead of a fresh byte[] each. */
    private final byte[] scratch = new byte[SCRATCH_SIZE];
    private MessagePacker packer;
    /**
     * Whether the message goes to PHP (a request or notify), which refuses a null map key. A
     * response (a fake worker's) may hold one: it is how PHP sends an object's class name.
     */
    private boolean toPhp;

    MessageWriter(FrameOutput out) {
        this.out = out;
        this.packer = CONFIG.newPacker(out);
    }

    /** {@code [0, msgid, method, params]}, or with {@code context} as a 5th element when it is not null. */
    void writeRequest(long msgid, String method, Object params, Map<String, String> context) throws IOException {
        toPhp = true;
        packer.packArrayHeader(context == null ? 4 : 5).packInt(MessageCodec.REQUEST).packLong(msgid);
        writeString(method);
        writeParams(params);
        if (context != null) {
            writeRoot(context, "context");
        }
    }

    /** {@code [1, msgid, error, result]}, or with {@code {"exiting": true}} as a 5th element when {@code exiting}. */
    void writeResponse(long msgid, @Nullable RemoteError error, @Nullable Object result, boolean exiting)
            throws IOException {
        toPhp = false;
        packer.packArrayHeader(exiting ? 5 : 4).packInt(MessageCodec.RESPONSE).packLong(msgid);
        if (error == null) {
            packer.packNil();
        } else {
            boolean data = error.type() != null || error.where() != null;
            packer.packMapHeader(data ? 3 : 2);
            writeString("code");
            packer.packLong(error.code());
            writeString("message");
            writeString(error.message());
            if (data) { // as folk-worker-php writes it; where is written whole, as the file
                packer.packMapHeader(2);
                writeString("class");
                writeValue(error.type(), 2);
                writeString("file");
                writeValue(error.where(), 2);
            }
        }
        writeRoot(result, "result");
        if (exiting) {
            packer.packMapHeader(1);
            writeString(MessageCodec.EXITING);
            packer.packBoolean(true);
        }
    }

    void writeNotify(String method, @Nullable Object params) throws IOException {
        toPhp = true;
        packer.packArrayHeader(3).packInt(MessageCodec.NOTIFY);
        writeString(method);
        writeParams(params);
    }

    /** Hands everything the packer still buffers to the output. */
    void flush() throws IOException {
        packer.flush();
    }

    /**
     * After a failed encode the packer may still point into the output's array: start over with a
     * fresh one (the rare path, so the allocation does not matter).
     */
    void recover() {
        packer = CONFIG.newPacker(out);
        out.reset();
    }

    /** Top-level params; an empty map goes out as an empty array like a nested one (writeMap), so PHP gets []. */
    private void writeParams(@Nullable Object params) throws IOException {
        writeRoot(params instanceof Optional<?> optional ? optional.orElse(null) : params, "params");
    }

    private void writeRoot(@Nullable Object value, String root) throws IOException {
        try {
            writeValue(value, 1); // level 1 is the message array itself
        } catch (PathException e) {
            String path = e.path.length() <= MAX_PATH_LENGTH ? e.path : e.path.substring(0, MAX_PATH_LENGTH) + "...";
            throw new IllegalArgumentException("Cannot encode " + root + path + ": " + e.getMessage());
        }
    }

    /** @param level number of containers around {@code value}, the message array included */
    private void writeValue(@Nullable Object value, int level) throws IOException {
        if (value == null) {
            packer.packNil();
        } else if (value instanceof String s) {
            writeString(s);
        } else if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            packer.packLong(((Number) value).longValue()); // smallest encoding, as PHP does
        } else if (value instanceof Boolean b) {
            packer.packBoolean(b);
        } else if (value instanceof Map<?, ?> map) {
            writeMap(map, level + 1);
        } else if (value instanceof Collection<?> collection) {
            writeCollection(collection, level + 1);
        } else if (value instanceof byte[] bytes) {
            packer.packBinaryHeader(bytes.length);
            packer.writePayload(bytes);
        } else if (value instanceof Double || value instanceof Float) {
            packer.packDouble(((Number) value).doubleValue()); // PHP floats are always float64
        } else if (value instanceof BigInteger big) {
            writeBigInteger(big);
        } else if (value instanceof ByteBuffer buffer) {
            writeByteBuffer(buffer);
        } else if (value instanceof CharSequence chars) {
            writeString(chars.toString());
        } else if (value instanceof Object[] array) {
            writeArray(array, level + 1);
        } else if (value instanceof Enum<?> e) {
            writeString(e.name());
        } else if (value instanceof Optional<?> optional) {
            // Counts as a level: Optionals can nest without bound too.
            checkDepth(level + 1);
            writeValue(optional.orElse(null), level + 1);
        } else if (value instanceof BigDecimal decimal) {
            writeString(decimal.toPlainString()); // exact, as PHP money code (bcmath) wants it; a float would round
        } else if (value instanceof Instant instant) {
            // ISO-8601, as inside a record: ext-msgpack unpacks the timestamp ext as null, our PHP codec not at all.
            writeString(instant.toString());
        } else {
            throw new PathException("unsupported type " + value.getClass().getName());
        }
    }

    private void writeMap(Map<?, ?> map, int level) throws IOException {
        checkDepth(level);
        int size = map.size();
        if (size == 0) {
            packer.packArrayHeader(0); // PHP unpacks 0x80 as an object; 0x90 is its empty array
            return;
        }
        packer.packMapHeader(size);
        int written = 0;
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            if (++written > size) {
                throw new PathException("map changed while being encoded");
            }
            Object key = entry.getKey();
            if (key == null && toPhp) {
                // No PHP array key: ext-msgpack takes a nil key for an object's class name, our PHP codec for "".
                throw new PathException("a map with a null key, which a PHP array cannot hold");
            }
            try {
                writeValue(key, level);
            } catch (PathException e) {
                throw e.in(" (key " + segment(key) + ")");
            }
            try {
                writeValue(entry.getValue(), level);
            } catch (PathException e) {
                throw e.in(segment(key));
            }
        }
        if (written != size) {
            throw new PathException("map changed while being encoded");
        }
    }

    private void writeCollection(Collection<?> collection, int level) throws IOException {
        checkDepth(level);
        int size = collection.size();
        packer.packArrayHeader(size);
        int index = 0;
        for (Object element : collection) {
            if (index == size) {
                throw new PathException("collection changed while being encoded");
            }
            try {
                writeValue(element, level);
            } catch (PathException e) {
                throw e.in("[" + index + "]");
            }
            index++;
        }
        if (index != size) {
            throw new PathException("collection changed while being encoded");
        }
    }

    private void writeArray(Object[] array, int level) throws IOException {
        checkDepth(level);
        packer.packArrayHeader(array.length);
        for (int i = 0; i < array.length; i++) {
            try {
                writeValue(array[i], level);
            } catch (PathException e) {
                throw e.in("[" + i + "]");
            }
        }
    }

    /**
     * ASCII (nearly every method name and header) is copied into a reused scratch array; anything
     * else costs one {@code getBytes}, which also turns unpaired surrogates into '?'.
     */
    private void writeString(String s) throws IOException {
        int length = s.length();
        if (length <= scratch.length) {
            int i = 0;
            while (i < length) {
                char c = s.charAt(i);
                if (c >= 0x80) {
                    break;
                }
                scratch[i++] = (byte) c;
            }
            if (i == length) {
                packer.packRawStringHeader(length);
                packer.writePayload(scratch, 0, length);
                return;
            }
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        packer.packRawStringHeader(utf8.length);
        packer.writePayload(utf8);
    }

    /** The buffer's remaining bytes as bin; its position is left alone. */
    private void writeByteBuffer(ByteBuffer buffer) throws IOException {
        int length = buffer.remaining();
        packer.packBinaryHeader(length);
        if (buffer.hasArray()) {
            packer.writePayload(buffer.array(), buffer.arrayOffset() + buffer.position(), length);
            return;
        }
        int start = buffer.position();
        for (int done = 0; done < length; ) {
            int chunk = Math.min(scratch.length, length - done);
            buffer.get(start + done, scratch, 0, chunk);
            packer.writePayload(scratch, 0, chunk);
            done += chunk;
        }
    }

    private void writeBigInteger(BigInteger value) throws IOException {
        if (value.bitLength() <= 63) {
            packer.packLong(value.longValue());
        } else if (value.signum() > 0 && value.bitLength() == 64) {
            packer.packBigInteger(value); // uint64
        } else {
            throw new PathException("integer " + value + " is outside the MessagePack range [-2^63, 2^64 - 1]");
        }
    }

    private static void checkDepth(int level) {
        if (level > MAX_DEPTH) {
            throw new PathException("nested deeper than " + MAX_DEPTH + " levels (a cycle?)");
        }
    }

    private static String segment(Object key) {
        if (key instanceof String s && isName(s)) {
            return "." + s;
        }
        if (key instanceof CharSequence s) {
            return "[\"" + s + "\"]";
        }
        return "[" + key + "]";
    }

    private static boolean isName(String s) {
        if (s.isEmpty() || s.length() > 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isLetterOrDigit(c) && c != '_' && c != '-') {
                return false;
            }
        }
        return true;
    }

    /**
     * Carries the failing value's path outwards: each container prepends its own segment as the
     * exception passes, so the happy path pays nothing for paths.
     */
    private static final class PathException extends RuntimeException {
        private String path = "";

        PathException(String problem) {
            super(problem, null, false, false);
        }

        PathException in(String segment) {
            path = segment + path;
            return this;
        }
    }
}
