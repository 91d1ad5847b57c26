package dev.folk.core.protocol;

import dev.folk.core.FolkException;

import org.jspecify.annotations.Nullable;

/**
 * A peer broke the wire contract of shared/PROTOCOL.md: bad framing, malformed MessagePack, or a
 * message of the wrong shape. After an incoming protocol error the stream is out of sync, so the
 * worker behind it must be replaced, never reused.
 */
public class ProtocolException extends FolkException {

    private final String peer;

    /**
     * @param peer   who sent the bad data, e.g. {@code worker 1234 of pool 'php'}
     * @param detail what was wrong with it
     */
    public ProtocolException(String peer, String detail) {
        this(peer, detail, null);
    }

    public ProtocolException(String peer, String detail, @Nullable Throwable cause) {
        this(cause, peer, "Protocol error from " + peer + ": " + detail);
    }

    /** For subclasses whose message is not "an error from the peer"; {@code message} is used as is. */
    protected ProtocolException(@Nullable Throwable cause, String peer, String message) {
        super(message, cause);
        this.peer = peer;
    }

    /** The peer label given to the codec, e.g. {@code worker 1234 of pool 'php'}. */
    public String peer() {
        return peer;
    }
}
