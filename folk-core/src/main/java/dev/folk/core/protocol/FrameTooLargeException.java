package dev.folk.core.protocol;

/**
 * A frame over the size limit, in either direction. {@link #isOutgoing() Outgoing} means our own
 * message was refused before a single byte was written: the connection is still in sync and the
 * caller's request, not the worker, is at fault (the pool answers HTTP 413). Incoming means the
 * worker announced a frame we refuse to buffer: the stream is lost and the worker must go.
 */
public final class FrameTooLargeException extends ProtocolException {

    private final long length;
    private final int limit;
    private final boolean outgoing;

    private FrameTooLargeException(String peer, String message, long length, int limit, boolean outgoing) {
        super(null, peer, message);
        this.length = length;
        this.limit = limit;
        this.outgoing = outgoing;
    }

    /** A frame header from {@code peer} announced {@code length} payload bytes. */
    public static FrameTooLargeException incoming(String peer, long length, int limit) {
        return new FrameTooLargeException(peer, "Protocol error from " + peer + ": frame length " + length
                + " exceeds the limit of " + limit + " bytes", length, limit, false);
    }

    /** A message for {@code peer} would have had a payload of {@code length} bytes. */
    public static FrameTooLargeException outgoing(String peer, long length, int limit) {
        return new FrameTooLargeException(peer, "Message for " + peer + " not sent: its payload of " + length
                + " bytes exceeds the frame limit of " + limit + " bytes", length, limit, true);
    }

    /** Payload length announced (incoming) or needed (outgoing), excluding the 4 header bytes. */
    public long length() {
        return length;
    }

    public int limit() {
        return limit;
    }

    /** True when our own message was too large to send (nothing was written). */
    public boolean isOutgoing() {
        return outgoing;
    }
}
