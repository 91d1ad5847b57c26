package dev.folk.core.protocol;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.util.HexFormat;

/** Test helpers for writing bytes as hex and feeding them to a codec. */
final class Bytes {

    private static final HexFormat HEX = HexFormat.ofDelimiter(" ");

    private Bytes() {
    }

    /** Parses {@code "94 00 03"}; extra spaces and {@code |} separators are ignored. */
    static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex.replace("|", "").replaceAll("\\s+", ""));
    }

    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    /** The remaining bytes of a buffer, leaving its position alone. */
    static byte[] remaining(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** A frame around {@code payload}: big-endian length, then the payload. */
    static byte[] frame(byte[] payload) {
        return concat(ByteBuffer.allocate(4).putInt(payload.length).array(), payload);
    }

    /** A readable channel over the bytes; {@code available()} on the stream shows what is unread. */
    static ReadableByteChannel channel(ByteArrayInputStream in) {
        return Channels.newChannel(in);
    }
}
