package dev.folk.core.supervision;

import java.io.IOException;

/**
 * ECONNRESET on a worker channel. On an AF_UNIX stream socket the kernel reports it only when
 * the worker closed its end with our data still unread in its receive queue: the worker never
 * consumed what we sent, so a request that meets this was not delivered and may be sent again.
 */
public class ChannelResetException extends IOException {

    public ChannelResetException(String message, Throwable cause) {
        super(message, cause);
    }
}
