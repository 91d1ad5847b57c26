package dev.folk.benchmarks.jmh;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import dev.folk.core.protocol.Message;
import dev.folk.core.protocol.MessageCodec;

/**
 * The codec alone: encoding an echo request and decoding an echo response, with a 64-byte
 * string and with a 1 MiB binary body. Encode returns the codec's reused frame; decode reads a
 * payload already in memory (no channel).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBench {

    private MessageCodec codec;
    private String small;
    private byte[] large;
    private ByteBuffer smallResponse;
    private ByteBuffer largeResponse;

    @Setup
    public void setup() {
        codec = new MessageCodec("bench");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 64; i++) {
            sb.append((char) ('a' + i % 26));
        }
        small = sb.toString();
        large = new byte[1024 * 1024];
        for (int i = 0; i < large.length; i++) {
            large[i] = (byte) i;
        }
        smallResponse = payloadOf(codec.encodeResponse(1234, null, small));
        largeResponse = payloadOf(codec.encodeResponse(1234, null, large));
    }

    /** The payload of a frame (without the 4-byte header), copied to its own heap buffer. */
    private static ByteBuffer payloadOf(ByteBuffer frame) {
        ByteBuffer f = frame.duplicate();
        f.position(f.position() + 4);
        ByteBuffer copy = ByteBuffer.allocate(f.remaining());
        copy.put(f).flip();
        return copy;
    }

    @Benchmark
    public ByteBuffer encodeSmall() {
        return codec.encodeRequest(1234, "echo", small);
    }

    @Benchmark
    public ByteBuffer encode1MiB() {
        return codec.encodeRequest(1234, "echo", large);
    }

    @Benchmark
    public Message decodeSmall() {
        return codec.decode(smallResponse);
    }

    @Benchmark
    public Message decode1MiB() {
        return codec.decode(largeResponse);
    }
}
