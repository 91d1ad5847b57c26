package dev.folk.core.protocol;

import static dev.folk.core.protocol.Bytes.frame;
import static dev.folk.core.protocol.Bytes.hex;
import static dev.folk.core.protocol.Bytes.remaining;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Framing, encoding rules, limits and end-of-stream handling of {@link MessageCodec}. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class MessageCodecTest {

    static final String PEER = "worker 1234 of pool 'php'";
    static final int MIB = 1024 * 1024;

    private final MessageCodec codec = new MessageCodec(PEER);

    enum Color { RED }

    // ---------------------------------------------------------------- values

    @Test
    void everyValueTypeRoundTrips() throws IOException {
        Instant instant = Instant.parse("2024-05-06T07:08:09.123456789Z");
        ByteBuffer direct = ByteBuffer.allocateDirect(3).put(new byte[] {7, 8, 9}).flip();
        ByteBuffer heap = ByteBuffer.wrap(new byte[] {0, 1, 2, 3}).position(1);
        Map<Object, Object> nested = new LinkedHashMap<>();
        nested.put(1L, "one");
        nested.put("k", List.of(1, 2));
        Map<Object, Object> params = new LinkedHashMap<>();
        params.put("nil", null);
        params.put("true", true);
        params.put("false", false);
        params.put("byte", (byte) -5);
        params.put("short", (short) 300);
        params.put("int", 70000);
        params.put("longMin", Long.MIN_VALUE);
        params.put("longMax", Long.MAX_VALUE);
        params.put("uint64", new BigInteger("18446744073709551615"));
        params.put("smallBig", BigInteger.valueOf(-42));
        params.put("float", 1.5f);
        params.put("double", -0.1);
        params.put("nan", Double.NaN);
        params.put("ascii", "hello");
        params.put("unicode", "héllo € 😀");
        params.put("empty", "");
        params.put("builder", new StringBuilder("sb"));
        params.put("bytes", new byte[] {1, 2, (byte) 0xff});
        params.put("noBytes", new byte[0]);
        params.put("heapBuffer", heap);
        params.put("directBuffer", direct);
        params.put("list", List.of("a", 1));
        params.put("set", new LinkedHashSet<>(List.of("x", "y")));
        params.put("array", new Object[] {"z", null});
        params.put("map", nested);
        params.put("enum", Color.RED);
        params.put("optional", Optional.of("present"));
        params.put("absent", Optional.empty());
        params.put("instant", instant);
        params.put("decimal", new BigDecimal("1E+3"));
        params.put("cents", new BigDecimal("-0.10"));

        Message.Request request = (Message.Request) roundTrip(codec.encodeRequest(42, "types", params));

        assertThat(request.msgid()).isEqualTo(42);
        assertThat(request.method()).isEqualTo("types");
        Map<Object, Object> back = Values.asMap(request.params());
        assertThat(back.keySet()).containsExactlyElementsOf(params.keySet()); // order kept
        assertThat(back.get("nil")).isNull();
        assertThat(back.get("true")).isEqualTo(true);
        assertThat(back.get("false")).isEqualTo(false);
        assertThat(back.get("byte")).isEqualTo(-5L);
        assertThat(back.get("short")).isEqualTo(300L);
        assertThat(back.get("int")).isEqualTo(70000L);
        assertThat(back.get("longMin")).isEqualTo(Long.MIN_VALUE);
        assertThat(back.get("longMax")).isEqualTo(Long.MAX_VALUE);
        assertThat(back.get("uint64")).isEqualTo(new BigInteger("18446744073709551615"));
        assertThat(back.get("smallBig")).isEqualTo(-42L);
        assertThat(back.get("float")).isEqualTo(1.5d);
        assertThat(back.get("double")).isEqualTo(-0.1d);
        assertThat(back.get("nan")).isEqualTo(Double.NaN);
        assertThat(back.get("ascii")).isEqualTo("hello");
        assertThat(back.get("unicode")).isEqualTo("héllo € 😀");
        assertThat(back.get("empty")).isEqualTo("");
        assertThat(back.get("builder")).isEqualTo("sb");
        assertThat((byte[]) back.get("bytes")).containsExactly(1, 2, 0xff);
        assertThat((byte[]) back.get("noBytes")).isEmpty();
        assertThat((byte[]) back.get("heapBuffer")).containsExactly(1, 2, 3);
        assertThat((byte[]) back.get("directBuffer")).containsExactly(7, 8, 9);
        assertThat(back.get("list")).isEqualTo(List.of("a", 1L));
        assertThat(back.get("set")).isEqualTo(List.of("x", "y"));
        assertThat(back.get("array")).isEqualTo(Arrays.asList("z", null));
        Map<Object, Object> expectedNested = new LinkedHashMap<>();
        expectedNested.put(1L, "one");
        expectedNested.put("k", List.of(1L, 2L));
        assertThat(back.get("map")).isEqualTo(expectedNested);
        assertThat(back.get("enum")).isEqualTo("RED");
        assertThat(back.get("optional")).isEqualTo("present");
        assertThat(back.get("absent")).isNull();
        assertThat(back.get("instant")).as("ISO-8601: PHP cannot read the timestamp ext")
                .isEqualTo("2024-05-06T07:08:09.123456789Z");
        assertThat(back.get("decimal")).as("plain, never exponent notation").isEqualTo("1000");
        assertThat(back.get("cents")).isEqualTo("-0.10");
        assertThat(heap.position()).as("ByteBuffer position untouched").isEqualTo(1);
        assertThat(direct.position()).isZero();
        assertThat(back).isInstanceOf(LinkedHashMap.class);
        assertThat(back.get("list")).isInstanceOf(ArrayList.class);
    }

    @Test
    void integersUseTheSmallestEncodingAndFloatsFloat64() {
        assertThat(payloadOfParams(0)).endsWith(hex("00"));
        assertThat(payloadOfParams(-32)).endsWith(hex("e0"));
        assertThat(payloadOfParams(200)).endsWith(hex("cc c8"));
        assertThat(payloadOfParams(-200L)).endsWith(hex("d1 ff 38"));
        assertThat(payloadOfParams(1L << 40)).endsWith(hex("cf 00 00 01 00 00 00 00 00"));
        assertThat(payloadOfParams(1.5f)).endsWith(hex("cb 3f f8 00 00 00 00 00 00"));
        assertThat(payloadOfParams("é")).endsWith(hex("a2 c3 a9"));
        assertThat(payloadOfParams(new byte[] {5})).endsWith(hex("c4 01 05"));
    }

    @Test
    void zeroLengthStringAndBinary() throws IOException {
        assertThat(payloadOfParams("")).endsWith(hex("a0"));
        assertThat(payloadOfParams(new byte[0])).endsWith(hex("c4 00"));
        assertThat(((Message.Request) roundTrip(codec.encodeRequest(1, "m", ""))).params()).isEqualTo("");
        assertThat((byte[]) ((Message.Request) roundTrip(codec.encodeRequest(1, "m", new byte[0]))).params()).isEmpty();
    }

    @Test
    void largestMsgidRoundTrips() throws IOException {
        ByteBuffer frame = codec.encodeRequest(Message.MAX_MSGID, "m", null);
        assertThat(remaining(frame)).containsSequence(hex("ce ff ff ff ff"));
        assertThat(((Message.Request) roundTrip(frame)).msgid()).isEqualTo(0xFFFF_FFFFL);
        assertThatThrownBy(() -> codec.encodeRequest(-1, "m", null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> codec.encodeRequest(1L << 32, "m", null)).isInstanceOf(IllegalArgumentException.class);
    }

    // ---------------------------------------------------------------- empty maps

    @Test
    void emptyMapAsTopLevelParamsIsSentAsEmptyArray() {
        // PHP gets [] (an array $params handler works), not null nor the object 0x80 would make.
        assertThat(remaining(codec.encodeRequest(1, "m", Map.of()))).isEqualTo(hex("00 00 00 06 94 00 01 a1 6d 90"));
        assertThat(remaining(codec.encodeNotify("m", new HashMap<>()))).isEqualTo(hex("00 00 00 05 93 02 a1 6d 90"));
        assertThat(remaining(codec.encodeRequest(1, "m", Optional.of(Map.of())))).endsWith(hex("90"));
        assertThat(remaining(codec.encodeRequest(1, "m", null))).endsWith(hex("c0"));
    }

    @Test
    void nestedEmptyMapIsSentAsEmptyArray() throws IOException {
        assertThat(remaining(codec.encodeRequest(1, "m", Map.of("headers", Map.of()))))
                .isEqualTo(hex("00 00 00 0f 94 00 01 a1 6d 81 a7 68 65 61 64 65 72 73 90"));
        assertThat(remaining(codec.encodeRequest(1, "m", List.of(Map.of())))).endsWith(hex("91 90"));
        assertThat(remaining(codec.encodeResponse(1, null, Map.of()))).endsWith(hex("c0 90"));
        Message.Request back = (Message.Request) roundTrip(codec.encodeRequest(1, "m", Map.of("headers", Map.of())));
        assertThat(back.params()).isEqualTo(Map.of("headers", List.of()));
        assertThat(Values.asMap(Values.asMap(back.params()).get("headers"))).isEmpty();
    }

    // ---------------------------------------------------------------- refused values

    @Test
    void unsupportedTypeNamesItsPath() {
        Map<String, Object> params = Map.of("headers", List.of("a", "b", new Object()));
        assertThatThrownBy(() -> codec.encodeRequest(1, "http.handle", params))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("params.headers[2]")
                .hasMessageContaining("java.lang.Object");
        assertThatThrownBy(() -> codec.encodeResponse(1, null, List.of(Map.of("a b", Thread.currentThread()))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("result[0][\"a b\"]")
                .hasMessageContaining("java.lang.Thread");
        assertThatThrownBy(() -> codec.encodeRequest(1, "m", new int[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[I");
        assertThatThrownBy(() -> codec.encodeRequest(1, "m", BigInteger.ONE.shiftLeft(64)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("18446744073709551616");
    }

    @Test
    void aNullMapKeyIsRefusedWithItsPath() {
        Map<Object, Object> inner = new HashMap<>();
        inner.put(null, "x");
        assertThatThrownBy(() -> codec.encodeRequest(1, "m", Map.of("items", List.of(inner))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Cannot encode params.items[0]: a map with a null key, which a PHP array cannot hold");
        assertThatThrownBy(() -> codec.encodeRequest(1, "m", inner))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("Cannot encode params: a map");
    }

    @Test
    void cyclesAndDeepNestingAreRefusedWithoutStackOverflow() {
        List<Object> cyclicList = new ArrayList<>();
        cyclicList.add(cyclicList);
        Map<String, Object> cyclicMap = new HashMap<>();
        cyclicMap.put("self", cyclicMap);
        Object[] cyclicArray = new Object[1];
        cyclicArray[0] = cyclicArray;
        for (Object cyclic : List.of(cyclicList, cyclicMap, cyclicArray)) {
            assertThatThrownBy(() -> codec.encodeRequest(1, "m", cyclic))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("nested deeper than 256 levels");
        }
        assertThatThrownBy(() -> codec.encodeRequest(1, "m", nestedLists(256)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void deepestAllowedNestingRoundTrips() throws IOException {
        // The message array is level 1, so params can hold 255 nested lists: as deep as the reader accepts.
        Object back = ((Message.Request) roundTrip(codec.encodeRequest(1, "m", nestedLists(255)))).params();
        int depth = 0;
        for (Object v = back; v instanceof List<?> list; v = list.isEmpty() ? null : list.get(0)) {
            depth++;
        }
        assertThat(depth).isEqualTo(255);
    }

    @Test
    void codecIsUsableAfterARefusedValue() {
        assertThatThrownBy(() -> codec.encodeRequest(1, "m", List.of("x".repeat(10_000), new Object())))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(remaining(codec.encodeRequest(3, "echo", "hi"))).isEqualTo(hex(ProtocolExamplesTest.REQUEST));
    }

    @Test
    void responseWithErrorAndResultIsRefused() {
        assertThatThrownBy(() -> codec.encodeResponse(1, new RemoteError(1, "x"), "result"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void encodeDispatchesOnTheMessageType() throws IOException {
        for (Message message : List.of(new Message.Request(7, "m", List.of(1L)), Message.Response.success(7, "ok"),
                Message.Response.failure(8, new RemoteError(-1, "bad")), new Message.Notify("n", "p"))) {
            assertThat(roundTrip(codec.encode(message))).isEqualTo(message);
        }
    }

    @Test
    void aResponseSaysItsWorkerExitsWithAFifthElement() throws IOException {
        ByteBuffer frame = codec.encodeResponse(9, null, "bye", true);
        assertThat(remaining(frame)).containsSequence(hex("95 01 09 c0 a3 62 79 65 81 a7 65 78 69 74 69 6e 67 c3"));
        assertThat(roundTrip(frame)).isEqualTo(new Message.Response(9, null, "bye", true));
        assertThat(roundTrip(codec.encode(new Message.Response(9, new RemoteError(-32603, "x"), null, true))))
                .isEqualTo(new Message.Response(9, new RemoteError(-32603, "x"), null, true));
        assertThat(remaining(codec.encodeResponse(9, null, "bye"))).isEqualTo(hex("00 00 00 08 94 01 09 c0 a3 62 79 65"));

        // Notes it does not know, or not a map: an ordinary response of a worker that goes on.
        for (String notes : List.of("80", "81 a7 65 78 69 74 69 6e 67 c2", "81 a1 78 c3", "c0", "a1 78")) {
            byte[] payload = Bytes.concat(hex("95 01 09 c0 a3 62 79 65"), hex(notes));
            assertThat(roundTrip(ByteBuffer.wrap(frame(payload)))).as(notes)
                    .isEqualTo(new Message.Response(9, null, "bye", false));
        }
    }

    // ---------------------------------------------------------------- frame limits

    @Test
    void largeBodyRoundTripsThroughAPipe() throws Exception {
        byte[] body = new byte[16 * MIB - 100];
        new Random(1).nextBytes(body);
        MessageCodec writerCodec = new MessageCodec("pool master");
        Pipe pipe = Pipe.open();
        try (Pipe.SinkChannel sink = pipe.sink(); Pipe.SourceChannel source = pipe.source()) {
            ByteBuffer frame = writerCodec.encodeRequest(9, "http.handle", Map.of("body", body));
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    writerCodec.writeFrame(sink, frame);
                    writerCodec.writeFrame(sink, writerCodec.encodeRequest(10, "echo", "after"));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Message.Request request = (Message.Request) codec.readMessage(source);
            assertThat(request.msgid()).isEqualTo(9);
            assertThat(Arrays.equals((byte[]) Values.asMap(request.params()).get("body"), body)).isTrue();
            assertThat(codec.readMessage(source)).isEqualTo(new Message.Request(10, "echo", "after"));
            writer.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void frameExactlyAtTheDefaultLimitPassesAndOneMoreByteFails() throws IOException {
        // [0, 1, "m", bin32]: 94 00 01 a1 6d c6 + 4 length bytes = 10 bytes around the body
        byte[] body = new byte[MessageCodec.DEFAULT_MAX_FRAME_LENGTH - 10];
        ByteBuffer frame = codec.encodeRequest(1, "m", body);
        assertThat(frame.remaining()).isEqualTo(4 + MessageCodec.DEFAULT_MAX_FRAME_LENGTH);
        assertThat((byte[]) ((Message.Request) roundTrip(frame)).params()).hasSize(body.length);

        byte[] tooLarge = new byte[body.length + 1];
        FrameTooLargeException e = catchThrowableOfType(() -> codec.encodeRequest(1, "m", tooLarge),
                FrameTooLargeException.class);
        assertThat(e.isOutgoing()).isTrue();
        assertThat(e.length()).isEqualTo(MessageCodec.DEFAULT_MAX_FRAME_LENGTH + 1L);
        assertThat(e.limit()).isEqualTo(MessageCodec.DEFAULT_MAX_FRAME_LENGTH);
        assertThat(e).hasMessage("Message for " + PEER + " not sent: its payload of 16777217 bytes exceeds"
                + " the frame limit of 16777216 bytes");
    }

    @Test
    void frameLimitIsExactInBothDirections() throws IOException {
        MessageCodec small = new MessageCodec(1000, PEER);
        // [0, 1, "m", bin16]: 94 00 01 a1 6d c5 + 2 length bytes = 8 bytes around the body
        ByteBuffer atLimit = small.encodeRequest(1, "m", new byte[992]);
        assertThat(atLimit.remaining()).isEqualTo(1004);
        byte[] atLimitBytes = remaining(atLimit);
        assertThat((byte[]) ((Message.Request) small.readMessage(channel(atLimitBytes))).params()).hasSize(992);

        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        assertThatThrownBy(() -> small.writeFrame(Channels.newChannel(sent), small.encodeRequest(1, "m", new byte[993])))
                .isInstanceOfSatisfying(FrameTooLargeException.class, e -> {
                    assertThat(e.isOutgoing()).isTrue();
                    assertThat(e.length()).isEqualTo(1001);
                });
        assertThat(sent.size()).as("bytes written").isZero();

        byte[] overLimit = remaining(new MessageCodec(2000, PEER).encodeRequest(1, "m", new byte[993]));
        ByteArrayInputStream in = new ByteArrayInputStream(overLimit);
        assertThatThrownBy(() -> small.readMessage(Channels.newChannel(in)))
                .isInstanceOfSatisfying(FrameTooLargeException.class, e -> {
                    assertThat(e.isOutgoing()).isFalse();
                    assertThat(e.length()).isEqualTo(1001);
                    assertThat(e.limit()).isEqualTo(1000);
                    assertThat(e.peer()).isEqualTo(PEER);
                });
    }

    @Test
    void oversizedEncodeReportsTheExactLengthWithoutBufferingIt() {
        MessageCodec small = new MessageCodec(64 * 1024, PEER);
        // Many small items: the output stops storing at the limit and only counts.
        List<String> items = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            items.add("item-" + i);
        }
        long exact = new MessageCodec(PEER).encodeRequest(1, "m", items).remaining() - 4;
        assertThatThrownBy(() -> small.encodeRequest(1, "m", items))
                .isInstanceOfSatisfying(FrameTooLargeException.class, e -> assertThat(e.length()).isEqualTo(exact));
        // One large payload, written past the packer's buffer.
        byte[] big = new byte[3 * MIB];
        assertThatThrownBy(() -> small.encodeNotify("n", List.of(big, "tail")))
                .isInstanceOfSatisfying(FrameTooLargeException.class,
                        e -> assertThat(e.length()).isEqualTo(1 + 1 + 2 + 1 + 5 + big.length + 5));
        assertThat(remaining(small.encodeRequest(3, "echo", "hi"))).isEqualTo(hex(ProtocolExamplesTest.REQUEST));
    }

    @Test
    void zeroLengthFrameIsAProtocolError() {
        assertThatThrownBy(() -> codec.readMessage(channel(hex("00 00 00 00 94"))))
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessage("Protocol error from " + PEER + ": zero-length frame");
    }

    @Test
    void hugeAnnouncedFrameFailsBeforeAllocatingIt() {
        ByteArrayInputStream in = new ByteArrayInputStream(hex("7f ff ff ff 94 00 01"));
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        assertThatThrownBy(() -> codec.readMessage(Channels.newChannel(in)))
                .isInstanceOf(FrameTooLargeException.class)
                .hasMessage("Protocol error from " + PEER + ": frame length 2147483647 exceeds the limit of 16777216 bytes");
        assertThat(threads.getCurrentThreadAllocatedBytes() - before).as("bytes allocated").isLessThan(1024 * 1024);

        assertThatThrownBy(() -> codec.readMessage(channel(hex("ff ff ff ff 00"))))
                .isInstanceOfSatisfying(FrameTooLargeException.class, e -> assertThat(e.length()).isEqualTo(0xFFFF_FFFFL));
    }

    // ---------------------------------------------------------------- end of stream

    @Test
    void endOfStreamSaysWhereItHappened() {
        assertThatThrownBy(() -> codec.readMessage(channel(new byte[0])))
                .isExactlyInstanceOf(EOFException.class)
                .hasMessage(PEER + " closed the channel");
        assertThatThrownBy(() -> codec.readMessage(channel(hex("00 00 00"))))
                .isExactlyInstanceOf(EOFException.class)
                .hasMessage("Channel to " + PEER + " closed after 3 of 4 header bytes");
        assertThatThrownBy(() -> codec.readMessage(channel(Bytes.concat(hex("00 00 00 32"), new byte[10]))))
                .isExactlyInstanceOf(EOFException.class)
                .hasMessage("Channel to " + PEER + " closed after 10 of 50 payload bytes");
        assertThatThrownBy(() -> codec.readMessage(channel(Bytes.concat(hex("00 01 86 a0"), new byte[70_000]))))
                .isExactlyInstanceOf(EOFException.class)
                .hasMessage("Channel to " + PEER + " closed after 70000 of 100000 payload bytes");
    }

    // ---------------------------------------------------------------- channel behaviour

    @Test
    void framesArrivingTogetherInOneReadAreDecodedOneByOne() throws IOException {
        byte[] small = remaining(codec.encodeRequest(1, "a", "first"));
        byte[] large = remaining(codec.encodeRequest(2, "b", new byte[100_000]));
        byte[] notify = remaining(codec.encodeNotify("c", 3L));
        ReadableByteChannel in = channel(Bytes.concat(small, notify, small, large, notify));
        assertThat(((Message.Request) codec.readMessage(in)).params()).isEqualTo("first");
        assertThat(((Message.Notify) codec.readMessage(in)).params()).isEqualTo(3L);
        assertThat(((Message.Request) codec.readMessage(in)).msgid()).isEqualTo(1);
        assertThat((byte[]) ((Message.Request) codec.readMessage(in)).params()).hasSize(100_000);
        assertThat(((Message.Notify) codec.readMessage(in)).method()).isEqualTo("c");
        assertThatThrownBy(() -> codec.readMessage(in)).isExactlyInstanceOf(EOFException.class);
    }

    @Test
    void readsAndWritesSurviveTinyPartialTransfers() throws IOException {
        List<Object> params = List.of("x".repeat(100_000), new byte[70_000], "tail");
        byte[] sent = remaining(codec.encodeRequest(5, "m", params));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        codec.writeFrame(new TrickleChannel(Channels.newChannel(out), 7), codec.encodeRequest(5, "m", params));
        assertThat(out.toByteArray()).isEqualTo(sent);

        ReadableByteChannel trickle = new TrickleChannel(channel(Bytes.concat(sent, hex(ProtocolExamplesTest.REQUEST))), 3);
        Message.Request back = (Message.Request) codec.readMessage(trickle);
        assertThat(Values.asList(back.params()).get(0)).isEqualTo("x".repeat(100_000));
        assertThat(codec.readMessage(trickle)).isEqualTo(new Message.Request(3, "echo", "hi"));
    }

    @Test
    void largeHeapFramesAreWrittenInSlices() throws IOException {
        ByteBuffer frame = codec.encodeRequest(1, "m", new byte[MIB]);
        int total = frame.remaining();
        int limit = frame.limit();
        TrickleChannel channel = new TrickleChannel(Channels.newChannel(new ByteArrayOutputStream()), Integer.MAX_VALUE);
        codec.writeFrame(channel, frame);
        assertThat(channel.transferred).isEqualTo(total);
        assertThat(channel.largestRequest).isLessThanOrEqualTo(64 * 1024);
        assertThat(frame.limit()).isEqualTo(limit);
        assertThat(frame.hasRemaining()).isFalse();
    }

    @Test
    void aChannelThatNeverMovesDataFailsInsteadOfSpinning() {
        TrickleChannel stuck = new TrickleChannel(channel(hex(ProtocolExamplesTest.REQUEST)), 0);
        assertThatThrownBy(() -> codec.readMessage(stuck))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("moved no data");
        assertThatThrownBy(() -> codec.writeFrame(stuck, codec.encodeRequest(1, "m", null)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("moved no data");
    }

    @Test
    void nonBlockingChannelIsRefused() throws IOException {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            assertThatThrownBy(() -> codec.readMessage(source))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("non-blocking");
        }
    }

    @Test
    void decodeReadsTheRemainingBytesOfAnyBuffer() {
        byte[] payload = hex("94 00 03 a4 65 63 68 6f a2 68 69");
        ByteBuffer heap = ByteBuffer.wrap(Bytes.concat(hex("ff ff"), payload)).position(2);
        ByteBuffer direct = ByteBuffer.allocateDirect(payload.length).put(payload).flip();
        ByteBuffer readOnly = ByteBuffer.wrap(payload).asReadOnlyBuffer();
        for (ByteBuffer buffer : List.of(heap, direct, readOnly, heap.slice())) {
            int position = buffer.position();
            assertThat(codec.decode(buffer)).isEqualTo(new Message.Request(3, "echo", "hi"));
            assertThat(buffer.position()).isEqualTo(position);
        }
    }

    @Test
    void smallCallsAllocateLittleMoreThanTheirDecodedValues() throws IOException {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(threads instanceof com.sun.management.ThreadMXBean mx
                && mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled());
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) threads;
        MessageCodec master = new MessageCodec(PEER);
        MessageCodec worker = new MessageCodec("pool master");
        LoopChannel toWorker = new LoopChannel();
        LoopChannel toMaster = new LoopChannel();
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 3; round++) {
            long before = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
            for (int i = 0; i < 20_000; i++) {
                master.writeFrame(toWorker, master.encodeRequest(i, "echo", "hi"));
                Message.Request request = (Message.Request) worker.readMessage(toWorker);
                worker.writeFrame(toMaster, worker.encodeResponse(request.msgid(), null, request.params()));
                master.readMessage(toMaster);
            }
            best = Math.min(best, (mx.getThreadAllocatedBytes(Thread.currentThread().getId()) - before) / 20_000);
        }
        // Two encodes and two decodes; the decoded records, strings and boxed msgids alone take ~300 bytes.
        assertThat(best).as("bytes allocated per echo round trip").isLessThan(1024);
    }

    @Test
    void constructorValidatesItsArguments() {
        assertThatThrownBy(() -> new MessageCodec(0, PEER)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MessageCodec(1024, null)).isInstanceOf(NullPointerException.class);
        assertThat(new MessageCodec(PEER).maxFrameLength()).isEqualTo(16 * MIB);
    }

    // ---------------------------------------------------------------- helpers

    /** Writes the frame to memory and reads it back with a fresh codec. */
    static Message roundTrip(ByteBuffer frame) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        MessageCodec sender = new MessageCodec(PEER);
        sender.writeFrame(Channels.newChannel(out), frame);
        ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
        Message message = new MessageCodec(PEER).readMessage(Channels.newChannel(in));
        assertThat(in.available()).isZero();
        return message;
    }

    private byte[] payloadOfParams(Object params) {
        return remaining(codec.encodeRequest(1, "m", params));
    }

    static ReadableByteChannel channel(byte[] bytes) {
        return Channels.newChannel(new ByteArrayInputStream(bytes));
    }

    static Object nestedLists(int depth) {
        Object value = List.of();
        for (int i = 1; i < depth; i++) {
            value = List.of(value);
        }
        return value;
    }

    /** An in-memory pipe: what is written can be read back, without allocating. */
    static final class LoopChannel implements ReadableByteChannel, WritableByteChannel {
        private final ByteBuffer data = ByteBuffer.allocate(64 * 1024);

        @Override
        public int read(ByteBuffer dst) {
            data.flip();
            int n = Math.min(dst.remaining(), data.remaining());
            dst.put(dst.position(), data, data.position(), n).position(dst.position() + n);
            data.position(data.position() + n).compact();
            return n == 0 ? -1 : n;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            data.put(src);
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    /** Moves at most {@code max} bytes per call (0: never moves any) and records what it was asked for. */
    static final class TrickleChannel implements ReadableByteChannel, WritableByteChannel {
        private final Object delegate;
        private final int max;
        long transferred;
        int largestRequest;

        TrickleChannel(Object delegate, int max) {
            this.delegate = delegate;
            this.max = max;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return transfer(dst, true);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return transfer(src, false);
        }

        private int transfer(ByteBuffer buffer, boolean read) throws IOException {
            largestRequest = Math.max(largestRequest, buffer.remaining());
            if (max == 0) {
                return 0;
            }
            ByteBuffer window = buffer.duplicate();
            window.limit(window.position() + Math.min(max, window.remaining()));
            int n = read ? ((ReadableByteChannel) delegate).read(window) : ((WritableByteChannel) delegate).write(window);
            if (n > 0) {
                buffer.position(buffer.position() + n);
                transferred += n;
            }
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
