package dev.folk.core.supervision;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.folk.core.os.Os;
import dev.folk.core.os.OsException;
import jnr.constants.platform.Errno;
import jnr.enxio.channels.NativeException;
import jnr.unixsocket.UnixSocketChannel;

/**
 * The parent end of one of a worker's socket pairs (fd 3, tasks; or fd 4, control), as a
 * blocking {@link ByteChannel}.
 *
 * <p>Direct buffers — what {@code MessageCodec} always passes — go straight to read(2) and
 * send(2). jnr-unixsocket's channel, used only for heap buffers, allocates a heap array of
 * {@code remaining()} bytes per call and copies through it: with the codec's 64 KiB read window
 * that was about half of a call's CPU time.
 *
 * <p>A blocked read is not woken by {@link Thread#interrupt()}; {@link #abort()} wakes it by
 * shutting the socket down, which is how an exec timeout gets a caller back. The descriptor is
 * closed once, by {@link #close()}; callers must not close it while another thread still reads.
 */
public final class WorkerChannel implements ByteChannel {

    private final Os os;
    private final int fd;
    private final UnixSocketChannel channel;
    private final AtomicBoolean closed = new AtomicBoolean();

    WorkerChannel(Os os, int fd) {
        this.os = os;
        this.fd = fd;
        this.channel = UnixSocketChannel.fromFD(fd);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!dst.isDirect()) {
            return readHeap(dst);
        }
        if (!dst.hasRemaining()) {
            return 0;
        }
        ensureOpen();
        int n;
        try {
            n = os.read(fd, dst);
        } catch (OsException e) {
            throw failure(e);
        }
        return n == 0 ? -1 : Math.max(n, 0); // 0 is end of stream; -1 (EAGAIN) moved nothing
    }

    private int readHeap(ByteBuffer dst) throws IOException {
        try {
            return channel.read(dst);
        } catch (NativeException e) {
            if (e.getErrno() == Errno.ECONNRESET) {
                throw reset(e);
            }
            throw e;
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (!src.isDirect()) {
            return channel.write(src);
        }
        ensureOpen();
        try {
            return Math.max(os.send(fd, src), 0);
        } catch (OsException e) {
            throw failure(e);
        }
    }

    private void ensureOpen() throws ClosedChannelException {
        if (closed.get()) {
            throw new ClosedChannelException();
        }
    }

    private static IOException failure(OsException e) {
        if (e.errno() == Errno.ECONNRESET.intValue()) {
            return reset(e);
        }
        return new IOException(e.getMessage(), e);
    }

    private static ChannelResetException reset(Exception cause) {
        return new ChannelResetException("the worker closed its end without reading what we sent", cause);
    }

    /** Waits up to {@code timeoutMillis} for data or end of stream; true if a read would not block. */
    public boolean awaitReadable(long timeoutMillis) {
        if (closed.get()) {
            return true;
        }
        int clamped = (int) Math.min(Integer.MAX_VALUE, Math.max(0, timeoutMillis));
        return os.poll(fd, Os.POLLIN, clamped) != 0;
    }

    /**
     * Shuts the socket down in both directions: a thread blocked reading it sees end of stream.
     * Serialised with {@link #close()}: a shutdown must never reach the number after it was
     * closed, when it may already belong to another worker's socket.
     */
    public void abort() {
        synchronized (closed) {
            if (!closed.get()) {
                os.shutdown(fd);
            }
        }
    }

    @Override
    public boolean isOpen() {
        return !closed.get();
    }

    @Override
    public void close() {
        synchronized (closed) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // close(2) frees the descriptor even when it reports an error
        }
    }

    /** The parent-side descriptor number (for diagnostics). */
    public int fd() {
        return fd;
    }
}
