package dev.folk.core.protocol;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.msgpack.core.buffer.MessageBuffer;
import org.msgpack.core.buffer.MessageBufferOutput;

import org.jspecify.annotations.Nullable;

/**
 * Where the encoder's {@code MessagePacker} writes: one growable array that starts with room for
 * the 4-byte length header, so a finished frame goes to the channel without another copy.
 * <p>
 * Past the frame limit it stops storing and only counts what the packer still writes: encoding an
 * oversized value then costs CPU but no memory, and the caller still learns its exact size.
 * Not thread-safe; owned by one {@link MessageCodec}.
 */
final class FrameOutput implements MessageBufferOutput {

    static final int HEADER_LENGTH = 4;
    /** More than the largest item the packer asks room for at once (a 15-byte timestamp96). */
    private static final int SLACK = 32;
    private static final int INITIAL_CAPACITY = 8 * 1024;
    /** A larger array, grown for one big frame, is dropped at the next reset: no 16 MiB per connection. */
    static final int RETAINED_CAPACITY = 64 * 1024;

    private final long maxCapacity;

    private byte[] array;
    /** View from the header on: what the packer asks for first in every frame, so it is cached. */
    private MessageBuffer firstView;
    private ByteBuffer frameView;
    /** Header plus stored payload bytes. */
    private int size;
    private boolean discarding;
    private long discarded;
    private @Nullable MessageBuffer sink;

    FrameOutput(int maxPayloadLength) {
        this.maxCapacity = (long) HEADER_LENGTH + maxPayloadLength + SLACK;
        use(new byte[INITIAL_CAPACITY]);
        reset();
    }

    /** Starts a new frame; invalidates the buffer returned by {@link #frame()}. */
    void reset() {
        if (array.length > RETAINED_CAPACITY) {
            use(new byte[INITIAL_CAPACITY]);
        }
        size = HEADER_LENGTH;
        discarding = false;
        discarded = 0;
        sink = null;
    }

    /** Exact payload length written so far, stored or not. */
    long payloadLength() {
        return size - HEADER_LENGTH + discarded;
    }

    /** The finished frame with its header filled in, position 0; valid until the next reset. */
    ByteBuffer frame() {
        if (discarding) {
            throw new IllegalStateException("frame exceeds its limit");
        }
        int payload = size - HEADER_LENGTH;
        array[0] = (byte) (payload >>> 24);
        array[1] = (byte) (payload >>> 16);
        array[2] = (byte) (payload >>> 8);
        array[3] = (byte) payload;
        return frameView.limit(size).position(0);
    }

    @Override
    public MessageBuffer next(int minimumSize) {
        if (!discarding && reserve(minimumSize)) {
            return size == HEADER_LENGTH ? firstView : MessageBuffer.wrap(array, size, array.length - size);
        }
        discarding = true;
        if (sink == null || sink.size() < minimumSize) {
            sink = MessageBuffer.allocate(Math.max(minimumSize, INITIAL_CAPACITY));
        }
        return sink;
    }

    @Override
    public void writeBuffer(int length) {
        if (discarding) {
            discarded += length;
        } else {
            size += length;
        }
    }

    @Override
    public void write(byte[] buffer, int offset, int length) {
        if (!discarding && reserve(length)) {
            System.arraycopy(buffer, offset, array, size, length);
            size += length;
        } else {
            discarding = true;
            discarded += length;
        }
    }

    @Override
    public void add(byte[] buffer, int offset, int length) {
        write(buffer, offset, length); // the caller may reuse its array, so copy
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }

    /**
     * Makes room for {@code needed} more bytes, or returns false once that would pass the limit
     * (plus slack, so a payload ending exactly at the limit never trips it).
     */
    private boolean reserve(long needed) {
        long required = size + needed;
        if (required > maxCapacity) {
            return false;
        }
        if (required > array.length) {
            long grown = Math.max(required, Math.min(2L * array.length, maxCapacity));
            use(Arrays.copyOf(array, (int) grown));
        }
        return true;
    }

    private void use(byte[] newArray) {
        array = newArray;
        firstView = MessageBuffer.wrap(newArray, HEADER_LENGTH, newArray.length - HEADER_LENGTH);
        frameView = ByteBuffer.wrap(newArray);
    }
}
