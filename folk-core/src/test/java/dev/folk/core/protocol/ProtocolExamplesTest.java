package dev.folk.core.protocol;

import static dev.folk.core.protocol.Bytes.hex;
import static dev.folk.core.protocol.Bytes.remaining;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The byte examples of shared/PROTOCOL.md, decoded and encoded byte for byte. */
class ProtocolExamplesTest {

    // [2, "control.ready", {"pid": 9326}]
    static final String READY = "00 00 00 18 | 93 02 ad 63 6f 6e 74 72 6f 6c 2e 72 65 61 64 79"
            + " 81 a3 70 69 64 cd 24 6e";
    // [0, 3, "echo", "hi"]
    static final String REQUEST = "00 00 00 0b | 94 00 03 a4 65 63 68 6f a2 68 69";
    // [1, 3, nil, "hi"]
    static final String RESPONSE = "00 00 00 07 | 94 01 03 c0 a2 68 69";
    // [1, 5, {"code": -32601, "message": "method not found: nope"}, nil]; -32601 is int16 d1 80 a7
    static final String ERROR = "00 00 00 2c | 94 01 05 82 a4 63 6f 64 65 d1 80 a7"
            + " a7 6d 65 73 73 61 67 65"
            + " b6 6d 65 74 68 6f 64 20 6e 6f 74 20 66 6f 75 6e 64 3a 20 6e 6f 70 65 c0";

    private final MessageCodec codec = new MessageCodec("worker 9326 of pool 'php'");

    @Test
    void readyNotify() throws IOException {
        assertThat(read(READY)).isEqualTo(new Message.Notify("control.ready", Map.of("pid", 9326L)));
        assertThat(remaining(codec.encodeNotify("control.ready", Map.of("pid", 9326)))).isEqualTo(hex(READY));
    }

    @Test
    void request() throws IOException {
        assertThat(read(REQUEST)).isEqualTo(new Message.Request(3, "echo", "hi"));
        assertThat(remaining(codec.encodeRequest(3, "echo", "hi"))).isEqualTo(hex(REQUEST));
    }

    @Test
    void response() throws IOException {
        Message message = read(RESPONSE);
        assertThat(message).isEqualTo(Message.Response.success(3, "hi"));
        assertThat(((Message.Response) message).isError()).isFalse();
        assertThat(remaining(codec.encodeResponse(3, null, "hi"))).isEqualTo(hex(RESPONSE));
    }

    @Test
    void errorResponse() throws IOException {
        RemoteError error = new RemoteError(RemoteError.METHOD_NOT_FOUND, "method not found: nope");
        Message message = read(ERROR);
        assertThat(message).isEqualTo(Message.Response.failure(5, error));
        assertThat(((Message.Response) message).isError()).isTrue();
        assertThat(remaining(codec.encodeResponse(5, error, null))).isEqualTo(hex(ERROR));
    }

    @Test
    void allFourBackToBackOnOneChannel() throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream(Bytes.concat(hex(READY), hex(REQUEST), hex(RESPONSE), hex(ERROR)));
        var channel = Bytes.channel(in);
        assertThat(codec.readMessage(channel)).isInstanceOf(Message.Notify.class);
        assertThat(codec.readMessage(channel)).isInstanceOf(Message.Request.class);
        assertThat(codec.readMessage(channel)).isEqualTo(Message.Response.success(3, "hi"));
        assertThat(((Message.Response) codec.readMessage(channel)).error().code()).isEqualTo(-32601);
        assertThat(in.available()).isZero();
    }

    private Message read(String frameHex) throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream(hex(frameHex));
        Message message = codec.readMessage(Bytes.channel(in));
        assertThat(in.available()).as("unread bytes").isZero();
        return message;
    }
}
