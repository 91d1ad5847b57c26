package dev.folk.core;

import org.jspecify.annotations.Nullable;

/**
 * Root of every exception this library throws on purpose, so callers can catch one type.
 * Unchecked: most failures (a dead worker, a full queue) are not something the immediate caller
 * can repair, and forcing try/catch on every call site would only hide them.
 */
public class FolkException extends RuntimeException {

    public FolkException(String message) {
        super(message);
    }

    public FolkException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
