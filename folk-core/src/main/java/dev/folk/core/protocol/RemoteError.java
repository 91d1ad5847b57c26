package dev.folk.core.protocol;

/**
 * The error half of a {@link Message.Response}: on the wire a map {@code {code: int, message: str}}.
 *
 * @param code    {@link #METHOD_NOT_FOUND}, {@link #INTERNAL_ERROR} or an application code
 * @param message human-readable text, never null
 */
public record RemoteError(long code, String message) {

    /** The worker has no handler for the method. */
    public static final long METHOD_NOT_FOUND = -32601;
    /** The handler threw; also used when a sloppy worker sends an error without a code. */
    public static final long INTERNAL_ERROR = -32603;

    public RemoteError {
        if (message == null) {
            message = "";
        }
    }
}
