package dev.folk.core.protocol;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.msgpack.core.ExtensionTypeHeader;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessageInsufficientBufferException;
import org.msgpack.core.MessageIntegerOverflowException;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.core.buffer.ArrayBufferInput;
import org.msgpack.value.ValueType;

import org.jspecify.annotations.Nullable;

/**
 * Turns one frame payload into a {@link Message}, following the mapping documented in
 * {@link Values}. The payload comes from a process we do not trust to be correct, so every
 * failure is a {@link ProtocolException} and nothing is sized by what the payload merely claims:
 * a declared length must fit in the bytes that remain (each array element takes at least 1 byte,
 * each map entry 2) before anything is allocated, and nesting is capped at {@link #MAX_DEPTH}
 * so the recursion cannot overflow the stack. Not thread-safe; owned by one {@link MessageCodec}.
 */
final class MessageReader {

    /** Containers allowed around a value, the message array included. */
    static final int MAX_DEPTH = 256;

    private static final MessagePack.UnpackerConfig CONFIG = new MessagePack.UnpackerConfig();
    private static final int SCRATCH_SIZE = 4096;
    private static final byte[] NO_BYTES = {};

    private final String peer;
    /** Heap arrays only: msgpack-core reads direct buffers through sun.nio.ch, closed since Java 17. */
    private final ArrayBufferInput input = new ArrayBufferInput(NO_BYTES);
    private final MessageUnpacker unpacker = CONFIG.newUnpacker(input);
    /** Short strings are validated here before they become a String, saving a byte[] per string. */
    private final byte[] scratch = new byte[SCRATCH_SIZE];
    private long end;
    /** The payload being read, and where in it the unpacker's input starts (it restarts after a skipped result). */
    private byte[] payload = NO_BYTES;
    private int offset;
    private long base;

    MessageReader(String peer) {
        this.peer = peer;
    }

    /** Decodes {@code length} bytes of {@code payload} from {@code offset}. */
    Message read(byte[] payload, int offset, int length) {
        end = length;
        this.payload = payload;
        this.offset = offset;
        base = 0;
        try {
            input.reset(payload, offset, length);
            unpacker.reset(input);
            Message message = readMessage();
            long trailing = end - position();
            if (trailing != 0) {
                throw error(trailing + " trailing bytes after the message");
            }
            return message;
        } catch (ProtocolException e) {
            throw e;
        } catch (TooDeep e) {
            throw new ProtocolException(peer, e.detail);
        } catch (MessageInsufficientBufferException e) {
            throw new ProtocolException(peer, "payload ends inside a value" + where(), e);
        } catch (IOException | RuntimeException e) {
            // msgpack-core's format, size and overflow exceptions, and e.g. a timestamp out of Instant's range
            throw new ProtocolException(peer, "malformed MessagePack" + where() + ": " + e, e);
        } finally {
            this.payload = NO_BYTES;
        }
    }

    /** Bytes of the payload read so far. */
    private long position() {
        return base + unpacker.getTotalReadBytes();
    }

    private Message readMessage() throws IOException {
        MessageFormat format = unpacker.getNextFormat();
        if (valueType(format) != ValueType.ARRAY) {
            throw error("a message must be an array, got " + describe(format));
        }
        int size = unpacker.unpackArrayHeader();
        if (size < 3 || size > 5) {
            throw error("a message must be an array of 3 to 5 elements, got " + size);
        }
        long type = readInteger("message type");
        if (type == MessageCodec.REQUEST && size == 4) {
            long msgid = readMsgid();
            String method = readMethod();
            return new Message.Request(msgid, method, readValue(1));
        }
        if (type == MessageCodec.RESPONSE && size >= 4) {
            long msgid = readMsgid();
            RemoteError error = remoteError(readValue(1));
            long resultAt = position();
            Object result;
            try {
                result = readValue(1);
            } catch (TooDeep e) {
                // Deeper than this reader goes, yet the frame is whole and the worker in step: the call
                // fails with an error answer, and the worker serves on.
                skipValueAt(resultAt);
                error = new RemoteError(RemoteError.INTERNAL_ERROR, "the handler's result is nested deeper than "
                        + MAX_DEPTH + " levels (the message included), more than the master reads; return a flatter "
                        + "value (deep data as a JSON string, say)");
                result = null;
            }
            // A 5th element: notes about the worker, a map; {"exiting": true} is the one we know.
            boolean exiting = size == 5 && readValue(1) instanceof Map<?, ?> notes
                    && Boolean.TRUE.equals(notes.get(MessageCodec.EXITING));
            return new Message.Response(msgid, error, result, exiting);
        }
        if (type == MessageCodec.NOTIFY && size == 3) {
            String method = readMethod();
            return new Message.Notify(method, readValue(1));
        }
        if (type < MessageCodec.REQUEST || type > MessageCodec.NOTIFY) {
            throw error("unknown message type " + type);
        }
        throw error("a message of type " + type + " must have " + (type == MessageCodec.NOTIFY ? "3"
                : type == MessageCodec.RESPONSE ? "4 or 5" : "4") + " elements, got " + size);
    }

    private long readInteger(String what) throws IOException {
        MessageFormat format = unpacker.getNextFormat();
        if (valueType(format) != ValueType.INTEGER) {
            throw error(what + " must be an integer, got " + describe(format));
        }
        try {
            return unpacker.unpackLong();
        } catch (MessageIntegerOverflowException e) {
            throw error(what + " " + e.getBigInteger() + " is out of range");
        }
    }

    private long readMsgid() throws IOException {
        long msgid = readInteger("msgid");
        if (msgid < 0 || msgid > Message.MAX_MSGID) {
            throw error("msgid " + msgid + " is not an unsigned 32-bit integer");
        }
        return msgid;
    }

    private String readMethod() throws IOException {
        MessageFormat format = unpacker.getNextFormat();
        if (valueType(format) != ValueType.STRING) {
            throw error("method must be a string, got " + describe(format));
        }
        if (readString(unpacker.unpackRawStringHeader()) instanceof String method) {
            return method;
        }
        throw error("method name is not valid UTF-8");
    }

    /**
     * Lenient where PHP workers are sloppy: a bare string is an internal error with that text, a
     * map without an integer code is an internal error. Any other non-nil value is a protocol error.
     */
    private @Nullable RemoteError remoteError(@Nullable Object error) {
        if (error == null) {
            return null;
        }
        if (error instanceof Map<?, ?> map) {
            Object code = map.get("code");
            Object text = map.get("message");
            String type = null;
            String where = null;
            if (map.get("data") instanceof Map<?, ?> data) { // what was thrown, where: optional, lenient
                Object thrown = data.get("class");
                type = thrown instanceof String || thrown instanceof byte[] ? Values.asString(thrown) : null;
                Object file = data.get("file");
                if (file instanceof String || file instanceof byte[]) {
                    where = Values.asString(file) + (data.get("line") instanceof Long line ? ":" + line : "");
                }
            }
            return new RemoteError(code instanceof Long c ? c : RemoteError.INTERNAL_ERROR,
                    text == null ? "" : text instanceof byte[] bytes ? Values.asString(bytes) : text.toString(),
                    type, where);
        }
        if (error instanceof String || error instanceof byte[]) {
            return new RemoteError(RemoteError.INTERNAL_ERROR, Values.asString(error));
        }
        throw error("a response error must be nil, a map or a string, got " + error.getClass().getSimpleName());
    }

    /** @param level number of containers around the value, the message array included */
    private @Nullable Object readValue(int level) throws IOException {
        MessageFormat format = unpacker.getNextFormat();
        return switch (format) {
            case NIL -> {
                unpacker.unpackNil();
                yield null;
            }
            case BOOLEAN -> unpacker.unpackBoolean();
            case POSFIXINT, NEGFIXINT, INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32 -> unpacker.unpackLong();
            case UINT64 -> {
                BigInteger value = unpacker.unpackBigInteger();
                yield value.bitLength() < 64 ? (Object) value.longValue() : value;
            }
            case FLOAT32 -> (double) unpacker.unpackFloat();
            case FLOAT64 -> unpacker.unpackDouble();
            case FIXSTR, STR8, STR16, STR32 -> readString(unpacker.unpackRawStringHeader());
            case BIN8, BIN16, BIN32 -> readBinary(unpacker.unpackBinaryHeader());
            case FIXARRAY, ARRAY16, ARRAY32 -> readArray(unpacker.unpackArrayHeader(), level + 1);
            case FIXMAP, MAP16, MAP32 -> readMap(unpacker.unpackMapHeader(), level + 1);
            case FIXEXT1, FIXEXT2, FIXEXT4, FIXEXT8, FIXEXT16, EXT8, EXT16, EXT32 -> readExtension();
            case NEVER_USED -> throw error("invalid MessagePack byte 0xc1");
            default -> throw error("unsupported MessagePack format " + format); // a newer msgpack-core
        };
    }

    private List<Object> readArray(int size, int level) throws IOException {
        checkDepth(level);
        checkFits(size, 1, "an array of " + size + " elements");
        List<Object> list = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            list.add(readValue(level));
        }
        return list;
    }

    private Map<Object, Object> readMap(int size, int level) throws IOException {
        checkDepth(level);
        checkFits(size, 2, "a map of " + size + " entries");
        Map<Object, Object> map = new LinkedHashMap<>(size < 3 ? size + 1 : (int) (size / 0.75f) + 1);
        for (int i = 0; i < size; i++) {
            Object key = readValue(level);
            map.put(key, readValue(level));
        }
        return map;
    }

    /**
     * A str becomes a String only when it is valid UTF-8, otherwise the exact bytes: PHP packs
     * binary bodies as str, and a lossy decode would corrupt them.
     */
    private Object readString(int length) throws IOException {
        if (length == 0) {
            return "";
        }
        checkFits(length, 1, "a string of " + length + " bytes");
        byte[] bytes = length <= scratch.length ? scratch : new byte[length];
        unpacker.readPayload(bytes, 0, length);
        int ascii = 0;
        while (ascii < length && bytes[ascii] >= 0) {
            ascii++;
        }
        if (ascii == length) {
            return new String(bytes, 0, length, StandardCharsets.ISO_8859_1); // ASCII: a plain copy
        }
        if (isValidUtf8(bytes, ascii, length)) {
            return new String(bytes, 0, length, StandardCharsets.UTF_8);
        }
        return bytes == scratch ? Arrays.copyOf(bytes, length) : bytes;
    }

    private byte[] readBinary(int length) throws IOException {
        if (length == 0) {
            return NO_BYTES;
        }
        checkFits(length, 1, "a binary of " + length + " bytes");
        byte[] bytes = new byte[length];
        unpacker.readPayload(bytes);
        return bytes;
    }

    private Object readExtension() throws IOException {
        ExtensionTypeHeader header = unpacker.unpackExtensionTypeHeader();
        checkFits(header.getLength(), 1, "an extension of " + header.getLength() + " bytes");
        if (header.getType() != -1) {
            throw error("unsupported extension type " + header.getType());
        }
        return unpacker.unpackTimestamp(header);
    }

    private void checkDepth(int level) {
        if (level > MAX_DEPTH) {
            throw new TooDeep("values nested deeper than " + MAX_DEPTH + " levels" + where());
        }
    }

    /** Skips the value that starts at byte {@code at}, without recursion (msgpack-core counts what is left to skip). */
    private void skipValueAt(long at) throws IOException {
        base = at;
        input.reset(payload, offset + (int) at, (int) (end - at));
        unpacker.reset(input);
        unpacker.skipValue();
    }

    /** Refuses a declared size the rest of the payload cannot hold, before anything is allocated for it. */
    private void checkFits(int count, int minBytesEach, String what) {
        long remaining = end - position();
        if (count < 0 || (long) count * minBytesEach > remaining) {
            throw error(what + " cannot fit in the " + remaining + " remaining bytes");
        }
    }

    private ProtocolException error(String detail) {
        return new ProtocolException(peer, detail + where());
    }

    private String where() {
        return " (at byte " + position() + " of a " + end + "-byte payload)";
    }

    /** Values nested deeper than {@link #MAX_DEPTH}: a protocol error, except in a response's result. */
    private static final class TooDeep extends RuntimeException {
        final String detail;

        TooDeep(String detail) {
            super(detail, null, false, false); // unwinds the recursion; no stack trace needed
            this.detail = detail;
        }
    }

    /** Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
    static boolean isValidUtf8(byte[] bytes, int from, int to) {
        int i = from;
        while (i < to) {
            int b = bytes[i++];
            if (b >= 0) {
                continue;
            }
            b &= 0xff;
            int more;
            int low = 0x80;
            int high = 0xbf;
            if (b >= 0xc2 && b <= 0xdf) {
                more = 1;
            } else if (b >= 0xe0 && b <= 0xef) {
                more = 2;
                if (b == 0xe0) {
                    low = 0xa0; // overlong
                } else if (b == 0xed) {
                    high = 0x9f; // surrogates
                }
            } else if (b >= 0xf0 && b <= 0xf4) {
                more = 3;
                if (b == 0xf0) {
                    low = 0x90; // overlong
                } else if (b == 0xf4) {
                    high = 0x8f; // above U+10FFFF
                }
            } else {
                return false;
            }
            if (to - i < more) {
                return false;
            }
            int second = bytes[i++] & 0xff;
            if (second < low || second > high) {
                return false;
            }
            for (int k = 1; k < more; k++) {
                if ((bytes[i++] & 0xc0) != 0x80) {
                    return false;
                }
            }
        }
        return true;
    }

    private static @Nullable ValueType valueType(MessageFormat format) {
        return format == MessageFormat.NEVER_USED ? null : format.getValueType();
    }

    private static String describe(MessageFormat format) {
        ValueType type = valueType(format);
        return type == null ? "the invalid byte 0xc1" : type.name().toLowerCase();
    }
}
