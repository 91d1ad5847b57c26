package dev.folk.benchmarks;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.protocol.Message;
import dev.folk.core.protocol.MessageCodec;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerChannel;
import dev.folk.core.supervision.WorkerProcess;

/**
 * Comparison 1: a 64-byte echo, one caller, one worker. The pool's {@code call} to the C echo
 * worker against (a) the raw C ping-pong over a socket pair (the machine's floor) and (b) a raw
 * Java ping-pong to the same C echo worker over the same kind of channel, with a pre-encoded
 * frame and no pool. A third Java side, codec without pool, splits the difference between the
 * two.
 */
final class RoundTrip {

    private final Env env;
    private final Options options;
    private final Quiet quiet;

    RoundTrip(Env env, Options options, Quiet quiet) {
        this.env = env;
        this.options = options;
        this.quiet = quiet;
    }

    Table run() throws Exception {
        env.requireNative();
        int rounds = options.rounds(9);
        int n = options.n(20_000);
        Table table = new Table("1", "Round trip, 64-byte echo: pool vs raw C and raw Java ping-pong");
        Series cP50 = new Series();
        Series cP99 = new Series();
        Series cRate = new Series();
        Series rawP50 = new Series();
        Series rawP99 = new Series();
        Series rawRate = new Series();
        Series rawCpu = new Series();
        Series codecCpu = new Series();
        Series codecP50 = new Series();
        Series poolP50 = new Series();
        Series poolP99 = new Series();
        Series poolRate = new Series();
        Series poolCpu = new Series();

        Supervisor supervisor = new Supervisor();
        WorkerProcess raw = null;
        WorkerPool pool = null;
        try {
            raw = supervisor.spawn(Workers.cEcho(env).spec("bench-raw"));
            Workers.handshake(raw);
            RawPingPong ping = new RawPingPong(raw.taskChannel());
            WorkerChannel ch = raw.taskChannel();
            MessageCodec codec = new MessageCodec(MessageCodec.DEFAULT_MAX_FRAME_LENGTH, "worker " + raw.pid());
            pool = Workers.pool(supervisor, Workers.cEcho(env), 1);
            WorkerPool p = pool;
            long[] msgid = {0};

            Load.Call rawCall = (t, i) -> ping.roundTrip();
            Load.Call codecCall = (t, i) -> {
                long id = ++msgid[0];
                codec.writeFrame(ch, codec.encodeRequest(id, "echo", Workers.PAYLOAD_64));
                Message m = codec.readMessage(ch);
                if (!(m instanceof Message.Response r) || r.msgid() != id) {
                    throw new IOException("unexpected answer " + m);
                }
            };
            Load.Call poolCall = (t, i) -> p.call("echo", Workers.PAYLOAD_64);

            Log.info("round trip: warming up the Java sides");
            for (int w = 0; w < 3; w++) {
                Load.run(1, n, rawCall);
                Load.run(1, n, codecCall);
                Load.run(1, n, poolCall);
            }
            List<Load.Side> sides = List.of(() -> {
                var kv = Proc.run(List.of(env.pingpong.toString(), "-s", "64", "-n", Integer.toString(n), "-w", "2000",
                        "-p", "1"), 120).kv();
                cP50.add(Proc.num(kv, "rtt_p50_us"));
                cP99.add(Proc.num(kv, "rtt_p99_us"));
                cRate.add(Proc.num(kv, "ops_per_s"));
            }, () -> {
                Load.Result res = Load.run(1, n, rawCall);
                rawP50.add(res.p50Micros());
                rawP99.add(res.p99Micros());
                rawRate.add(res.opsPerSecond());
                rawCpu.add(res.callerCpuMicrosPerOp());
            }, () -> {
                Load.Result res = Load.run(1, n, codecCall);
                codecP50.add(res.p50Micros());
                codecCpu.add(res.callerCpuMicrosPerOp());
            }, () -> {
                Load.Result res = Load.run(1, n, poolCall);
                poolP50.add(res.p50Micros());
                poolP99.add(res.p99Micros());
                poolRate.add(res.opsPerSecond());
                poolCpu.add(res.callerCpuMicrosPerOp());
            });
            for (int r = 0; r < rounds; r++) {
                Quiet.Round round = quiet.round("round trip round " + (r + 1), cP50, cP99, cRate, rawP50, rawP99,
                        rawRate, rawCpu, codecP50, codecCpu, poolP50, poolP99, poolRate, poolCpu);
                while (round.next()) {
                    Load.rotate(sides, r); // the order of the sides rotates from round to round
                }
                Log.info("round trip round %d/%d: p50 C %.1f us, raw Java %.1f us, codec %.1f us, pool %.1f us",
                        r + 1, rounds, last(cP50), last(rawP50), last(codecP50), last(poolP50));
            }
        } finally {
            if (pool != null) {
                pool.close();
            }
            if (raw != null) {
                Workers.stop(supervisor, raw);
            }
            supervisor.close();
        }

        table.intro(rounds + " rounds; in each, every side makes " + n + " timed round trips (after a warm-up) in a "
                + "rotating order. Medians over rounds, (min..max). Ratios are per round, ours / baseline.");
        table.ratioRow("p50 round trip: pool → C echo-worker vs raw C ping-pong", poolP50, cP50, "us",
                Table.Target.atMost(1.5));
        table.ratioRow("p50 round trip: pool → C echo-worker vs raw Java ping-pong (same worker kind)", poolP50,
                rawP50, "us", Table.Target.atMost(1.5));
        table.ratioRow("p50: raw Java ping-pong vs raw C ping-pong", rawP50, cP50, "us", null);
        table.ratioRow("p50: codec, no pool (encode + write + read + decode) vs raw Java", codecP50, rawP50, "us",
                null);
        table.ratioRow("p99: pool vs raw Java", poolP99, rawP99, "us", null);
        table.ratioRow("p99: pool vs raw C", poolP99, cP99, "us", null);
        table.ratioRow("round trips/s, 1 caller: pool vs raw Java", poolRate, rawRate, "/s", null);
        table.ratioRow("round trips/s, 1 caller: pool vs raw C", poolRate, cRate, "/s", null);
        table.ratioRow("caller thread CPU per round trip: pool vs raw Java", poolCpu, rawCpu, "us", null);
        table.ratioRow("caller thread CPU per round trip: codec, no pool vs raw Java", codecCpu, rawCpu, "us", null);
        table.note("Raw C: `pingpong -s 64 -p 1` (parent/forked child, 64 bytes each way, no framing). "
                + "Raw Java: the same C echo-worker spawned by the Supervisor, a pre-encoded request frame "
                + "written to and the response read from the task channel (`WorkerChannel`: read(2)/send(2) on direct buffers), no codec, no "
                + "pool. "
                + "Pool: `WorkerPool.call(\"echo\", <64-char string>)`, size 1. Caller CPU: the calling "
                + "thread's CPU time (user + system) per round trip.");
        table.note(quiet.summary());
        return table;
    }

    private static double last(Series s) {
        List<Double> v = s.values();
        return v.isEmpty() ? Double.NaN : v.get(v.size() - 1);
    }

    /** A pre-encoded echo request written, and its response read, with no codec in between. */
    static final class RawPingPong {
        final WorkerChannel channel;
        private final ByteBuffer request;
        private final ByteBuffer response = ByteBuffer.allocateDirect(1024);

        RawPingPong(WorkerChannel channel) throws IOException {
            this.channel = channel;
            MessageCodec codec = new MessageCodec(4096, "raw");
            ByteBuffer frame = codec.encodeRequest(1, "echo", Workers.PAYLOAD_64);
            request = ByteBuffer.allocateDirect(frame.remaining());
            request.put(frame).flip();
            // Check once that the worker answers what we think it does.
            int len = roundTrip();
            ByteBuffer payload = ByteBuffer.allocate(len);
            response.position(4).limit(4 + len);
            payload.put(response).flip();
            Message m = codec.decode(payload);
            if (!(m instanceof Message.Response r) || r.msgid() != 1 || !Workers.PAYLOAD_64.equals(r.result())) {
                throw new IOException("the C echo worker answered " + m);
            }
        }

        /** One round trip; returns the response's payload length. */
        int roundTrip() throws IOException {
            request.rewind();
            while (request.hasRemaining()) {
                channel.write(request);
            }
            response.clear().limit(4);
            fill();
            int len = response.getInt(0);
            if (len <= 0 || len > response.capacity() - 4) {
                throw new IOException("bad response length " + len);
            }
            response.limit(4 + len);
            fill();
            return len;
        }

        private void fill() throws IOException {
            while (response.hasRemaining()) {
                if (channel.read(response) < 0) {
                    throw new EOFException("the echo worker closed the channel");
                }
            }
        }
    }
}
