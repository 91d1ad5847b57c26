package dev.folk.core.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Map;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * Frames and MessagePack-RPC messages of shared/PROTOCOL.md for one worker connection:
 * {@code [u32 big-endian payload length][payload]}, payload a request, response or notify array.
 * <p>
 * One instance per connection and not thread-safe: it reuses one packer with its frame array, one
 * direct read buffer and one decode array, so an encode allocates nothing and a decode little more
 * than the values it returns. Frames larger than {@value #READ_BUFFER_SIZE} bytes get an array of
 * exactly their size that is dropped after use, so an idle connection never pins 16 MiB.
 * <p>
 * Reads assume a blocking channel. Every malformed input fails with a {@link ProtocolException}
 * (after which the stream is out of sync); end of stream fails with an {@link EOFException}.
 */
public final class MessageCodec {

    /** Largest payload the protocol allows: 16 MiB. */
    public static final int DEFAULT_MAX_FRAME_LENGTH = 16 * 1024 * 1024;

    static final int REQUEST = 0;
    static final int RESPONSE = 1;
    static final int NOTIFY = 2;
    /** The key of a Response's 5th element that says the worker exits after it (docs/PROTOCOL.md). */
    static final String EXITING = "exiting";

    /** Frames up to this size are read into the reused direct buffer. */
    static final int READ_BUFFER_SIZE = 64 * 1024;
    /** Heap frames are written in slices of this size (see {@link #writeFrame}). */
    private static final int WRITE_SLICE = 64 * 1024;
    /** Consecutive reads or writes that move no byte before we give up instead of spinning. */
    private static final int MAX_IDLE_IO = 1000;

    private final int maxFrameLength;
    private final String peer;
    /** Channel reads land here: no hidden temporary copy in JDK channels, a plain address for jnr ones. */
    private final ByteBuffer readBuffer;
    private final FrameOutput output;
    private final MessageWriter writer;
    private final MessageReader reader;
    /**
     * Payloads are decoded from a heap array, because msgpack-core reads direct buffers through
     * sun.nio.ch, which Java 17+ closes without --add-opens. Copying a small frame is cheap next to
     * the read system call; grown on demand, never beyond {@value #READ_BUFFER_SIZE} bytes.
     */
    private byte[] decodeArray = new byte[1024];
    /** Heap frames are staged here for writing; allocated on first use. */
    private @Nullable ByteBuffer writeBuffer;
    /** The context of the request being encoded, or null (see {@link #encodeRequest(long, String, Object, Map)}). */
    private @Nullable Map<String, String> context;
    /** Whether the response being encoded says its worker exits (see {@link #encodeResponse(long, RemoteError, Object, boolean)}). */
    private boolean exiting;
    /** Bytes read but not yet consumed, at the start of {@link #readBuffer}. */
    private int buffered;

    public MessageCodec(String peer) {
        this(DEFAULT_MAX_FRAME_LENGTH, peer);
    }

    /**
     * @param maxFrameLength largest payload accepted or sent, in bytes
     * @param peer           names the other side in error messages, e.g. {@code worker 1234 of pool 'php'}
     */
    public MessageCodec(int maxFrameLength, String peer) {
        if (maxFrameLength < 1 || maxFrameLength > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("maxFrameLength must be between 1 and " + (Integer.MAX_VALUE - 64)
                    + ", got " + maxFrameLength);
        }
        this.maxFrameLength = maxFrameLength;
        this.peer = Objects.requireNonNull(peer, "peer");
        this.readBuffer = ByteBuffer.allocateDirect(Math.max(FrameOutput.HEADER_LENGTH,
                Math.min(READ_BUFFER_SIZE, maxFrameLength)));
        this.output = new FrameOutput(maxFrameLength);
        this.writer = new MessageWriter(output);
        this.reader = new MessageReader(peer);
    }

    public int maxFrameLength() {
        return maxFrameLength;
    }

    public String peer() {
        return peer;
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Encodes {@code [0, msgid, method, params]} as a whole frame. An empty map as params goes out
     * as an empty array, which PHP reads as {@code []} (see {@link Values}).
     *
     * @return the frame, header included, at position 0; valid until the next encode on this codec
     * @throws FrameTooLargeException   if the payload would exceed the limit (nothing is written)
     * @throws IllegalArgumentException if params holds an unsupported type, a null map key, a cycle or
     *         too deep nesting
     */
    public ByteBuffer encodeRequest(long msgid, String method, @Nullable Object params) {
        checkMsgid(msgid);
        Objects.requireNonNull(method, "method");
        return encode(REQUEST, msgid, method, null, params);
    }

    /**
     * Encodes {@code [0, msgid, method, params, context]}: a request with its context (the trace
     * context, e.g. {@code {"traceparent": ...}}) as a 5th element, for a worker that declared the
     * {@code context} feature (docs/PROTOCOL.md). A null or empty context encodes the base
     * protocol's 4-element request.
     *
     * @see #encodeRequest(long, String, Object)
     */
    public ByteBuffer encodeRequest(long msgid, String method, @Nullable Object params, Map<String, String> context) {
        if (context == null || context.isEmpty()) {
            return encodeRequest(msgid, method, params);
        }
        checkMsgid(msgid);
        Objects.requireNonNull(method, "method");
        this.context = context;
        try {
            return encode(REQUEST, msgid, method, null, params);
        } finally {
            this.context = null;
        }
    }

    /**
     * Encodes {@code [1, msgid, error, result]} as a whole frame; see {@link #encodeRequest}.
     *
     * @throws IllegalArgumentException also if both error and result are non-null
     */
    public ByteBuffer encodeResponse(long msgid, @Nullable RemoteError error, @Nullable Object result) {
        return encodeResponse(msgid, error, result, false);
    }

    /** As {@link #encodeResponse(long, RemoteError, Object)}; {@code exiting} adds {@code {"exiting": true}}. */
    public ByteBuffer encodeResponse(long msgid, @Nullable RemoteError error, @Nullable Object result,
                                     boolean exiting) {
        checkMsgid(msgid);
        if (error != null && result != null) {
            throw new IllegalArgumentException("A response carries an error or a result, not both");
        }
        this.exiting = exiting;
        try {
            return encode(RESPONSE, msgid, null, error, result);
        } finally {
            this.exiting = false;
        }
    }

    /** Encodes {@code [2, method, params]} as a whole frame; see {@link #encodeRequest}. */
    public ByteBuffer encodeNotify(String method, @Nullable Object params) {
        Objects.requireNonNull(method, "method");
        return encode(NOTIFY, 0, method, null, params);
    }

    /** Encodes any message; see the type-specific methods. */
    public ByteBuffer encode(Message message) {
        if (message instanceof Message.Request r) {
            return encodeRequest(r.msgid(), r.method(), r.params());
        }
        if (message instanceof Message.Response r) {
            return encodeResponse(r.msgid(), r.error(), r.result(), r.exiting());
        }
        Message.Notify n = (Message.Notify) message;
        return encodeNotify(n.method(), n.params());
    }

    @SuppressWarnings("NullAway") // method is null only for a response, which has none
    private ByteBuffer encode(int type, long msgid, @Nullable String method, @Nullable RemoteError error,
            @Nullable Object body) {
        output.reset();
        try {
            switch (type) {
                case REQUEST -> writer.writeRequest(msgid, method, body, context);
                case RESPONSE -> writer.writeResponse(msgid, error, body, exiting);
                default -> writer.writeNotify(method, body);
            }
            writer.flush();
        } catch (RuntimeException | Error e) {
            writer.recover(); // an Error too (no heap for a large frame): the next frame must start clean
            throw e;
        } catch (IOException e) {
            writer.recover();
            throw new IllegalStateException("in-memory encoding cannot fail", e);
        }
        long length = output.payloadLength();
        if (length > maxFrameLength) {
            output.reset(); // drop the array grown for it now, not at the next encode
            throw FrameTooLargeException.outgoing(peer, length, maxFrameLength);
        }
        return output.frame();
    }

    /**
     * Writes the whole frame, looping over partial writes. A heap frame is copied, in slices of
     * at most 64 KiB, into one reused direct buffer: native channels (jnr's, and the JDK's) would
     * otherwise copy every heap write through a temporary native buffer of their own — per call
     * for jnr, and cached per thread at the full frame size for the JDK.
     */
    public void writeFrame(WritableByteChannel channel, ByteBuffer frame) throws IOException {
        if (frame.isDirect()) {
            while (frame.hasRemaining()) {
                write(channel, frame);
            }
            return;
        }
        ByteBuffer direct = writeBuffer();
        int end = frame.limit();
        try {
            while (frame.position() < end) {
                frame.limit(Math.min(end, frame.position() + direct.capacity()));
                direct.clear();
                direct.put(frame).flip();
                while (direct.hasRemaining()) {
                    write(channel, direct);
                }
            }
        } finally {
            frame.limit(end);
        }
    }

    private ByteBuffer writeBuffer() {
        if (writeBuffer == null) {
            writeBuffer = ByteBuffer.allocateDirect(WRITE_SLICE);
        }
        return writeBuffer;
    }

    // ---------------------------------------------------------------- decoding

    /**
     * Reads one frame and decodes it, blocking until it is complete. The announced length is
     * checked before any buffer is allocated for it.
     *
     * @throws EOFException           if the channel ends at a frame boundary ("closed the channel")
     *                                or inside a frame ("closed after 3 of 4 header bytes")
     * @throws FrameTooLargeException if the frame announces more than the limit
     * @throws ProtocolException      for a zero-length frame or a malformed payload
     */
    public Message readMessage(ReadableByteChannel channel) throws IOException {
        try {
            return readFrame(channel);
        } catch (IOException | RuntimeException e) {
            buffered = 0; // the stream is out of sync: never decode its leftovers as a next frame
            throw e;
        }
    }

    private Message readFrame(ReadableByteChannel channel) throws IOException {
        ensureBuffered(channel, FrameOutput.HEADER_LENGTH, FrameOutput.HEADER_LENGTH);
        long length = readBuffer.getInt(0) & 0xFFFF_FFFFL;
        if (length == 0) {
            throw new ProtocolException(peer, "zero-length frame");
        }
        if (length > maxFrameLength) {
            throw FrameTooLargeException.incoming(peer, length, maxFrameLength);
        }
        int size = (int) length;
        int frame = FrameOutput.HEADER_LENGTH + size;
        if (frame > readBuffer.capacity()) {
            return reader.read(readLarge(channel, size), 0, size);
        }
        ensureBuffered(channel, frame, size);
        byte[] array = decodeArray(size);
        readBuffer.get(FrameOutput.HEADER_LENGTH, array, 0, size);
        consume(frame);
        return reader.read(array, 0, size);
    }

    /**
     * Decodes one payload: exactly one message array that fills its remaining bytes. The
     * buffer's position is not moved.
     *
     * @throws ProtocolException for anything malformed, and for nothing else
     */
    public Message decode(ByteBuffer payload) {
        int length = payload.remaining();
        if (length == 0) {
            throw new ProtocolException(peer, "empty payload");
        }
        if (payload.hasArray()) {
            return reader.read(payload.array(), payload.arrayOffset() + payload.position(), length);
        }
        byte[] array = length <= READ_BUFFER_SIZE ? decodeArray(length) : new byte[length];
        payload.get(payload.position(), array, 0, length);
        return reader.read(array, 0, length);
    }

    private byte[] decodeArray(int length) {
        if (decodeArray.length < length) {
            decodeArray = new byte[Math.min(READ_BUFFER_SIZE, Math.max(length, 2 * decodeArray.length))];
        }
        return decodeArray;
    }

    /**
     * A frame larger than the reused buffers: an array of exactly its size, read through the
     * direct buffer (same reason as in {@link #writeFrame}) and garbage after decoding.
     */
    private byte[] readLarge(ReadableByteChannel channel, int size) throws IOException {
        byte[] payload = new byte[size];
        // A large frame fills the buffer, so what is buffered after its header is all its own.
        int got = buffered - FrameOutput.HEADER_LENGTH;
        readBuffer.get(FrameOutput.HEADER_LENGTH, payload, 0, got);
        buffered = 0;
        ByteBuffer buffer = readBuffer;
        while (got < size) {
            buffer.clear().limit(Math.min(buffer.capacity(), size - got)); // never past this frame
            int n = read(channel, buffer);
            if (n < 0) {
                throw truncated(got, size);
            }
            buffer.flip().get(payload, got, n);
            got += n;
        }
        return payload;
    }

    /**
     * Reads until at least {@code need} bytes are buffered. Reads take whatever the channel has
     * (up to the buffer's capacity), so a worker's whole response usually arrives in one system
     * call; bytes past the current frame stay buffered for the next one.
     */
    private void ensureBuffered(ReadableByteChannel channel, int need, int payloadSize) throws IOException {
        ByteBuffer buffer = readBuffer;
        while (buffered < need) {
            buffer.limit(buffer.capacity()).position(buffered);
            int n = read(channel, buffer);
            if (n < 0) {
                if (buffered == 0) {
                    throw new EOFException(peer + " closed the channel");
                }
                if (buffered < FrameOutput.HEADER_LENGTH) {
                    throw new EOFException("Channel to " + peer + " closed after " + buffered + " of 4 header bytes");
                }
                throw truncated(buffered - FrameOutput.HEADER_LENGTH, payloadSize);
            }
            buffered += n;
        }
    }

    /** Drops the first {@code n} buffered bytes, moving any that follow to the front. */
    private void consume(int n) {
        int rest = buffered - n;
        if (rest > 0) {
            ByteBuffer tail = readBuffer.duplicate();
            tail.limit(buffered).position(n);
            readBuffer.clear();
            readBuffer.put(tail);
        }
        buffered = rest;
    }

    /** One read that moves at least one byte, or -1 at end of stream. */
    private int read(ReadableByteChannel channel, ByteBuffer buffer) throws IOException {
        for (int idle = 0; ; idle++) {
            int n = channel.read(buffer);
            if (n != 0) {
                return n;
            }
            stalled(channel, idle);
        }
    }

    private void write(WritableByteChannel channel, ByteBuffer frame) throws IOException {
        for (int idle = 0; channel.write(frame) == 0 && frame.hasRemaining(); idle++) {
            stalled(channel, idle);
        }
    }

    /**
     * A blocking channel never moves zero bytes, so a few zero results are retried and a steady
     * stream of them is an error rather than a busy loop.
     */
    private void stalled(Channel channel, int idle) throws IOException {
        if (channel instanceof SelectableChannel selectable && !selectable.isBlocking()) {
            throw new IllegalArgumentException("MessageCodec needs a blocking channel; the one to " + peer
                    + " is in non-blocking mode");
        }
        if (idle >= MAX_IDLE_IO) {
            throw new IOException("Channel to " + peer + " moved no data in " + MAX_IDLE_IO + " attempts in a row");
        }
    }

    private EOFException truncated(int got, int size) {
        return new EOFException("Channel to " + peer + " closed after " + got + " of " + size + " payload bytes");
    }

    private static void checkMsgid(long msgid) {
        if (msgid < 0 || msgid > Message.MAX_MSGID) {
            throw new IllegalArgumentException("msgid " + msgid + " is not an unsigned 32-bit integer");
        }
    }
}
