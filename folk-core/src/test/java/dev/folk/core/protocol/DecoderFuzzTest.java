package dev.folk.core.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzing of the frame and message decoder by seeded generation: whatever the bytes, only a
 * message or a {@link ProtocolException} (or, for streams, end of stream) comes out, no decode
 * allocates more than its input could justify, and nothing hangs. The saved corpus under
 * {@code fuzz-corpus/} (inputs that once mattered) runs first, every time.
 */
class DecoderFuzzTest {

    private static final int CASES = 20_000;
    /** An input of at most a few KiB may cost at most this much heap to decode. */
    private static final long ALLOCATION_BUDGET = 4L * 1024 * 1024;

    private final MessageCodec codec = new MessageCodec("worker 7 of pool 'fuzz'");
    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** The first decodes in a JVM load and initialise classes: that is not the input's doing. */
    @org.junit.jupiter.api.BeforeEach
    void warmUp() throws IOException {
        Random random = new Random(1);
        for (int i = 0; i < 2_000; i++) {
            try {
                codec.decode(ByteBuffer.wrap(generate(random)));
            } catch (ProtocolException expected) {
                // warming the error paths too
            }
        }
        MessageCodec small = new MessageCodec(64 * 1024, "warm-up");
        try {
            small.readMessage(Channels.newChannel(new ByteArrayInputStream(new byte[] {0, 0, 0, 1, (byte) 0xc0})));
            small.readMessage(Channels.newChannel(new ByteArrayInputStream(new byte[0])));
        } catch (ProtocolException | EOFException expected) {
            // warming up only
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void theSavedCorpusDecodesOrFailsCleanly() throws IOException {
        List<String> names = corpus();
        assertThat(names).hasSizeGreaterThanOrEqualTo(10);
        for (String name : names) {
            byte[] input;
            try (InputStream in = getClass().getResourceAsStream("/fuzz-corpus/" + name)) {
                input = in.readAllBytes();
            }
            decodeWithinBudget(name, input);
            readStreamWithinBudget(name, input);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void generatedPayloadsOnlyEverYieldAMessageOrAProtocolError() {
        Random random = new Random(20261122L);
        for (int i = 0; i < CASES; i++) {
            byte[] input = generate(random);
            decodeWithinBudget("case " + i, input);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void generatedStreamsOnlyEverYieldMessagesAProtocolErrorOrEndOfStream() {
        Random random = new Random(4242L);
        for (int i = 0; i < CASES / 4; i++) {
            byte[] body = generate(random);
            byte[] stream = random.nextInt(3) == 0 ? body : frame(body, random);
            readStreamWithinBudget("stream " + i, stream);
        }
    }

    private void decodeWithinBudget(String name, byte[] input) {
        Message decoded = null;
        Throwable failure = null;
        long before = threads.getCurrentThreadAllocatedBytes();
        try {
            decoded = codec.decode(ByteBuffer.wrap(input));
        } catch (Throwable t) {
            failure = t;
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        if (failure != null && !(failure instanceof ProtocolException)) {
            throw new AssertionError(name + ": " + failure + " for input " + hex(input), failure);
        }
        assertThat(decoded != null || failure.getMessage() != null).isTrue();
        assertThat(allocated).as("%s: bytes allocated decoding %d bytes", name, input.length)
                .isLessThan(ALLOCATION_BUDGET);
    }

    private void readStreamWithinBudget(String name, byte[] stream) {
        MessageCodec small = new MessageCodec(64 * 1024, "worker 8 of pool 'fuzz'");
        var channel = Channels.newChannel(new ByteArrayInputStream(stream));
        Throwable failure = null;
        int frames = 0;
        long before = threads.getCurrentThreadAllocatedBytes();
        try {
            while (frames < 1000 && small.readMessage(channel) != null) {
                frames++;
            }
        } catch (Throwable t) {
            failure = t;
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        if (failure != null && !(failure instanceof ProtocolException) && !(failure instanceof EOFException)) {
            throw new AssertionError(name + ": " + failure + " for stream " + hex(stream), failure);
        }
        assertThat(allocated).as("%s: bytes allocated reading a %d-byte stream", name, stream.length)
                .isLessThan(ALLOCATION_BUDGET);
    }

    /** One hostile payload: random, mutated from a valid message, lying about sizes, or deeply nested. */
    static byte[] generate(Random random) {
        RandomValues gen = new RandomValues(random.nextLong());
        switch (random.nextInt(6)) {
            case 0:
                return gen.bytes(512);
            case 1: {
                byte[] valid = payloadOf(gen.params(), random);
                for (int m = 1 + random.nextInt(4); m > 0 && valid.length > 0; m--) {
                    valid[random.nextInt(valid.length)] = (byte) random.nextInt(256);
                }
                return valid;
            }
            case 2: {
                // a container or string header announcing far more than follows
                int[] heads = {0xc4, 0xc5, 0xc6, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xc7, 0xc8, 0xc9};
                ByteBuffer b = ByteBuffer.allocate(16 + random.nextInt(64));
                b.put(RandomValues.hexOf("94 00 01 a1 6d"));
                b.put((byte) heads[random.nextInt(heads.length)]);
                b.putInt(random.nextBoolean() ? 0x7fffffff : random.nextInt());
                while (b.hasRemaining()) {
                    b.put((byte) random.nextInt(256));
                }
                return b.array();
            }
            case 3: {
                // nesting far deeper than the limit, in arrays or maps
                int depth = 200 + random.nextInt(2000);
                byte open = random.nextBoolean() ? (byte) 0x91 : (byte) 0x81;
                byte[] b = new byte[5 + depth * (open == (byte) 0x81 ? 2 : 1) + 1];
                System.arraycopy(RandomValues.hexOf("94 00 01 a1 6d"), 0, b, 0, 5);
                int at = 5;
                for (int d = 0; d < depth; d++) {
                    if (open == (byte) 0x81) {
                        b[at++] = open;
                        b[at++] = (byte) 0xc0; // nil key
                    } else {
                        b[at++] = open;
                    }
                }
                b[at] = (byte) 0xc0;
                return b;
            }
            case 4:
                return concat(gen.messageHead(), gen.bytes(256));
            default:
                return payloadOf(gen.params(), random);
        }
    }

    private static byte[] payloadOf(Object params, Random random) {
        MessageCodec encoder = new MessageCodec("gen");
        ByteBuffer frame = random.nextBoolean() ? encoder.encodeRequest(random.nextInt(1000), "echo", params)
                : encoder.encodeResponse(random.nextInt(1000), null, params);
        byte[] all = new byte[frame.remaining()];
        frame.get(all);
        byte[] payload = new byte[all.length - 4];
        System.arraycopy(all, 4, payload, 0, payload.length);
        return payload;
    }

    /** Wraps a payload in a frame header that may or may not tell the truth. */
    private static byte[] frame(byte[] body, Random random) {
        long length = switch (random.nextInt(4)) {
            case 0 -> body.length;
            case 1 -> random.nextInt(body.length + 8);
            case 2 -> 0xffffffffL;
            default -> random.nextInt() & 0xffffffffL;
        };
        return concat(ByteBuffer.allocate(4).putInt((int) length).array(), body);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static List<String> corpus() throws IOException {
        try (InputStream index = DecoderFuzzTest.class.getResourceAsStream("/fuzz-corpus/index.txt")) {
            List<String> names = new ArrayList<>();
            for (String line : new String(index.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    names.add(line.trim());
                }
            }
            return names;
        }
    }

    private static String hex(byte[] b) {
        return java.util.HexFormat.of().formatHex(b, 0, Math.min(b.length, 64)) + (b.length > 64 ? "..." : "");
    }
}
