package dev.folk.core.protocol;

import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * One MessagePack-RPC message. Values in {@code params} and {@code result} follow the mapping of
 * {@link Values}. Records compare {@code byte[]} values by identity, like every record does.
 */
public sealed interface Message {

    /** Largest msgid: msgids are unsigned 32-bit on the wire. */
    long MAX_MSGID = 0xFFFF_FFFFL;

    /** {@code [0, msgid, method, params]}: the worker must answer with a Response of the same msgid. */
    record Request(long msgid, String method, @Nullable Object params) implements Message {
        public Request {
            checkMsgid(msgid);
            Objects.requireNonNull(method, "method");
        }
    }

    /**
     * {@code [1, msgid, error, result]}. A non-null {@code error} means failure (whatever
     * {@code result} holds); both null is a success whose result is null. {@code exiting}: the
     * worker said, with a 5th element {@code {"exiting": true}}, that it exits after this answer
     * (PHP's {@code exit()} in a handler), so it must not be sent another request.
     */
    record Response(long msgid, @Nullable RemoteError error, @Nullable Object result, boolean exiting)
            implements Message {
        public Response {
            checkMsgid(msgid);
        }

        /** A response of a worker that goes on serving. */
        public Response(long msgid, @Nullable RemoteError error, @Nullable Object result) {
            this(msgid, error, result, false);
        }

        public static Response success(long msgid, @Nullable Object result) {
            return new Response(msgid, null, result);
        }

        public static Response failure(long msgid, RemoteError error) {
            return new Response(msgid, Objects.requireNonNull(error, "error"), null);
        }

        public boolean isError() {
            return error != null;
        }
    }

    /** {@code [2, method, params]}: one way, no answer. */
    record Notify(String method, @Nullable Object params) implements Message {
        public Notify {
            Objects.requireNonNull(method, "method");
        }
    }

    private static void checkMsgid(long msgid) {
        if (msgid < 0 || msgid > MAX_MSGID) {
            throw new IllegalArgumentException("msgid " + msgid + " is not an unsigned 32-bit integer");
        }
    }
}
