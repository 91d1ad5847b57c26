package dev.folk.core.supervision;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.os.Os;
import dev.folk.core.util.DaemonThreads;

import org.jspecify.annotations.Nullable;

/**
 * Lets a virtual thread wait for a worker's socket without pinning its carrier: the thread arms
 * the socket in this poller's epoll set (one-shot) and parks; this poller's thread unparks it
 * when the socket is ready. A blocking read(2) would hold the carrier for as long as PHP works,
 * and there are only as many carriers as cores.
 *
 * <p>Its own thread rather than the supervisor's {@link IoLoop}: that one also drains and logs
 * worker output, and a call's wake-up should not wait behind another worker's log lines. The
 * thread and its epoll set are created by the first virtual thread that waits, so platform-thread
 * users (and Java 17) never pay for them.
 *
 * <p>Once stopped, {@link #arm} says no and waiting channels are woken: they fall back to a
 * blocking read, which is correct, only not carrier-friendly.
 */
final class ChannelPoller implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(ChannelPoller.class);

    static {
        // A virtual thread that waits while another thread initialises a class pins its carrier
        // (jdk.VirtualThreadPinned, "Waited for initialization", still on JDK 25). The lock below
        // initialises such classes lazily: the read side's per-thread hold counter the first time two
        // readers overlap (two virtual threads arming at once), the queue nodes the first time a thread
        // waits. Initialise them here, when the supervisor creates its poller, on a platform thread.
        for (String name : List.of("java.util.concurrent.locks.ReentrantReadWriteLock$Sync$HoldCounter",
                "java.util.concurrent.locks.AbstractQueuedSynchronizer$SharedNode",
                "java.util.concurrent.locks.AbstractQueuedSynchronizer$ExclusiveNode")) {
            try {
                Class.forName(name, true, null);
            } catch (ClassNotFoundException | LinkageError otherJdk) {
                // not a class of this JDK (Java 17 has no virtual threads to pin)
            }
        }
    }

    private static final long WAKE_TOKEN = 0;
    private static final int NOT_STARTED = -1;
    private static final int STOPPED = -2;

    private final Os os;
    private final String threadName;
    /** Read-locked to arm, write-locked to start and to close: an arm never reaches a closed epoll number. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final ConcurrentHashMap<Long, WorkerChannel> channels = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong(WAKE_TOKEN + 1);
    private volatile int epfd = NOT_STARTED;
    private int wakeFd = -1;
    private @Nullable Thread thread;
    private volatile boolean stopping;

    ChannelPoller(Os os, String threadName) {
        this.os = os;
        this.threadName = threadName;
    }

    /**
     * Arms the channel's socket for one readiness event (read, or write if {@code forWrite});
     * {@link WorkerChannel#wake()} follows when it comes. False once this poller has stopped.
     */
    boolean arm(WorkerChannel channel, boolean forWrite) {
        if (epfd == NOT_STARTED && !start()) {
            return false;
        }
        lock.readLock().lock();
        try {
            if (epfd < 0) {
                return false;
            }
            long token = channel.pollToken;
            if (token == 0) {
                token = tokens.getAndIncrement();
                channels.put(token, channel);
                channel.pollToken = token;
            }
            os.epollArmOnce(epfd, channel.fd(), forWrite, token);
            return true;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Before the channel's descriptor is closed: take it out of the set. */
    void forget(WorkerChannel channel) {
        long token = channel.pollToken;
        if (token == 0) {
            return;
        }
        lock.readLock().lock();
        try {
            channels.remove(token);
            if (epfd >= 0) {
                os.epollDelete(epfd, channel.fd());
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    private boolean start() {
        lock.writeLock().lock();
        try {
            if (epfd == NOT_STARTED && !stopping) {
                int ep = os.epollCreate();
                int wake;
                try {
                    wake = os.eventFd();
                    os.epollAdd(ep, wake, WAKE_TOKEN);
                } catch (RuntimeException e) {
                    os.close(ep);
                    throw e;
                }
                epfd = ep;
                wakeFd = wake;
                thread = DaemonThreads.newThread(this, threadName);
                thread.start();
            }
            return epfd >= 0;
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public void run() {
        long[] ready = new long[64];
        try {
            while (!stopping) {
                int n = os.epollWait(epfd, ready, -1);
                for (int i = 0; i < n; i++) {
                    if (ready[i] == WAKE_TOKEN) {
                        os.eventFdDrain(wakeFd);
                        continue;
                    }
                    WorkerChannel channel = channels.get(ready[i]);
                    if (channel != null) {
                        channel.wake();
                    }
                }
            }
        } catch (Throwable t) {
            log.error("The poller of virtual-thread calls failed; their calls now block their carrier threads", t);
        } finally {
            close();
        }
    }

    /** Stops the thread, closes the epoll set and wakes every waiting channel. */
    void stop(long timeoutMillis) {
        Thread t;
        lock.writeLock().lock();
        try {
            stopping = true;
            if (epfd == NOT_STARTED) {
                epfd = STOPPED;
                return;
            }
            t = thread;
            if (epfd >= 0) {
                os.eventFdSignal(wakeFd);
            }
        } finally {
            lock.writeLock().unlock();
        }
        if (t != null && t != Thread.currentThread()) { // null: stopped before it was started
            try {
                t.join(timeoutMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** On the poller's thread as it ends. */
    private void close() {
        lock.writeLock().lock();
        try {
            stopping = true;
            if (epfd >= 0) {
                os.close(wakeFd);
                os.close(epfd);
            }
            epfd = STOPPED;
        } finally {
            lock.writeLock().unlock();
        }
        channels.values().forEach(WorkerChannel::wake);
        channels.clear();
    }
}
