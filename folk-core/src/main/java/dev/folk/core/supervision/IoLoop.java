package dev.folk.core.supervision;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import dev.folk.core.os.Os;
import dev.folk.core.util.DaemonThreads;

import org.jspecify.annotations.Nullable;

/**
 * One thread, one epoll set, for all workers: it drains every worker's stdout and stderr and
 * watches every leader's pidfd for its exit. A thread per pipe would cost two platform threads
 * per worker; this costs one in total.
 *
 * <p>This thread owns the descriptors it watches: it alone closes them (on end of stream or when
 * {@link #release} asks), so a descriptor number is never closed while still registered, and
 * never reused under a stale registration.
 */
final class IoLoop implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(IoLoop.class);

    /**
     * Longer lines are cut here and go on in further lines, as PHP-FPM's log_limit wraps them: a
     * one-line JSON log with an exception in it is often longer, and none of it is lost. It is
     * also what one pipe's line being assembled may hold.
     */
    static final int MAX_LINE = 16 * 1024;
    /** Ends a line cut at {@link #MAX_LINE}: the next line of the same pid and stream is its rest. */
    private static final String CUT_MARK = " [line cut at 16 KiB: continued on the next line]";
    /**
     * A partial line that has had no more bytes for this long is emitted as a line of its own, as
     * PHP-FPM logs each request's: {@code error_log($m, 3, 'php://stderr')} writes no newline, and
     * the fragment would otherwise wait for the next newline, of a later request, glued to it (or
     * forever on an idle worker). A line written in several write(2)s comes in within
     * microseconds, within milliseconds on a loaded machine; 200 ms is far beyond that (so such a
     * line stays whole), yet short enough that a fragment shows at once to whoever watches, and
     * stands alone unless the worker writes again within it.
     */
    static final long QUIET_NANOS = 200_000_000L;
    /** Bytes read from one pipe per wake-up before other descriptors get their turn. */
    private static final int FAIR_SHARE = 256 * 1024;
    private static final long WAKE_TOKEN = 0;

    private final Os os;
    private final int epfd;
    private final int wakeFd;
    private final Queue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean running = true;

    // Touched only by the loop thread.
    private final Map<Long, Watch> watches = new HashMap<>();
    private final Map<Path, OutputFile> files = new HashMap<>();
    /** The output pipes whose partial line waits for {@link #QUIET_NANOS} of quiet; mostly empty. */
    private final Set<Watch> partials = new HashSet<>();
    /**
     * Per worker name, the notices its workers gave (I/O thread only): what folk-worker-php marks
     * {@code notice:} is advice every worker of a pool gives alike as it starts (a configuration's
     * cost), logged once; a pool that recycles would otherwise repeat it at every start.
     */
    private final Map<String, Set<String>> notices = new HashMap<>();
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
    private long nextToken = 1;

    /** Run on this thread about once a second (the supervisor's orphan reaping). */
    private final Runnable tick;
    private static final long TICK_NANOS = 1_000_000_000L;

    IoLoop(Os os, String threadName, Runnable tick) {
        this.os = os;
        this.tick = tick;
        this.epfd = os.epollCreate();
        this.wakeFd = os.eventFd();
        os.epollAdd(epfd, wakeFd, WAKE_TOKEN);
        this.thread = DaemonThreads.newThread(this, threadName);
        thread.start();
    }

    /** Starts watching a freshly published worker: its exit and both output pipes. */
    void watch(WorkerProcess p) {
        p.watchedBy(this);
        submit(() -> {
            add(new Watch(p, p.pidfd(), Watch.EXIT));
            add(new Watch(p, p.stdoutFd(), Watch.STDOUT));
            add(new Watch(p, p.stderrFd(), Watch.STDERR));
        });
    }

    /**
     * Drains what the pipes hold, then closes them and the pidfd. Called once the worker is reaped;
     * a grandchild may still hold the pipes open, so we cannot wait for end of stream.
     */
    void release(WorkerProcess p) {
        submit(() -> {
            Iterator<Watch> it = watches.values().iterator();
            while (it.hasNext()) {
                Watch w = it.next();
                if (w.process == p) {
                    if (w.kind != Watch.EXIT) {
                        drain(w, Integer.MAX_VALUE);
                    }
                    it.remove();
                    unregisterAndClose(w);
                }
            }
        });
    }

    /**
     * Reads what {@code p}'s pipes hold and emits a partial line there is as a line of its own;
     * completes once done (on the loop's thread).
     */
    CompletableFuture<Void> endPartialLines(WorkerProcess p) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        submit(() -> {
            try {
                for (Watch w : new ArrayList<>(partials)) {
                    if (w.process == p && !drainOrClose(w) && dropPartial(w)) {
                        w.emitPartial(this);
                    }
                }
            } finally {
                done.complete(null);
            }
        });
        return done;
    }

    private boolean hasPartial(WorkerProcess p) {
        for (Watch w : partials) {
            if (w.process == p) {
                return true;
            }
        }
        return false;
    }

    private void submit(Runnable command) {
        if (!running) {
            throw new IllegalStateException("the supervisor's I/O loop has stopped");
        }
        commands.add(command);
        os.eventFdSignal(wakeFd);
    }

    boolean onLoopThread() {
        return Thread.currentThread() == thread;
    }

    /** Stops the loop after it has run every queued command; closes whatever it still watches. */
    void stop(long timeoutMillis) {
        if (!running) {
            return;
        }
        commands.add(() -> running = false);
        os.eventFdSignal(wakeFd);
        if (!onLoopThread()) {
            try {
                thread.join(timeoutMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void run() {
        long[] tokens = new long[128];
        long nextTick = System.nanoTime() + TICK_NANOS;
        try {
            while (running) {
                runCommands();
                if (!running) {
                    break;
                }
                long now = System.nanoTime();
                if (now - nextTick >= 0) {
                    try {
                        tick.run();
                    } catch (RuntimeException e) {
                        log.warn("Supervisor housekeeping failed", e);
                    }
                    nextTick = System.nanoTime() + TICK_NANOS;
                    now = System.nanoTime();
                }
                long wait = nextTick - now;
                if (!partials.isEmpty()) {
                    wait = Math.min(wait, flushQuietPartials(now)); // only then is the wait shorter
                }
                int n = os.epollWait(epfd, tokens, (int) Math.max(1, (wait + 999_999) / 1_000_000));
                for (int i = 0; i < n; i++) {
                    if (tokens[i] == WAKE_TOKEN) {
                        os.eventFdDrain(wakeFd);
                        continue;
                    }
                    Watch w = watches.get(tokens[i]);
                    if (w != null) {
                        handle(w);
                    }
                }
            }
            runCommands();
        } catch (Throwable t) {
            log.error("Worker output and exit watcher failed; worker exits will only be seen by polling", t);
        } finally {
            running = false;
            for (Watch w : watches.values()) {
                unregisterAndClose(w);
            }
            watches.clear();
            for (OutputFile f : files.values()) {
                closeQuietly(f.channel);
            }
            os.close(wakeFd);
            os.close(epfd);
        }
    }

    private void runCommands() {
        Runnable command;
        while ((command = commands.poll()) != null) {
            try {
                command.run();
            } catch (RuntimeException e) {
                log.warn("Supervisor I/O command failed", e);
            }
        }
    }

    private void add(Watch w) {
        long token = nextToken++;
        w.token = token;
        watches.put(token, w);
        os.epollAdd(epfd, w.fd, token);
    }

    private void handle(Watch w) {
        if (w.kind == Watch.EXIT) {
            // The leader exited. Keep the pidfd open (the reaper polls it) until release.
            if (!w.fired) {
                w.fired = true;
                os.epollDelete(epfd, w.fd);
                w.process.markExited();
            }
            return;
        }
        drainOrClose(w);
    }

    /** Reads what {@code w}'s pipe holds; at end of stream closes it (its partial line flushed) and returns true. */
    private boolean drainOrClose(Watch w) {
        if (!drain(w, FAIR_SHARE)) {
            return false;
        }
        watches.remove(w.token);
        unregisterAndClose(w);
        return true;
    }

    /** Takes {@code w} out of {@link #partials}, keeping its worker's flag up to date; false if it was not there. */
    private boolean dropPartial(Watch w) {
        if (!partials.remove(w)) {
            return false;
        }
        w.process.partialOutput(hasPartial(w.process));
        return true;
    }

    /** Reads up to {@code budget} bytes; true at end of stream. */
    private boolean drain(Watch w, int budget) {
        int total = 0;
        while (total < budget) {
            readBuffer.clear();
            int n;
            try {
                n = os.read(w.fd, readBuffer);
            } catch (RuntimeException e) {
                n = 0; // EIO and the like: treat as end of stream
            }
            if (n < 0) {
                return false; // EAGAIN: nothing more for now
            }
            if (n == 0) {
                w.flushPartial(this);
                return true;
            }
            readBuffer.flip();
            w.feed(readBuffer, this);
            if (w.length > 0) {
                w.lastBytes = System.nanoTime();
                if (partials.add(w)) {
                    w.process.partialOutput(true);
                }
            } else {
                dropPartial(w);
            }
            total += n;
        }
        return false;
    }

    /**
     * Emits each partial line that has been quiet for {@link #QUIET_NANOS} as a line of its own;
     * returns the nanoseconds until the next one is due.
     */
    private long flushQuietPartials(long now) {
        long next = Long.MAX_VALUE;
        List<Watch> due = null;
        for (Watch w : partials) {
            long left = w.lastBytes + QUIET_NANOS - now;
            if (left > 0) {
                next = Math.min(next, left);
            } else {
                if (due == null) {
                    due = new ArrayList<>();
                }
                due.add(w);
            }
        }
        if (due == null) {
            return next;
        }
        for (Watch w : due) {
            // Read what the pipe holds first. One write(2) of up to PIPE_BUF bytes (the PHP
            // backtrace block, its marker lines) is in the pipe whole once written, but a read that
            // filled the buffer, or the fair share, may have taken only its start: the partial
            // line's rest may be waiting there, and must not become a line of its own.
            if (drainOrClose(w) || !partials.contains(w)) {
                continue; // ended (its partial line flushed), or the read completed the line
            }
            long left = w.lastBytes + QUIET_NANOS - now;
            if (left > 0) {
                next = Math.min(next, left);
            } else if (dropPartial(w)) {
                w.emitPartial(this);
            }
        }
        return next;
    }

    private void unregisterAndClose(Watch w) {
        if (w.kind != Watch.EXIT) {
            dropPartial(w);
            w.flushPartial(this);
        }
        if (!w.fired) {
            os.epollDelete(epfd, w.fd);
        }
        os.epollDelete(epfd, w.fd);
        os.close(w.fd);
        if (w.kind != Watch.EXIT) {
            w.process.outputPipeClosed();
        }
    }

    /**
     * One line, or a piece of a longer one: {@code cut} when its rest follows as the next line,
     * {@code rest} when it is such a rest (the start of no line, so no marked block's).
     */
    void emit(WorkerProcess p, boolean stderr, byte[] line, int length, boolean cut, boolean rest) {
        String text = new String(line, 0, length, StandardCharsets.UTF_8);
        StderrBlocks blocks = stderr && !cut && !rest ? p.stderrBlocks() : null;
        List<String> ordinary = blocks == null ? null : blocks.offer(text);
        if (ordinary == null) {
            output(p, stderr, text, line, length, cut);
        } else {
            emitAll(p, ordinary);
        }
    }

    /** The end of a worker's stderr: a marked block left unfinished is ordinary output. */
    private void flushBlocks(WorkerProcess p) {
        StderrBlocks blocks = p.stderrBlocks();
        if (blocks != null) {
            emitAll(p, blocks.flush());
        }
    }

    private void emitAll(WorkerProcess p, List<String> stderrLines) {
        for (String s : stderrLines) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            output(p, true, s, bytes, bytes.length, false);
        }
    }

    private void output(WorkerProcess p, boolean stderr, String text, byte[] line, int length, boolean cut) {
        p.outputTail().add(stderr, text);
        OutputPolicy policy = p.spec().output();
        switch (policy.kind()) {
            case DISCARD -> { }
            case LOG -> {
                Logger logger = p.outputLogger();
                MDC.put("folk.worker.pid", Integer.toString(p.pid()));
                String call = p.currentCall();
                if (call != null) {
                    MDC.put("folk.worker.call", call); // the request an operator looks for the line of
                }
                try {
                    if (stderr && repeatedNotice(p, text)) {
                        logger.debug("[pid {}] {} (said before by a worker of this pool)", p.pid(), text);
                    } else if (stderr) {
                        logger.warn("[pid {}] {}{}", p.pid(), text, cut ? CUT_MARK : "");
                    } else {
                        logger.info("[pid {}] {}{}", p.pid(), text, cut ? CUT_MARK : "");
                    }
                } finally {
                    MDC.remove("folk.worker.pid");
                    MDC.remove("folk.worker.call");
                }
            }
            case FILE -> {
                OutputFile out = files.computeIfAbsent(policy.file(), OutputFile::new);
                FileChannel file = out.channel(System.nanoTime());
                if (file != null) {
                    byte[] prefix = ("pid " + p.pid() + (stderr ? " stderr: " : " stdout: "))
                            .getBytes(StandardCharsets.US_ASCII);
                    byte[] suffix = cut ? CUT_SUFFIX : NEWLINE;
                    try {
                        file.write(new ByteBuffer[] {ByteBuffer.wrap(prefix), ByteBuffer.wrap(line, 0, length),
                                ByteBuffer.wrap(suffix)});
                        out.written();
                    } catch (IOException e) {
                        out.notWritten(e);
                    }
                }
            }
        }
    }

    private static final byte[] NEWLINE = {'\n'};
    private static final byte[] CUT_SUFFIX = (CUT_MARK + "\n").getBytes(StandardCharsets.US_ASCII);

    /** Whether {@code text} is a notice ({@code folk-worker[<pid>]: notice: ...}) a worker of the same name gave already. */
    private boolean repeatedNotice(WorkerProcess p, String text) {
        int at = text.indexOf("]: notice: ");
        if (at < 0 || !text.startsWith("folk-worker[")) {
            return false;
        }
        Set<String> said = notices.computeIfAbsent(p.spec().name(), name -> new HashSet<>());
        String notice = text.substring(at + 3);
        return said.size() >= 64 ? said.contains(notice) : !said.add(notice); // a bound: notices are few
    }

    private static void closeQuietly(@Nullable FileChannel f) {
        try {
            if (f != null) {
                f.close();
            }
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    /**
     * An output file, kept open, and reopened once its name no longer names the open file: moved
     * away by logrotate without copytruncate (the lines would go on into the rotated file), or
     * removed (into a deleted file: lost, its disk space never freed). PHP-FPM reopens on SIGUSR1;
     * this looks by itself, as Python's WatchedFileHandler does, but at most once a second, not
     * with a stat(2) per line on this hot path. Each line is written once, to the file open at the
     * time, so none is lost or doubled by a reopen.
     */
    private static final class OutputFile {
        private static final long CHECK_NANOS = 1_000_000_000L;

        private final Path path;
        private @Nullable FileChannel channel;
        /**
         * The identity (device and inode) the name gave just after the open, null if none. The
         * name could be moved away between the open and this stat(2): microseconds, where a miss
         * costs writing into the rotated file until the next rotation.
         */
        private @Nullable Object opened;
        private long checked;
        private boolean failing;
        /** Lines not written since a write first failed (a full disk): said once, not once a line. */
        private long lost;

        OutputFile(Path path) {
            this.path = path;
        }

        /** The channel to write the next line to (null while the file cannot be opened). */
        @Nullable FileChannel channel(long now) {
            FileChannel current = channel;
            if ((current != null || failing) && now - checked < CHECK_NANOS) {
                return current; // the hot path: checked less than a second ago
            }
            checked = now;
            if (current == null) {
                open();
                return channel;
            }
            Object named;
            try {
                named = identity(path);
            } catch (NoSuchFileException e) {
                named = null;
            } catch (IOException e) {
                return current; // cannot tell (a directory that became unreadable): keep writing where we write
            }
            if (opened == null || opened.equals(named)) {
                return current; // the same file, or a file system that gives no identity to compare
            }
            if (open()) {
                closeQuietly(current);
                log.info("Reopened worker output file {}: {}", path,
                        named == null ? "its name named no file any more (moved away or removed)"
                                : "its name named another file (the file was moved away and replaced)");
            }
            return channel;
        }

        /** After a line was appended: says so if lines were lost before it. */
        void written() {
            if (lost > 0) {
                log.info("Appending worker output to {} works again; {} line(s) could not be written before", path, lost);
                lost = 0;
            }
        }

        /**
         * A line could not be appended: warned of once, not at every line, as a full disk would
         * flood the application's log (often on the same disk) with it.
         */
        void notWritten(IOException e) {
            if (lost++ == 0) {
                log.warn("Cannot append worker output to {}: {}; its workers' lines are dropped until it works again "
                        + "(free space there, or point output-file elsewhere)", path, e.toString());
            }
        }

        /** True when opened; a failure keeps the channel there was and is retried a second later. */
        private boolean open() {
            try {
                FileChannel fresh = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.APPEND);
                Object identity;
                try {
                    identity = identity(path);
                } catch (IOException e) {
                    identity = null;
                }
                if (failing && channel == null) {
                    log.info("Opened worker output file {} after all", path);
                }
                channel = fresh;
                opened = identity;
                failing = false;
                return true;
            } catch (IOException e) {
                if (!failing) {
                    failing = true;
                    log.warn("Cannot open worker output file {}: {}; {}", path, e.toString(),
                            channel == null ? "output of its workers is dropped until it can"
                                    : "output of its workers goes on into the file open before");
                }
                return false;
            }
        }

        private static @Nullable Object identity(Path path) throws IOException {
            return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        }
    }

    /** One watched descriptor: a pidfd, or an output pipe with its line being assembled. */
    private static final class Watch {
        static final int EXIT = 0;
        static final int STDOUT = 1;
        static final int STDERR = 2;

        final WorkerProcess process;
        final int fd;
        final int kind;
        long token;
        boolean fired;
        private byte @Nullable [] line;
        private int length;
        /** When the last bytes of the partial line being assembled came (System.nanoTime). */
        long lastBytes;
        /** The line being assembled is the rest of a longer one, cut at {@link #MAX_LINE}. */
        private boolean rest;

        Watch(WorkerProcess process, int fd, int kind) {
            this.process = process;
            this.fd = fd;
            this.kind = kind;
        }

        void feed(ByteBuffer bytes, IoLoop loop) {
            if (line == null) {
                line = new byte[256];
            }
            while (bytes.hasRemaining()) {
                byte b = bytes.get();
                if (b == '\n') {
                    loop.emit(process, kind == STDERR, line, length, false, rest);
                    length = 0;
                    rest = false;
                } else {
                    if (length == MAX_LINE) {
                        cut(line, b, loop); // only now: a line of exactly MAX_LINE bytes is not cut
                    } else if (length == line.length) {
                        line = java.util.Arrays.copyOf(line, Math.min(MAX_LINE, line.length * 2));
                    }
                    line[length++] = b;
                }
            }
        }

        /**
         * Emits the full buffer as a cut line and keeps what does not belong to it: a UTF-8
         * character that {@code next} (a continuation byte) shows to straddle the cut moves whole to
         * the rest, so that neither line shows it as two replacement characters.
         */
        private void cut(byte[] full, byte next, IoLoop loop) {
            int at = MAX_LINE;
            if ((next & 0xC0) == 0x80) {
                int lead = MAX_LINE - 1;
                while (lead > MAX_LINE - 4 && (full[lead] & 0xC0) == 0x80) {
                    lead--;
                }
                if ((full[lead] & 0xC0) == 0xC0) {
                    at = lead; // else not UTF-8: cut where the bytes are
                }
            }
            loop.emit(process, kind == STDERR, full, at, true, rest);
            System.arraycopy(full, at, full, 0, MAX_LINE - at);
            length = MAX_LINE - at;
            rest = true;
        }

        /**
         * The partial line, quiet for a while, as a line of its own. A marked block being held is
         * left alone: unlike at end of stream, its end may still come.
         */
        @SuppressWarnings("NullAway") // a partial line (length > 0) was fed, so line is allocated
        void emitPartial(IoLoop loop) {
            if (length > 0) {
                loop.emit(process, kind == STDERR, line, length, false, rest);
            }
            length = 0;
            rest = false;
        }

        void flushPartial(IoLoop loop) {
            emitPartial(loop);
            if (kind == STDERR) {
                loop.flushBlocks(process);
            }
        }
    }
}
