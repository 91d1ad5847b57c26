package dev.folk.core.protocol;

import org.jspecify.annotations.Nullable;

/**
 * The error half of a {@link Message.Response}: on the wire a map {@code {code: int, message: str}},
 * with an optional {@code data: {class: str, file: str, line: int}} saying what the handler threw
 * and where (folk-worker-php sends it for an uncaught exception).
 *
 * @param code    {@link #METHOD_NOT_FOUND}, {@link #INTERNAL_ERROR} or an application code
 * @param message human-readable text, never null
 * @param type    the class of what the worker's handler threw ({@code DomainException}), or null
 * @param where   where it was thrown ({@code /app/src/Cart.php:42}), or null
 */
public record RemoteError(long code, String message, @Nullable String type, @Nullable String where) {

    /** The worker has no handler for the method. */
    public static final long METHOD_NOT_FOUND = -32601;
    /** The handler threw; also used when a sloppy worker sends an error without a code. */
    public static final long INTERNAL_ERROR = -32603;

    public RemoteError {
        if (message == null) {
            message = "";
        }
    }

    /** An error that says nothing of what was thrown. */
    public RemoteError(long code, String message) {
        this(code, message, null, null);
    }
}
