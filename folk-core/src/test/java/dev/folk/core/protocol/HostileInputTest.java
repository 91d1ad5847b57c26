package dev.folk.core.protocol;

import static dev.folk.core.protocol.Bytes.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Malformed and malicious payloads: only ever a {@link ProtocolException}, quickly, with bounded memory. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class HostileInputTest {

    private static final String PEER = "worker 1234 of pool 'php'";

    private final MessageCodec codec = new MessageCodec(PEER);

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = ';', value = {
            "c0                          ; a message must be an array, got nil",
            "a3 61 62 63                 ; a message must be an array, got string",
            "81 a1 61 01                 ; a message must be an array, got map",
            "c1                          ; a message must be an array, got the invalid byte 0xc1",
            "90                          ; a message must be an array of 3 to 5 elements, got 0",
            "96 01 01 c0 c0 c0 c0        ; a message must be an array of 3 to 5 elements, got 6",
            "95 00 01 a1 6d c0 c0        ; a message of type 0 must have 4 elements, got 5",
            "93 00 01 a1 6d              ; a message of type 0 must have 4 elements, got 3",
            "93 01 01 c0                 ; a message of type 1 must have 4 or 5 elements, got 3",
            "94 02 a1 6d c0 c0           ; a message of type 2 must have 3 elements, got 4",
            "94 03 01 a1 6d c0           ; unknown message type 3",
            "94 ff 01 a1 6d c0           ; unknown message type -1",
            "94 a1 30 01 a1 6d c0        ; message type must be an integer, got string",
            "94 00 ff a1 6d c0           ; msgid -1 is not an unsigned 32-bit integer",
            "94 00 cf 00 00 00 01 00 00 00 00 a1 6d c0 ; msgid 4294967296 is not an unsigned 32-bit integer",
            "94 00 cf ff ff ff ff ff ff ff ff a1 6d c0 ; msgid 18446744073709551615 is out of range",
            "94 00 cb 3f f0 00 00 00 00 00 00 a1 6d c0 ; msgid must be an integer, got float",
            "94 00 01 c4 01 6d c0        ; method must be a string, got binary",
            "94 00 01 c0 c0              ; method must be a string, got nil",
            "94 00 01 a2 c3 28 c0        ; method name is not valid UTF-8",
            "94 01 01 05 c0              ; a response error must be nil, a map or a string, got Long",
            "94 01 01 90 c0              ; a response error must be nil, a map or a string, got ArrayList",
            "94 00 01 a1 6d c0 c0        ; 1 trailing bytes after the message",
            "94 00 01 a1 6d c1           ; invalid MessagePack byte 0xc1",
            "94 00 01 a1 6d d4 05 00     ; unsupported extension type 5",
            "94 00 01 a1 6d dd 7f ff ff ff ; an array of 2147483647 elements cannot fit in the 0 remaining bytes",
            "94 00 01 a1 6d dc 00 03 c0 c0 ; an array of 3 elements cannot fit in the 2 remaining bytes",
            "94 00 01 a1 6d df 7f ff ff ff ; a map of 2147483647 entries cannot fit in the 0 remaining bytes",
            "94 00 01 a1 6d 83 c0 c0 c0 c0 c0 ; a map of 3 entries cannot fit in the 5 remaining bytes",
            "94 00 01 a1 6d db 7f ff ff ff ; a string of 2147483647 bytes cannot fit in the 0 remaining bytes",
            "94 00 01 a1 6d c6 7f ff ff ff 00 ; a binary of 2147483647 bytes cannot fit in the 1 remaining bytes",
            "94 00 01 a1 6d c9 7f ff ff ff ff ; an extension of 2147483647 bytes cannot fit in the 0 remaining bytes",
            "94 00 01 a1 6d 92 c0        ; an array of 2 elements cannot fit in the 1 remaining bytes",
            "94 00 01 a1                 ; a string of 1 bytes cannot fit in the 0 remaining bytes",
            "94 00 01 a1 6d cd 01        ; payload ends inside a value",
            "94 00                       ; payload ends inside a value",
            "94 00 01 a1 6d d4 ff 00     ; malformed MessagePack",
            "94 00 01 a1 6d db ff ff ff ff ; malformed MessagePack",
            "94 00 01 a1 6d dd ff ff ff ff ; malformed MessagePack",
    })
    void malformedPayloadIsAProtocolError(String payload, String problem) {
        assertThatThrownBy(() -> codec.decode(ByteBuffer.wrap(hex(payload))))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageStartingWith("Protocol error from " + PEER + ": ")
                .hasMessageContaining(problem);
    }

    @Test
    void megabytesOfNestedArraysHitTheDepthLimitNotTheStack() {
        byte[] payload = filled(MessageCodec.DEFAULT_MAX_FRAME_LENGTH, 0x91);
        assertThatThrownBy(() -> codec.decode(ByteBuffer.wrap(payload)))
                .isExactlyInstanceOf(ProtocolException.class); // a message array of one element
        // As params of a valid message, read from a channel as a worker would send it.
        byte[] message = Bytes.concat(hex("94 00 01 a1 6d"), Arrays.copyOf(payload, payload.length - 5));
        ByteArrayInputStream in = new ByteArrayInputStream(Bytes.frame(message));
        assertThatThrownBy(() -> codec.readMessage(Channels.newChannel(in)))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageContaining("nested deeper than 256 levels");
        byte[] maps = Bytes.concat(hex("94 00 01 a1 6d"), filled(MessageCodec.DEFAULT_MAX_FRAME_LENGTH - 5, 0x81));
        assertThatThrownBy(() -> codec.decode(ByteBuffer.wrap(maps))) // maps nest too, as keys
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageContaining("nested deeper than 256 levels");
    }

    @Test
    void nestingAtTheLimitIsAccepted() {
        // message array (level 1) + 255 nested arrays = 256 levels
        byte[] payload = Bytes.concat(hex("94 00 01 a1 6d"), filled(254, 0x91), hex("90"));
        assertThat(codec.decode(ByteBuffer.wrap(payload))).isInstanceOf(Message.Request.class);
        byte[] tooDeep = Bytes.concat(hex("94 00 01 a1 6d"), filled(255, 0x91), hex("90"));
        assertThatThrownBy(() -> codec.decode(ByteBuffer.wrap(tooDeep))).isInstanceOf(ProtocolException.class);
    }

    @Test
    void aResponseWhoseResultIsTooDeepIsAnErrorAnswerAndTheRestOfItIsStillRead() {
        // [1, 7, nil, <255 arrays around []>, {"exiting": true}]: 257 levels in the result's bottom
        byte[] payload = Bytes.concat(hex("95 01 07 c0"), filled(255, 0x91), hex("90"),
                hex("81 a7"), "exiting".getBytes(java.nio.charset.StandardCharsets.US_ASCII), hex("c3"));
        Message.Response r = (Message.Response) codec.decode(ByteBuffer.wrap(payload));
        assertThat(r.msgid()).isEqualTo(7);
        assertThat(r.result()).isNull();
        assertThat(r.error()).isNotNull();
        assertThat(r.error().code()).isEqualTo(RemoteError.INTERNAL_ERROR);
        assertThat(r.error().message()).contains("nested deeper than 256 levels");
        assertThat(r.exiting()).isTrue();
        // Cut inside the deep result: still malformed, a protocol error.
        byte[] cut = Bytes.concat(hex("94 01 07 c0"), filled(300, 0x91));
        assertThatThrownBy(() -> codec.decode(ByteBuffer.wrap(cut))).isInstanceOf(ProtocolException.class);
        // Trailing bytes after the skipped result are still refused.
        byte[] trailing = Bytes.concat(hex("94 01 07 c0"), filled(255, 0x91), hex("90 00"));
        assertThatThrownBy(() -> codec.decode(ByteBuffer.wrap(trailing))).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("trailing");
        // A deep error object (not a result) stays a protocol error.
        byte[] deepError = Bytes.concat(hex("94 01 07"), filled(255, 0x91), hex("90 c0"));
        assertThatThrownBy(() -> codec.decode(ByteBuffer.wrap(deepError))).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("nested deeper");
    }

    @Test
    void emptyPayloadIsAProtocolError() {
        assertThatThrownBy(() -> codec.decode(ByteBuffer.allocate(0)))
                .isExactlyInstanceOf(ProtocolException.class).hasMessageContaining("empty payload");
    }

    @Test
    void invalidUtf8StringsArriveAsTheirExactBytes() {
        for (String invalid : List.of("c3 28", "ff", "c0 80", "ed a0 80", "f4 90 80 80", "e2 82", "80", "f8 88 80 80 80")) {
            byte[] bytes = hex(invalid);
            Object value = params(strOf(bytes));
            assertThat(value).as(invalid).isInstanceOf(byte[].class);
            assertThat((byte[]) value).as(invalid).isEqualTo(bytes);
        }
    }

    @Test
    void validUtf8StringsArriveAsStrings() {
        for (String valid : List.of("hello", "é", "€", "😀", "\u0000", "\uFFFF", "\uD83D\uDE00 mixed ascii", "ÿ")) {
            assertThat(params(strOf(valid.getBytes(StandardCharsets.UTF_8)))).as(valid).isEqualTo(valid);
        }
    }

    @Test
    void longStringsPastTheScratchBufferAreDecodedStrictlyToo() {
        byte[] valid = "é".repeat(5000).getBytes(StandardCharsets.UTF_8);
        assertThat(params(strOf(valid))).isEqualTo("é".repeat(5000));
        byte[] invalid = valid.clone();
        invalid[9000] = (byte) 0xff;
        assertThat((byte[]) params(strOf(invalid))).isEqualTo(invalid);
        byte[] ascii = "a".repeat(70_000).getBytes(StandardCharsets.US_ASCII);
        assertThat(params(strOf(ascii))).isEqualTo("a".repeat(70_000));
    }

    @Test
    void phpShapesAreUnderstood() {
        // A PHP object: a map whose nil key holds the class name.
        Map<Object, Object> object = new HashMap<>();
        object.put(null, "stdClass");
        object.put("a", 1L);
        assertThat(params(hex("82 c0 a8 73 74 64 43 6c 61 73 73 a1 61 01"))).isEqualTo(object);
        // uint64: small values as Long, large ones as BigInteger; float32 widened to Double.
        assertThat(params(hex("cf 00 00 00 00 00 00 00 01"))).isEqualTo(1L);
        assertThat(params(hex("cf 80 00 00 00 00 00 00 00"))).isEqualTo(BigInteger.ONE.shiftLeft(63));
        assertThat(params(hex("ca 3f c0 00 00"))).isEqualTo(1.5d);
        // Timestamps in all three sizes.
        assertThat(params(hex("d6 ff 00 00 00 01"))).isEqualTo(Instant.ofEpochSecond(1));
        assertThat(params(hex("d7 ff 00 00 00 04 00 00 00 02"))).isEqualTo(Instant.ofEpochSecond(2, 1));
        assertThat(params(hex("c7 0c ff 00 00 00 03 ff ff ff ff ff ff ff ff"))).isEqualTo(Instant.ofEpochSecond(-1, 3));
    }

    @Test
    void sloppyErrorsBecomeInternalErrors() {
        assertThat(error(hex("a4 62 6f 6f 6d"))).isEqualTo(new RemoteError(RemoteError.INTERNAL_ERROR, "boom"));
        assertThat(error(hex("81 a7 6d 65 73 73 61 67 65 a1 78"))).isEqualTo(new RemoteError(RemoteError.INTERNAL_ERROR, "x"));
        assertThat(error(hex("81 a4 63 6f 64 65 a1 78"))).isEqualTo(new RemoteError(RemoteError.INTERNAL_ERROR, ""));
        assertThat(error(hex("82 a4 63 6f 64 65 07 a7 6d 65 73 73 61 67 65 a2 c3 28")))
                .isEqualTo(new RemoteError(7, "\uFFFD("));
    }

    private Object params(byte[] value) {
        Message.Request request = (Message.Request) codec.decode(ByteBuffer.wrap(Bytes.concat(hex("94 00 01 a1 6d"), value)));
        return request.params();
    }

    private RemoteError error(byte[] value) {
        Message.Response response = (Message.Response) codec.decode(ByteBuffer.wrap(Bytes.concat(hex("94 01 01"), value, hex("c0"))));
        assertThat(response.isError()).isTrue();
        return response.error();
    }

    /** {@code bytes} as a msgpack str, whatever they contain. */
    static byte[] strOf(byte[] bytes) {
        ByteBuffer header = ByteBuffer.allocate(5);
        if (bytes.length < 32) {
            header.put((byte) (0xa0 | bytes.length));
        } else if (bytes.length < 256) {
            header.put((byte) 0xd9).put((byte) bytes.length);
        } else if (bytes.length < 65536) {
            header.put((byte) 0xda).putShort((short) bytes.length);
        } else {
            header.put((byte) 0xdb).putInt(bytes.length);
        }
        return Bytes.concat(Arrays.copyOf(header.array(), header.position()), bytes);
    }

    private static byte[] filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }
}
