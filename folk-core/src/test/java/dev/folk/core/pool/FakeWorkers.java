package dev.folk.core.pool;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import java.util.concurrent.locks.LockSupport;

import dev.folk.core.supervision.WorkerProcess.ResidentSet;
import dev.folk.core.protocol.Message;
import dev.folk.core.protocol.MessageCodec;
import dev.folk.core.protocol.ProtocolException;
import dev.folk.core.protocol.RemoteError;
import dev.folk.core.supervision.ChannelResetException;
import dev.folk.core.supervision.ExitStatus;
import dev.folk.core.supervision.SupervisorClosedException;

/**
 * In-JVM workers behind the pool's {@link WorkerHost} seam, for testing the pool's logic in
 * milliseconds. Each fake keeps the promises a real worker process makes to the pool — it exits
 * once, its exit is seen on another thread, a kill wakes a blocked read, closing fd 3 makes it
 * exit 0 — and records what the pool did to it (reaped how many times, killed, stopped).
 *
 * <p>What a worker does with a call is named by its method, like the PHP test worker's:
 * {@code echo} returns its params, {@code pid} its pid, {@code error} an error response,
 * {@code hang} blocks until the pool kills it, {@code wait} until the test {@link Fake#answer}s, {@code grow} sets its memory to params bytes and then
 * blocks, {@code crash} exits 3 after reading the request, {@code exit0} exits 0 after reading it,
 * {@code bad-msgid} answers another request, {@code garbage} sends an undecodable frame,
 * {@code unread} dies before reading the request (ECONNRESET), {@code send-fails} dies so the write
 * fails. How the n-th spawned worker boots is {@link #boots}'s answer.
 */
final class FakeWorkers implements WorkerHost {

    /** How a fake worker boots. */
    enum Boot {
        /** Sends control.ready. */
        READY,
        /** Sends control.ready, then exits 0 before serving anything. */
        READY_THEN_EXIT,
        /** Never says anything until it is killed. */
        HANG,
        /** Exits with code 1 before its handshake (a broken script). */
        EXIT,
        /** Is killed by SIGKILL from outside before its handshake. */
        KILLED,
        /** Sends another notification instead of control.ready. */
        WRONG_MESSAGE,
        /** Cannot even be spawned. */
        SPAWN_FAILS,
        /** Its spawn does not return until {@link #releaseSpawns} opens the gate; then READY. */
        SPAWN_HELD,
        /**
         * Its spawn does not return until {@link #releaseSpawns} opens the gate, whatever interrupts
         * its thread meanwhile (as if it had returned just before); then it never says anything (HANG).
         */
        SPAWN_HELD_HANG
    }

    /** The pool's clock: real time plus however far a test has moved it. */
    static final class Clock implements PoolClock {
        private final AtomicLong offset = new AtomicLong();

        @Override
        public long nanoTime() {
            return System.nanoTime() + offset.get();
        }

        void advance(Duration d) {
            offset.addAndGet(d.toNanos());
        }
    }

    final Clock clock = new Clock();
    final List<Fake> spawned = new CopyOnWriteArrayList<>();
    /** How the n-th spawned worker (from 0) boots. */
    volatile IntFunction<Boot> boots = n -> Boot.READY;
    /** What workers spawned from now on declare in their handshake ({@code features}). */
    volatile List<String> features = List.of();
    /**
     * How a fake answers {@link WorkerLink#requestBacktrace}: these frames at once, or (null)
     * never, like a PHP worker blocked in a read.
     */
    volatile List<String> backtrace = List.of("#0 /app/fake.php:7 hang()", "#1 /app/fake.php:20 {main}");
    volatile boolean closed;
    /** Held spawns ({@link Boot#SPAWN_HELD}) wait for it. */
    private final CountDownLatch spawnGate = new CountDownLatch(1);
    /** Spawns currently held at the gate. */
    final AtomicInteger heldSpawns = new AtomicInteger();
    /** spawn() calls under way: their fake is in {@link #spawned} only once they return. */
    final AtomicInteger spawning = new AtomicInteger();
    /** Calls of the method {@code held-unsent} wait for it while encoding, before anything is sent. */
    private final CountDownLatch unsentGate = new CountDownLatch(1);
    /** Counted down once a {@code held-unsent} call has reached the gate, holding its worker. */
    final CountDownLatch unsentHeld = new CountDownLatch(1);
    private final AtomicInteger nextPid = new AtomicInteger(10_000);
    private final AtomicInteger spawnCount = new AtomicInteger();
    private final int maxFrameLength;
    /** Exit notifications arrive on their own thread, as the supervisor's do. */
    private final ExecutorService notifier = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fake-workers-exit");
        t.setDaemon(true);
        return t;
    });

    FakeWorkers(int maxFrameLength) {
        this.maxFrameLength = maxFrameLength;
    }

    /** A pool of fakes, driven by {@link #clock}; it ticks only when the test calls {@code tick()}. */
    WorkerPool pool(PoolConfig config) {
        return new WorkerPool(config, this, clock, false);
    }

    @Override
    public WorkerLink spawn() {
        spawning.incrementAndGet();
        try {
            if (closed) {
                throw new SupervisorClosedException("start worker 'fake'");
            }
            Boot boot = boots.apply(spawnCount.getAndIncrement());
            if (boot == Boot.SPAWN_FAILS) {
                throw new IllegalStateException("cannot execute 'fake': No such file or directory. Install it.");
            }
            if (boot == Boot.SPAWN_HELD) {
                heldSpawns.incrementAndGet();
                try {
                    hold(spawnGate);
                } finally {
                    heldSpawns.decrementAndGet();
                }
            } else if (boot == Boot.SPAWN_HELD_HANG) {
                heldSpawns.incrementAndGet();
                try {
                    while (true) {
                        try {
                            spawnGate.await();
                            break;
                        } catch (InterruptedException ignored) {
                            // the pool's close interrupts its spawner: this spawn returns anyway
                        }
                    }
                } finally {
                    heldSpawns.decrementAndGet();
                }
            }
            Fake f = new Fake(nextPid.getAndIncrement(), boot);
            spawned.add(f);
            return f;
        } finally {
            spawning.decrementAndGet();
        }
    }

    @Override
    public List<ExitStatus> terminateAll(List<WorkerLink> links, long killBy) {
        List<ExitStatus> statuses = new ArrayList<>(links.size());
        for (WorkerLink l : links) {
            statuses.add(l.terminate(Duration.ZERO));
        }
        return statuses;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    /** Lets every held spawn ({@link Boot#SPAWN_HELD}) go on. */
    void releaseSpawns() {
        spawnGate.countDown();
    }

    /** Lets every {@code held-unsent} call go on to send its request. */
    void releaseUnsent() {
        unsentGate.countDown();
    }

    void shutdown() {
        spawnGate.countDown();
        unsentGate.countDown();
        notifier.shutdownNow();
    }

    /** Workers spawned and not yet exited. */
    long alive() {
        return spawned.stream().filter(f -> !f.exited()).count();
    }

    /** Waits, without sleeping a fixed time, until {@code condition} holds. */
    /** Waits at one of the test's gates; an interrupt fails what was held, as it would fail the real operation. */
    private static void hold(CountDownLatch gate) {
        try {
            gate.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while held", e);
        }
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Timed out after 5 s waiting for: " + what);
            }
            LockSupport.parkNanos(100_000);
        }
    }

    /** One fake worker process. */
    final class Fake implements WorkerLink {
        final int pid;
        final Boot boot;
        final Instant startedAt = Instant.now();
        private final long startedNanos = System.nanoTime();
        private final MessageCodec codec;
        private final CompletableFuture<Fake> exit = new CompletableFuture<>();
        private final Object monitor = new Object();
        private volatile ExitStatus status;
        private volatile boolean taskAborted;
        private volatile boolean controlAborted;
        private volatile long rss = 10L << 20;
        /** Times the pool stopped it through the ladder (terminate or terminateAll): the pool retires once. */
        final AtomicInteger terminations = new AtomicInteger();
        final AtomicInteger kills = new AtomicInteger();
        /** The msgids the pool asked a backtrace for (each one a signal to the real process). */
        final List<Long> backtraceRequests = new CopyOnWriteArrayList<>();
        final List<String> declared = features;
        /** The params of every request it read, in order. */
        final List<Object> served = new CopyOnWriteArrayList<>();
        /** The thread that sent each request it read, in the same order. */
        final List<Thread> sentBy = new CopyOnWriteArrayList<>();
        /** From now on it dies before reading any request (as {@code unread}). */
        volatile boolean dies;
        volatile boolean taskClosed;
        private volatile long msgid;
        private volatile String method;
        private Object params;
        private Message pending;

        Fake(int pid, Boot boot) {
            this.pid = pid;
            this.boot = boot;
            this.codec = new MessageCodec(maxFrameLength, "fake worker " + pid);
        }

        boolean exited() {
            return status != null;
        }

        ExitStatus status() {
            return status;
        }

        void rss(long bytes) {
            rss = bytes;
        }

        /** Answers the {@code wait} call it has read (waiting for it to be sent) with {@code result}. */
        void answer(Object result) {
            awaitSent(served.size() == 0 ? 1 : served.size());
            synchronized (monitor) {
                pending = new Message.Response(msgid, null, result);
                monitor.notifyAll();
            }
        }

        /**
         * Answers the {@code wait} call it has read with {@code result} and says it exits (PHP's
         * {@code exit()} in a handler): from then on it dies before reading any request.
         */
        void answerExiting(Object result) {
            awaitSent(served.size() == 0 ? 1 : served.size());
            synchronized (monitor) {
                dies = true;
                pending = new Message.Response(msgid, null, result, true);
                monitor.notifyAll();
            }
        }

        /** Waits until it has read {@code n} requests: the call is then in progress, its deadline set. */
        void awaitSent(int n) {
            await("worker " + pid + " read " + n + " requests", () -> served.size() >= n);
        }

        /** The process ends (once): blocked reads wake, the exit is told on the notifier thread. */
        void exit(int code, int signal) {
            synchronized (monitor) {
                if (status != null) {
                    return;
                }
                status = new ExitStatus(code, signal, 0, Duration.ZERO, Duration.ZERO);
                monitor.notifyAll();
            }
            try {
                notifier.execute(() -> exit.complete(this));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                exit.complete(this);
            }
        }

        @Override
        public int pid() {
            return pid;
        }

        @Override
        public Instant startedAt() {
            return startedAt;
        }

        @Override
        public Message awaitControl(long timeoutNanos) throws IOException {
            switch (boot) {
                case READY, READY_THEN_EXIT, SPAWN_HELD -> {
                    if (boot == Boot.READY_THEN_EXIT) {
                        notifier.execute(() -> exit(0, 0)); // after the pool has read control.ready
                    }
                    return new Message.Notify("control.ready", Map.of("pid", (long) pid, "features", declared));
                }
                case WRONG_MESSAGE -> {
                    return new Message.Notify("hello", null);
                }
                case EXIT -> {
                    exit(1, 0);
                    throw new EOFException("end of stream");
                }
                case KILLED -> {
                    exit(0, 9);
                    throw new EOFException("end of stream");
                }
                default -> {
                    long deadline = System.nanoTime() + timeoutNanos;
                    synchronized (monitor) {
                        while (!controlAborted && status == null) {
                            long left = deadline - System.nanoTime();
                            if (left <= 0) {
                                throw new IOException("no control.ready within boot-timeout");
                            }
                            waitOn(left);
                        }
                    }
                    throw new EOFException("end of stream");
                }
            }
        }

        @Override
        public void abortControl() {
            synchronized (monitor) {
                controlAborted = true;
                monitor.notifyAll();
            }
        }

        @Override
        public ByteBuffer encodeRequest(long msgid, String method, Object params) {
            if ("held-unsent".equals(method)) {
                // A caller holding this worker without having sent anything yet, until the test lets it go on.
                unsentHeld.countDown();
                hold(unsentGate);
            }
            ByteBuffer frame = codec.encodeRequest(msgid, method, params); // real limits, real encoding errors
            this.msgid = msgid;
            this.method = method;
            this.params = params;
            return frame;
        }

        @Override
        public void send(ByteBuffer frame) throws IOException {
            if (taskAborted || taskClosed || exited()) {
                throw new IOException("Broken pipe");
            }
            if ("send-fails".equals(method)) {
                exit(0, 9);
                throw new IOException("Broken pipe");
            }
            synchronized (monitor) {
                switch (method) {
                    case "echo" -> pending = new Message.Response(msgid, null, params);
                    case "pid" -> pending = new Message.Response(msgid, null, (long) pid);
                    case "error" -> pending = new Message.Response(msgid, new RemoteError(-32603,
                            String.valueOf(params)), null);
                    case "bad-msgid" -> pending = new Message.Response(msgid + 1, null, params);
                    case "grow" -> rss = ((Number) params).longValue();
                    default -> { } // hang, grow: no answer; wait: the test's answer
                }
            }
            // Last: a test that saw the request served may rely on what it did (grow's resident size).
            if (!dies && !"unread".equals(method)) {
                sentBy.add(Thread.currentThread());
                served.add(params == null ? "null" : params);
            }
        }

        @Override
        public Message receive() throws IOException {
            boolean dead;
            synchronized (monitor) {
                dead = dies && pending == null; // an answer it gave as it died (answerExiting) is read first
            }
            switch (dead ? "unread" : method) {
                case "unread" -> {
                    exit(0, 9);
                    throw new ChannelResetException("the worker closed its end without reading what we sent", null);
                }
                case "crash" -> exit(3, 0);
                case "exit0" -> exit(0, 0);
                case "garbage" -> throw new ProtocolException("fake worker " + pid, "frame of length 0");
                default -> { }
            }
            synchronized (monitor) {
                while (pending == null && !taskAborted && status == null) {
                    waitOn(Long.MAX_VALUE);
                }
                if (pending == null || taskAborted) {
                    throw new EOFException("end of stream");
                }
                Message m = pending;
                pending = null;
                return m;
            }
        }

        private void waitOn(long nanos) {
            try {
                TimeUnit.NANOSECONDS.timedWait(monitor, Math.min(nanos, TimeUnit.SECONDS.toNanos(1)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // like read(2): only an abort ends the wait
            }
        }

        @Override
        public void abortTask() {
            synchronized (monitor) {
                taskAborted = true;
                monitor.notifyAll();
            }
        }

        @Override
        public void closeTask() {
            taskClosed = true;
            exit(0, 0); // a Folk worker leaves its loop on EOF and exits 0
        }

        @Override
        public CompletableFuture<?> onExit() {
            return exit;
        }

        @Override
        public boolean awaitExit(Duration timeout) {
            try {
                exit.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
                return true;
            } catch (TimeoutException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public boolean hasExited() {
            return exited();
        }

        @Override
        public void kill() {
            kills.incrementAndGet();
            exit(0, 9);
        }

        @Override
        public ExitStatus terminate(Duration grace) {
            terminations.incrementAndGet();
            exit(0, 15);
            return status;
        }

        @Override
        public CompletableFuture<List<String>> requestBacktrace(long msgid) {
            backtraceRequests.add(msgid);
            if (exited()) {
                return CompletableFuture.failedFuture(new IllegalStateException("the worker has exited"));
            }
            List<String> frames = backtrace;
            return frames == null ? new CompletableFuture<>() : CompletableFuture.completedFuture(frames);
        }

        @Override
        public ResidentSet residentSet() {
            return exited() ? new ResidentSet(-1, -1) : new ResidentSet(rss, rss);
        }

        @Override
        public List<String> recentOutput() {
            return boot == Boot.EXIT ? List.of("PHP Parse error: syntax error in app.php on line 3") : List.of();
        }

        @Override
        public long recentOutputNanos() {
            return boot == Boot.EXIT ? startedNanos : Long.MIN_VALUE;
        }

        @Override
        public CompletableFuture<Void> onOutputClosed() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public String toString() {
            return "fake worker " + pid + " (" + boot + (status == null ? "" : ", " + status) + ")";
        }
    }
}
