package dev.folk.core.supervision;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import dev.folk.core.os.Os;
import dev.folk.core.os.OsException;
import dev.folk.core.util.VirtualThreads;
import jnr.constants.platform.Errno;

import org.jspecify.annotations.Nullable;

/**
 * The parent end of one of a worker's socket pairs (fd 3, tasks; or fd 4, control), as a
 * blocking {@link ByteChannel}.
 *
 * <p>Direct buffers — what {@code MessageCodec} always passes — go straight to read(2) and
 * send(2). A heap buffer goes through a direct one of at most {@value #HEAP_CHUNK} bytes per call
 * (jnr-unixsocket's channel, used for those once, copied {@code remaining()} bytes per call: with
 * the codec's 64 KiB read window that was about half of a call's CPU time; and the first close
 * through it initialised its libc binding, on which a virtual thread closing another channel at
 * the same moment waited pinned).
 *
 * <p>A platform thread blocks in read(2) and send(2) (the fastest way to wait for one answer). A
 * virtual thread must not: it would pin its carrier while the worker works. It tries the call
 * without blocking (MSG_DONTWAIT) and, when the socket is not ready, parks until the
 * {@link ChannelPoller} sees it ready; its carrier serves other virtual threads meanwhile.
 *
 * <p>A blocked read is not woken by {@link Thread#interrupt()} (nor is a parked one: it re-parks,
 * keeping the interrupt for later); {@link #abort()} wakes either kind by shutting the socket
 * down, which is how an exec timeout gets a caller back. The descriptor is closed once, by
 * {@link #close()}; callers must not close it while another thread still reads.
 */
public final class WorkerChannel implements ByteChannel {

    /** The largest direct buffer a heap buffer's read or write goes through, per call. */
    private static final int HEAP_CHUNK = 64 * 1024;

    private final Os os;
    private final int fd;
    private final ChannelPoller poller;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Serialises abort with close; a lock, not a monitor, since virtual threads take it too. */
    private final ReentrantLock lifecycle = new ReentrantLock();

    /** The virtual thread parked on this channel, and whether its awaited event has come. */
    private volatile @Nullable Thread waiter;
    private volatile boolean ready;
    /** The poller's token for this channel; 0 until first armed (by the thread using the channel). */
    volatile long pollToken;

    WorkerChannel(Os os, int fd, ChannelPoller poller) {
        this.os = os;
        this.fd = fd;
        this.poller = poller;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!dst.hasRemaining()) {
            return 0;
        }
        if (!dst.isDirect()) {
            return readHeap(dst);
        }
        ensureOpen();
        int n;
        try {
            n = VirtualThreads.isVirtual(Thread.currentThread()) ? readParked(dst) : os.read(fd, dst);
        } catch (OsException e) {
            throw failure(e);
        }
        return n == 0 ? -1 : Math.max(n, 0); // 0 is end of stream; -1 (EAGAIN) moved nothing
    }

    /** A virtual thread's read: parks, never blocks, while nothing is there. */
    private int readParked(ByteBuffer dst) throws ClosedChannelException {
        while (true) {
            int n = os.recvNow(fd, dst);
            if (n >= 0) {
                return n;
            }
            if (!awaitReady(false)) {
                return os.read(fd, dst);
            }
        }
    }

    private int readHeap(ByteBuffer dst) throws IOException {
        ByteBuffer direct = ByteBuffer.allocateDirect(Math.min(dst.remaining(), HEAP_CHUNK));
        int n = read(direct);
        if (n > 0) {
            dst.put(direct.flip());
        }
        return n;
    }

    private int writeHeap(ByteBuffer src) throws IOException {
        if (!src.hasRemaining()) {
            return 0;
        }
        ByteBuffer direct = ByteBuffer.allocateDirect(Math.min(src.remaining(), HEAP_CHUNK));
        direct.put(src.slice().limit(direct.capacity())).flip();
        int n = write(direct);
        src.position(src.position() + n);
        return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (!src.isDirect()) {
            return writeHeap(src);
        }
        ensureOpen();
        try {
            return VirtualThreads.isVirtual(Thread.currentThread()) ? writeParked(src) : Math.max(os.send(fd, src), 0);
        } catch (OsException e) {
            throw failure(e);
        }
    }

    /** A virtual thread's send: a request larger than the socket's buffer parks until the worker reads. */
    private int writeParked(ByteBuffer src) throws ClosedChannelException {
        while (true) {
            int n = os.sendNow(fd, src);
            if (n >= 0) {
                return n;
            }
            if (!awaitReady(true)) {
                return Math.max(os.send(fd, src), 0);
            }
        }
    }

    /**
     * Parks the calling virtual thread until the poller reports the socket ready (or hung up), an
     * abort or a close wakes it. False if the poller has stopped: the caller then blocks instead.
     */
    private boolean awaitReady(boolean forWrite) throws ClosedChannelException {
        ensureOpen();
        ready = false;
        waiter = Thread.currentThread();
        boolean interrupted = false;
        try {
            if (!poller.arm(this, forWrite)) {
                return false;
            }
            while (!ready) {
                LockSupport.park(this);
                // Like a blocked read(2), a call is bounded by its exec timeout, not by interrupts.
                interrupted |= Thread.interrupted();
            }
        } finally {
            waiter = null;
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        ensureOpen();
        return true;
    }

    /** The awaited event came (from the poller), or the channel was aborted or closed. */
    void wake() {
        ready = true;
        Thread t = waiter;
        if (t != null) {
            LockSupport.unpark(t);
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
        lifecycle.lock();
        try {
            if (!closed.get()) {
                os.shutdown(fd);
            }
        } finally {
            lifecycle.unlock();
        }
        wake(); // the poller would see the hang-up too; this does not depend on it
    }

    @Override
    public boolean isOpen() {
        return !closed.get();
    }

    @Override
    public void close() {
        lifecycle.lock();
        try {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            poller.forget(this); // before close(2): the number may be reused at once
        } finally {
            lifecycle.unlock();
        }
        try {
            os.close(fd);
        } catch (OsException ignored) {
            // close(2) frees the descriptor even when it reports an error (only EBADF throws, not reached)
        } finally {
            wake();
        }
    }

    /** The parent-side descriptor number (for diagnostics). */
    public int fd() {
        return fd;
    }
}
