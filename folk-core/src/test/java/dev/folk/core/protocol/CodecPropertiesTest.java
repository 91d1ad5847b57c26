package dev.folk.core.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.Channels;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Round trips of random values, and random or mutated bytes that must only ever fail cleanly.
 * Each property runs {@value #TRIES} seeded cases; a failure names its seed.
 */
class CodecPropertiesTest {

    private static final int TRIES = 1000;

    private final MessageCodec codec = new MessageCodec("worker 1 of pool 'fuzz'");

    /** Runs {@code property} for seeds 0..TRIES-1 (offset per property), naming the seed on failure. */
    private static void forAll(long base, ThrowingConsumer<RandomValues> property) {
        for (int i = 0; i < TRIES; i++) {
            long seed = base * 1_000_003L + i;
            try {
                property.accept(new RandomValues(seed));
            } catch (Throwable t) {
                throw new AssertionError("property failed for seed " + seed + ": " + t, t);
            }
        }
    }

    @FunctionalInterface
    private interface ThrowingConsumer<T> {
        void accept(T t) throws Exception;
    }

    // ---------------------------------------------------------------- round trips

    @Test
    void requestParamsRoundTrip() {
        forAll(1, gen -> {
            Object params = gen.params();
            Message.Request back = (Message.Request) writeAndRead(codec.encodeRequest(7, "m", params));
            // Empty maps go out as empty arrays, top-level params included.
            assertThat(view(back.params())).isEqualTo(model(params));
        });
    }

    @Test
    void responseResultRoundTrips() {
        forAll(2, gen -> {
            Object result = gen.value();
            Message.Response back = (Message.Response) writeAndRead(codec.encodeResponse(8, null, result));
            assertThat(back.isError()).isFalse();
            assertThat(view(back.result())).isEqualTo(model(result));
        });
    }

    @Test
    void strBytesDecodeLosslessly() {
        forAll(3, gen -> {
            byte[] bytes = gen.utf8ish();
            byte[] payload = Bytes.concat(Bytes.hex("94 00 01 a1 6d"), HostileInputTest.strOf(bytes));
            Object value = ((Message.Request) codec.decode(ByteBuffer.wrap(payload))).params();
            String strict = strictUtf8(bytes);
            if (strict != null) {
                assertThat(value).isEqualTo(strict);
            } else {
                assertThat(value).isInstanceOf(byte[].class);
                assertThat((byte[]) value).isEqualTo(bytes);
            }
        });
    }

    @Test
    void utf8ValidationAgreesWithTheJdk() {
        forAll(4, gen -> {
            byte[] bytes = gen.utf8ish();
            assertThat(MessageReader.isValidUtf8(bytes, 0, bytes.length)).isEqualTo(strictUtf8(bytes) != null);
        });
    }

    // ---------------------------------------------------------------- hostile bytes

    @Test
    void randomPayloadsYieldAMessageOrAProtocolError() {
        forAll(5, gen -> decodeOrProtocolError(gen.bytes(300)));
    }

    @Test
    void randomPayloadsThatLookLikeMessagesYieldAMessageOrAProtocolError() {
        forAll(6, gen -> decodeOrProtocolError(Bytes.concat(gen.messageHead(), gen.bytes(200))));
    }

    @Test
    void mutatedMessagesYieldAMessageOrAProtocolError() {
        forAll(7, gen -> {
            byte[] payload = Bytes.remaining(codec.encodeRequest(9, "http.handle", gen.params()));
            payload = java.util.Arrays.copyOfRange(payload, 4, payload.length);
            Random random = gen.random();
            int mutations = 1 + random.nextInt(4);
            for (int i = 0; i < mutations; i++) {
                int at = random.nextInt(payload.length);
                switch (random.nextInt(4)) {
                    case 0 -> payload[at] = (byte) random.nextInt(256);
                    case 1 -> payload[at] = (byte) (0xc4 + random.nextInt(0x1c)); // headers of sized formats
                    case 2 -> payload = java.util.Arrays.copyOf(payload, Math.max(1, at));
                    default -> payload = Bytes.concat(java.util.Arrays.copyOf(payload, at),
                            new byte[] {(byte) random.nextInt(256)}, java.util.Arrays.copyOfRange(payload, at, payload.length));
                }
            }
            decodeOrProtocolError(payload);
        });
    }

    @Test
    void randomStreamsYieldAMessageAProtocolErrorOrEndOfStream() {
        forAll(8, gen -> {
            MessageCodec small = new MessageCodec(256, "worker 2 of pool 'fuzz'");
            var channel = Channels.newChannel(new ByteArrayInputStream(gen.bytes(300)));
            try {
                while (true) {
                    assertThat(small.readMessage(channel)).isNotNull();
                }
            } catch (ProtocolException | EOFException expected) {
                // the only acceptable ways to fail
            }
        });
    }

    // ---------------------------------------------------------------- helpers

    private void decodeOrProtocolError(byte[] payload) {
        try {
            assertThat(codec.decode(ByteBuffer.wrap(payload))).isNotNull();
        } catch (ProtocolException expected) {
            assertThat(expected.peer()).isEqualTo("worker 1 of pool 'fuzz'");
        }
    }

    private Message writeAndRead(ByteBuffer frame) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        codec.writeFrame(Channels.newChannel(out), frame);
        return codec.readMessage(Channels.newChannel(new ByteArrayInputStream(out.toByteArray())));
    }

    /** What a value should look like after a round trip, in comparable form (see {@link #view}). */
    private static Object model(Object value) {
        if (value instanceof Map<?, ?> map) {
            return map.isEmpty() ? List.of() : view(map, CodecPropertiesTest::model); // PHP's empty array
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            list.forEach(element -> out.add(model(element)));
            return out;
        }
        return view(value);
    }

    /**
     * A decoded value in comparable form: byte[] as hex (arrays compare by identity) and maps as
     * ordered entry lists (map equality ignores order, and the wire order must be kept).
     */
    private static Object view(Object value) {
        if (value instanceof Map<?, ?> map) {
            return view(map, CodecPropertiesTest::view);
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            list.forEach(element -> out.add(view(element)));
            return out;
        }
        if (value instanceof byte[] bytes) {
            return new Bin(HexFormat.of().formatHex(bytes));
        }
        return value;
    }

    private static Object view(Map<?, ?> map, java.util.function.Function<Object, Object> values) {
        List<List<Object>> entries = new ArrayList<>();
        map.forEach((k, v) -> entries.add(java.util.Arrays.asList(k, values.apply(v))));
        return new Entries(entries);
    }

    /** The strict UTF-8 decoding of {@code bytes}, or null when they are not valid UTF-8. */
    private static String strictUtf8(byte[] bytes) {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            return chars.toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    record Bin(String hex) {
    }

    record Entries(List<List<Object>> entries) {
    }
}
