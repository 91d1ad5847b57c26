package dev.folk.core.os;

import java.nio.ByteBuffer;

import org.jspecify.annotations.Nullable;

/**
 * Every system call the supervisor makes, behind one small interface so tests can count
 * them (a reaped handle must cause none) and so the rest of the code never sees jnr.
 * Methods throw {@link OsException} with the errno unless they say otherwise; all descriptors
 * they create are close-on-exec.
 */
public interface Os {

    int SIGHUP = 1;
    int SIGINT = 2;
    int SIGKILL = 9;
    int SIGUSR2 = 12;
    int SIGTERM = 15;
    int SIGCONT = 18;
    int SIGSTOP = 19;

    int POLLIN = 0x001;
    int POLLHUP = 0x010;

    int ESRCH = 3;
    int EINTR = 4;
    int EAGAIN = 11;
    int ECHILD = 10;
    int EPERM = 1;
    int ENOENT = 2;
    int EIO = 5;
    int EACCES = 13;
    int ENXIO = 6;
    int ENODEV = 19;
    int ENOTDIR = 20;
    int ENAMETOOLONG = 36;
    int ELOOP = 40;

    int getpid();

    /** An AF_UNIX stream socket pair, created close-on-exec atomically. */
    int[] socketPair();

    /** A pipe {read, write}, created close-on-exec atomically. */
    int[] pipe();

    /** Moves {@code fd} to the lowest free number at or above {@code min}, close-on-exec; closes the old one. */
    int moveAtLeast(int fd, int min);

    void setNonBlocking(int fd);

    /** posix_spawn with the request's file actions and attributes; returns the child pid. */
    int spawn(SpawnRequest request);

    /** kill(2); returns 0, or the errno (e.g. {@link #ESRCH}) without throwing. */
    int kill(int pid, int signal);

    /** A pidfd for {@code pid}, or -1 when the kernel does not support pidfds. */
    int pidfdOpen(int pid);

    /**
     * pidfd_send_signal(2): signals exactly the process the pidfd was opened on, even if its pid
     * number has been reused since. Returns 0, or the errno (ESRCH once it has exited).
     */
    int pidfdSendSignal(int pidfd, int signal);

    /**
     * wait4(2) on one pid. Returns null when {@code noHang} and the child has not exited yet.
     * Never waits for "any child": that would steal exit codes from the JDK's own Process objects.
     */
    @Nullable WaitResult wait4(int pid, boolean noHang);

    /** waitpid(-pgid, WNOHANG): reaps one exited child of that group; 0 if none ready, -1 on ECHILD. */
    int reapGroupMember(int pgid);

    /** poll(2) on one descriptor; returns the revents, 0 on timeout. Retries EINTR. */
    int poll(int fd, int events, int timeoutMillis);

    /** read(2) into the buffer's remaining space; returns bytes read, 0 at end of stream, -1 on EAGAIN. */
    int read(int fd, ByteBuffer buffer);

    // files, for the HTTP gateway's public files: opened first, then described and read through the descriptor

    /**
     * open(2) read-only, non-blocking (a FIFO does not wait for a writer) and close-on-exec.
     * Returns the descriptor, or minus the errno of a failure (-ENOENT, -EACCES...): no exception,
     * because the HTTP gateway asks for a file on most PHP requests and most of them find none.
     * Retries EINTR.
     */
    int openForReading(java.nio.file.Path path);

    /** fstat(2) of an open descriptor: what it is now, whatever its name has come to name since. */
    FileStatus fileStatus(int fd);

    /** pread(2) into the buffer's remaining space from {@code position}; bytes read, 0 at end of file. Retries EINTR. */
    int pread(int fd, ByteBuffer buffer, long position);

    /**
     * send(2) with MSG_NOSIGNAL from the buffer's remaining bytes (a direct buffer); returns bytes
     * sent, -1 on EAGAIN. Retries EINTR. A peer that is gone gives EPIPE, never SIGPIPE.
     */
    int send(int fd, ByteBuffer buffer);

    /**
     * recv(2) with MSG_DONTWAIT into the buffer's remaining space (a direct buffer): like
     * {@link #read} but never blocks, even on a blocking socket; -1 when nothing is there yet.
     */
    int recvNow(int fd, ByteBuffer buffer);

    /** {@link #send} with MSG_DONTWAIT as well: never blocks; -1 when the socket's buffer is full. */
    int sendNow(int fd, ByteBuffer buffer);

    /** shutdown(fd, SHUT_RDWR); wakes any thread blocked reading the socket. Errors are ignored. */
    void shutdown(int fd);

    /** close(2); errors other than EBADF are ignored (Linux frees the descriptor either way). */
    void close(int fd);

    /** prctl(PR_SET_CHILD_SUBREAPER, 1); returns false when the kernel refuses. */
    boolean becomeSubreaper();

    // epoll, for the one thread that drains worker output and watches pidfds

    int epollCreate();

    void epollAdd(int epfd, int fd, long token);

    void epollDelete(int epfd, int fd);

    /**
     * Arms {@code fd} for one event (EPOLLONESHOT): readable, end of stream or hang-up, or, if
     * {@code forWrite}, writable. Adds it to the set the first time; re-arms it after that.
     */
    void epollArmOnce(int epfd, int fd, boolean forWrite, long token);

    /** Waits for events; fills {@code tokens} and returns how many; 0 on timeout or EINTR. */
    int epollWait(int epfd, long[] tokens, int timeoutMillis);

    /** An eventfd used to wake an epoll loop. */
    int eventFd();

    void eventFdSignal(int fd);

    void eventFdDrain(int fd);
}
