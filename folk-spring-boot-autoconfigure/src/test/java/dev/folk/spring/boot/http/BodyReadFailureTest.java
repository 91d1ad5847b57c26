package dev.folk.spring.boot.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;

import org.junit.jupiter.api.Test;

/**
 * A body whose read failed because the client, or the container, ended the connection is no
 * client's malformed body: it is not counted among the 400s that warn of malformed chunked bodies.
 */
class BodyReadFailureTest {

    @Test
    void aConnectionEndedMidBodyIsNotAMalformedBody() {
        assertThat(GatewayExchange.wentAway(new IOException(new EOFException()))).isTrue();
        assertThat(GatewayExchange.wentAway(new IOException("Connection reset by peer"))).isTrue();
        // Tomcat's HTTP/2 overhead protection closes the connection under the stream being read.
        assertThat(GatewayExchange.wentAway(new IOException(new ClosedChannelException()))).isTrue();
        assertThat(GatewayExchange.wentAway(new IOException("Invalid chunk header"))).isFalse();
    }
}
