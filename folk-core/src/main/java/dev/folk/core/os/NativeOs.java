package dev.folk.core.os;

import java.nio.ByteBuffer;
import java.util.List;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Platform;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.annotations.Variadic;

import org.jspecify.annotations.Nullable;

/**
 * {@link Os} on Linux/glibc through a direct jnr-ffi binding.
 *
 * <p>We bind posix_spawnp and its file-action and attribute functions ourselves rather than use
 * jnr-posix's spawn: that one loses errno, cannot reset the signal mask or dispositions and has no
 * closefrom, so children inherited every descriptor of the JVM. The other calls are bound here too,
 * in this one interface, and folk-core does not depend on jnr-posix at all: the
 * {@linkplain dev.folk.core.os package documentation} says why.
 *
 * <p>Longer than our usual file on purpose: every system call folk-core makes is here, each with
 * its own errno handling, so that the whole native surface can be reviewed in one place.
 */
public final class NativeOs implements Os {

    /** The subset of glibc we call. Errno is saved for calls whose failures we report. */
    public interface LibC {
        int getpid();

        @SaveError
        int socketpair(int domain, int type, int protocol, @Out int[] fds);

        @SaveError
        int pipe2(@Out int[] fds, int flags);

        @SaveError
        @Variadic(fixedCount = 2)
        int fcntl(int fd, int cmd, int arg);

        @SaveError
        int kill(int pid, int signal);

        @SaveError
        @Variadic(fixedCount = 1)
        long syscall(long number, long arg1, long arg2);

        @SaveError
        @Variadic(fixedCount = 1)
        long syscall(long number, long arg1, long arg2, long arg3, long arg4);

        @SaveError
        int wait4(int pid, @Out int[] status, int options, @Out long[] rusage);

        @SaveError
        int waitpid(int pid, @Out int[] status, int options);

        @SaveError
        int poll(@In @Out int[] pollfd, long nfds, int timeout);

        @SaveError
        long read(int fd, @Out ByteBuffer buffer, long count);

        @SaveError
        long read(int fd, @Out byte[] buffer, long count);

        @SaveError
        long write(int fd, @In byte[] buffer, long count);

        @SaveError
        long pread(int fd, @Out ByteBuffer buffer, long count, long offset);

        @SaveError
        @Variadic(fixedCount = 2)
        int open(@In byte[] path, int flags, int mode);

        @SaveError
        int statx(int dirfd, @In byte[] path, int flags, int mask, @Out byte[] statx);

        @SaveError
        long send(int fd, @In ByteBuffer buffer, long count, int flags);

        @SaveError
        long recv(int fd, @Out ByteBuffer buffer, long count, int flags);

        int shutdown(int fd, int how);

        @SaveError
        int close(int fd);

        @SaveError
        @Variadic(fixedCount = 1)
        int prctl(int option, long arg2, long arg3, long arg4, long arg5);

        @SaveError
        int epoll_create1(int flags);

        @SaveError
        int epoll_ctl(int epfd, int op, int fd, @In byte[] event);

        @SaveError
        int epoll_wait(int epfd, @Out byte[] events, int maxEvents, int timeout);

        @SaveError
        int eventfd(int initval, int flags);

        int posix_spawn_file_actions_init(Pointer actions);

        int posix_spawn_file_actions_destroy(Pointer actions);

        int posix_spawn_file_actions_addopen(Pointer actions, int fd, String path, int flags, int mode);

        int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int newFd);

        int posix_spawn_file_actions_addclose(Pointer actions, int fd);

        int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);

        int posix_spawn_file_actions_addchdir_np(Pointer actions, String path);

        int posix_spawnattr_init(Pointer attr);

        int posix_spawnattr_destroy(Pointer attr);

        int posix_spawnattr_setflags(Pointer attr, short flags);

        int posix_spawnattr_setpgroup(Pointer attr, int pgroup);

        int posix_spawnattr_setsigmask(Pointer attr, Pointer set);

        int posix_spawnattr_setsigdefault(Pointer attr, Pointer set);

        int sigemptyset(Pointer set);

        int posix_spawnp(@Out int[] pid, String file, Pointer actions, Pointer attr, String[] argv, String[] envp);
    }

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int O_CLOEXEC = 0x80000;
    private static final int O_NONBLOCK = 0x800;
    private static final int O_RDONLY = 0;
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int WNOHANG = 1;
    private static final int SHUT_RDWR = 2;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int PR_SET_CHILD_SUBREAPER = 36;
    private static final long SYS_PIDFD_OPEN = 434; // the same number on every Linux architecture
    private static final long SYS_PIDFD_SEND_SIGNAL = 424;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    private static final int EPOLL_CTL_MOD = 3;
    private static final int EPOLLOUT = 0x004;
    private static final int EPOLLRDHUP = 0x2000;
    private static final int EPOLLONESHOT = 1 << 30;
    private static final int EPOLLIN = 0x001;
    private static final int EPOLLERR = 0x008;
    private static final int EPOLLHUP = 0x010;
    private static final int EFD_CLOEXEC = O_CLOEXEC;
    private static final int EFD_NONBLOCK = O_NONBLOCK;
    private static final int ENOSYS = 38;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int STATX_TYPE_MODE_SIZE_MTIME = 0x1 | 0x2 | 0x40 | 0x200;
    /** struct statx is laid out alike on every architecture: 256 bytes, mode at 28, size at 40, mtime at 112. */
    private static final int STATX_BYTES = 256;
    /** Set once statx(2) is refused as a call (ENOSYS, EPERM): not tried again. */
    private static volatile boolean statxRefused;
    private static final byte[] EMPTY_PATH = {0};
    /** How the JDK itself encodes file names for the kernel. */
    private static final java.nio.charset.Charset FILE_NAMES = fileNameCharset();
    private static final int EBADF = 9;

    private static final short POSIX_SPAWN_SETPGROUP = 0x02;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;

    // glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336 on 64-bit; sigset_t
    // 128. Over-allocate: a too-small buffer would be silent memory corruption.
    private static final int SPAWN_STRUCT_BYTES = 512;
    private static final int SIGSET_BYTES = 256;
    private static final byte[] ALL_SIGNALS = {-1, -1, -1, -1, -1, -1, -1, -1};

    /** struct epoll_event is packed (12 bytes) on x86-64 only; elsewhere the u64 is aligned. */
    private static final int EPOLL_EVENT_SIZE;
    private static final int EPOLL_DATA_OFFSET;

    static {
        boolean x86 = Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64;
        EPOLL_EVENT_SIZE = x86 ? 12 : 16;
        EPOLL_DATA_OFFSET = x86 ? 4 : 8;
    }

    private static java.nio.charset.Charset fileNameCharset() {
        try {
            return java.nio.charset.Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        } catch (IllegalArgumentException e) {
            return java.nio.charset.StandardCharsets.UTF_8;
        }
    }

    private static final class Holder {
        static final NativeOs INSTANCE = new NativeOs();
    }

    private final LibC libc;
    private final Runtime runtime;
    private volatile boolean closeFromSupported = true;
    private volatile boolean pidfdSupported = true;

    private NativeOs() {
        if (java.nio.ByteOrder.nativeOrder() != java.nio.ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("folk-core supports little-endian Linux only");
        }
        this.libc = LibraryLoader.create(LibC.class).load(Platform.getNativePlatform().getStandardCLibraryName());
        this.runtime = Runtime.getRuntime(libc);
        // jffi loads the classes behind errno on the first read: read it now, not first at shutdown,
        // when a deploy may have overwritten the jar (see dev.folk.core.util.Preload).
        runtime.getLastError();
    }

    /** The process-wide instance; loading the binding costs a few hundred ms, so do it once. */
    public static NativeOs get() {
        return Holder.INSTANCE;
    }

    private int errno() {
        return runtime.getLastError();
    }

    @Override
    public int getpid() {
        return libc.getpid();
    }

    @Override
    public int[] socketPair() {
        int[] fds = new int[2];
        if (libc.socketpair(AF_UNIX, SOCK_STREAM | O_CLOEXEC, 0, fds) != 0) {
            throw new OsException("socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC)", errno());
        }
        return fds;
    }

    @Override
    public int[] pipe() {
        int[] fds = new int[2];
        if (libc.pipe2(fds, O_CLOEXEC) != 0) {
            throw new OsException("pipe2(O_CLOEXEC)", errno());
        }
        return fds;
    }

    @Override
    public int moveAtLeast(int fd, int min) {
        if (fd >= min) {
            return fd;
        }
        int moved = libc.fcntl(fd, F_DUPFD_CLOEXEC, min);
        if (moved < 0) {
            throw new OsException("fcntl(" + fd + ", F_DUPFD_CLOEXEC, " + min + ")", errno());
        }
        close(fd);
        return moved;
    }

    @Override
    public void setNonBlocking(int fd) {
        int flags = libc.fcntl(fd, F_GETFL, 0);
        if (flags < 0 || libc.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
            throw new OsException("fcntl(" + fd + ", F_SETFL, O_NONBLOCK)", errno());
        }
    }

    @Override
    public int spawn(SpawnRequest request) {
        Pointer actions = Memory.allocateDirect(runtime, SPAWN_STRUCT_BYTES, true);
        Pointer attr = Memory.allocateDirect(runtime, SPAWN_STRUCT_BYTES, true);
        Pointer emptySet = Memory.allocateDirect(runtime, SIGSET_BYTES, true);
        Pointer fullSet = Memory.allocateDirect(runtime, SIGSET_BYTES, true);
        check("posix_spawn_file_actions_init", libc.posix_spawn_file_actions_init(actions));
        try {
            check("posix_spawnattr_init", libc.posix_spawnattr_init(attr));
            try {
                // The child's fds are exactly 0..4: /dev/null, the two output pipes, tasks, control.
                check("addopen /dev/null", libc.posix_spawn_file_actions_addopen(actions, 0, "/dev/null", O_RDONLY, 0));
                check("adddup2 stdout", libc.posix_spawn_file_actions_adddup2(actions, request.stdoutFd(), 1));
                check("adddup2 stderr", libc.posix_spawn_file_actions_adddup2(actions, request.stderrFd(), 2));
                check("adddup2 fd 3", libc.posix_spawn_file_actions_adddup2(actions, request.fd3(), 3));
                check("adddup2 fd 4", libc.posix_spawn_file_actions_adddup2(actions, request.fd4(), 4));
                addCloseFrom(actions, 5);
                if (request.workingDirectory() != null) {
                    check("addchdir_np", libc.posix_spawn_file_actions_addchdir_np(actions, request.workingDirectory()));
                }
                // Own process group (so the whole group can be signalled), empty mask, every
                // signal at its default: the JVM's ignored/blocked signals must not leak into workers.
                check("sigemptyset", libc.sigemptyset(emptySet));
                // Not sigfillset: it leaves out glibc's internal signals 32 and 33, which the spawn
                // then sets to SIG_IGN, and an ignored signal stays ignored across exec. Setting
                // every bit ourselves makes the child start with all 64 dispositions default.
                fullSet.put(0, ALL_SIGNALS, 0, ALL_SIGNALS.length);
                check("setflags", libc.posix_spawnattr_setflags(attr,
                        (short) (POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)));
                check("setpgroup", libc.posix_spawnattr_setpgroup(attr, 0));
                check("setsigmask", libc.posix_spawnattr_setsigmask(attr, emptySet));
                check("setsigdefault", libc.posix_spawnattr_setsigdefault(attr, fullSet));

                int[] pid = new int[1];
                String[] argv = request.argv().toArray(new String[0]);
                String[] envp = request.environment().toArray(new String[0]);
                int rc = libc.posix_spawnp(pid, request.executable(), actions, attr, argv, envp);
                if (rc != 0) {
                    throw new OsException("posix_spawnp(" + request.executable() + ")", rc);
                }
                return pid[0];
            } finally {
                libc.posix_spawnattr_destroy(attr);
            }
        } finally {
            libc.posix_spawn_file_actions_destroy(actions);
        }
    }

    private void addCloseFrom(Pointer actions, int from) {
        if (closeFromSupported) {
            try {
                check("addclosefrom_np", libc.posix_spawn_file_actions_addclosefrom_np(actions, from));
                return;
            } catch (UnsatisfiedLinkError tooOldGlibc) {
                closeFromSupported = false;
            }
        }
        // glibc before 2.34: close what is open now. Descriptors opened concurrently by other
        // threads are close-on-exec in any well-behaved JVM library, so this is only a fallback.
        for (int fd : openDescriptors()) {
            if (fd >= from) {
                libc.posix_spawn_file_actions_addclose(actions, fd);
            }
        }
    }

    private static List<Integer> openDescriptors() {
        String[] names = new java.io.File("/proc/self/fd").list();
        if (names == null) {
            return List.of();
        }
        java.util.ArrayList<Integer> fds = new java.util.ArrayList<>(names.length);
        for (String name : names) {
            fds.add(Integer.parseInt(name));
        }
        return fds;
    }

    private static void check(String what, int rc) {
        if (rc != 0) {
            throw new OsException("posix_spawn " + what, rc);
        }
    }

    @Override
    public int kill(int pid, int signal) {
        if (pid == 0 || pid == -1) {
            // kill(0) and kill(-1) address our own group or every process: never what we mean.
            throw new IllegalArgumentException("refusing kill(" + pid + ", " + signal + ")");
        }
        return libc.kill(pid, signal) == 0 ? 0 : errno();
    }

    @Override
    public int pidfdOpen(int pid) {
        if (!pidfdSupported) {
            return -1;
        }
        long fd = libc.syscall(SYS_PIDFD_OPEN, pid, 0);
        if (fd < 0) {
            int err = errno();
            if (err == ENOSYS) {
                pidfdSupported = false;
                return -1;
            }
            throw new OsException("pidfd_open(" + pid + ")", err);
        }
        return (int) fd;
    }

    @Override
    public int pidfdSendSignal(int pidfd, int signal) {
        return libc.syscall(SYS_PIDFD_SEND_SIGNAL, pidfd, signal, 0, 0) == 0 ? 0 : errno();
    }

    @Override
    public @Nullable WaitResult wait4(int pid, boolean noHang) {
        if (pid <= 0) {
            throw new IllegalArgumentException("wait4 takes one child pid, got " + pid);
        }
        int[] status = new int[1];
        long[] rusage = new long[18]; // struct rusage: two timevals then 14 longs, 144 bytes
        int rc;
        do {
            rc = libc.wait4(pid, status, noHang ? WNOHANG : 0, rusage);
        } while (rc < 0 && errno() == EINTR);
        if (rc < 0) {
            throw new OsException("wait4(" + pid + ")", errno());
        }
        if (rc == 0) {
            return null;
        }
        long userMicros = rusage[0] * 1_000_000L + rusage[1];
        long sysMicros = rusage[2] * 1_000_000L + rusage[3];
        return new WaitResult(rc, status[0], rusage[4], userMicros, sysMicros);
    }

    @Override
    public int reapGroupMember(int pgid) {
        if (pgid <= 1) {
            throw new IllegalArgumentException("refusing waitpid(-" + pgid + ")");
        }
        int[] status = new int[1];
        int rc;
        do {
            rc = libc.waitpid(-pgid, status, WNOHANG);
        } while (rc < 0 && errno() == EINTR);
        if (rc < 0) {
            int err = errno();
            if (err == ECHILD) {
                return -1;
            }
            throw new OsException("waitpid(-" + pgid + ", WNOHANG)", err);
        }
        return rc;
    }

    @Override
    public int poll(int fd, int events, int timeoutMillis) {
        // struct pollfd {int fd; short events; short revents;} as two ints (little-endian).
        int[] pollfd = new int[2];
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        int remaining = timeoutMillis;
        while (true) {
            pollfd[0] = fd;
            pollfd[1] = events & 0xffff;
            int rc = libc.poll(pollfd, 1, remaining);
            if (rc > 0) {
                return (pollfd[1] >>> 16) & 0xffff;
            }
            if (rc == 0) {
                return 0;
            }
            int err = errno();
            if (err != EINTR) {
                throw new OsException("poll(" + fd + ")", err);
            }
            if (timeoutMillis >= 0) {
                remaining = (int) Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
            }
        }
    }

    @Override
    public int read(int fd, ByteBuffer buffer) {
        long n;
        do {
            n = libc.read(fd, buffer, buffer.remaining());
        } while (n < 0 && errno() == EINTR);
        return moved(buffer, n, "read", fd);
    }

    @Override
    public int openForReading(java.nio.file.Path path) {
        byte[] name = path.toString().getBytes(FILE_NAMES);
        byte[] cName = java.util.Arrays.copyOf(name, name.length + 1);
        int fd;
        do {
            fd = libc.open(cName, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
        } while (fd < 0 && errno() == EINTR);
        return fd < 0 ? -errno() : fd;
    }

    @Override
    public FileStatus fileStatus(int fd) {
        if (!statxRefused) {
            byte[] statx = new byte[STATX_BYTES];
            if (libc.statx(fd, EMPTY_PATH, AT_EMPTY_PATH, STATX_TYPE_MODE_SIZE_MTIME, statx) == 0) {
                ByteBuffer b = ByteBuffer.wrap(statx).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                int mode = b.getShort(28) & 0xffff;
                return new FileStatus((mode & 0170000) == 0100000, b.getLong(40), b.getLong(112));
            }
            int err = errno();
            if (err != ENOSYS && err != EPERM) {
                throw new OsException("statx(" + fd + ", AT_EMPTY_PATH)", err);
            }
            // A kernel before 4.11 (ENOSYS), or a container's seccomp profile older than statx (EPERM):
            // from now on every descriptor is described as the JDK describes files.
            statxRefused = true;
        }
        return fileStatusThroughProc(fd);
    }

    /**
     * The open file's status as the JDK reads it through /proc/self/fd/N, which names the open file
     * itself (its name removed or replaced since included): where statx(2) is refused.
     */
    static FileStatus fileStatusThroughProc(int fd) {
        try {
            java.nio.file.attribute.BasicFileAttributes attributes = java.nio.file.Files.readAttributes(
                    java.nio.file.Path.of("/proc/self/fd/" + fd), java.nio.file.attribute.BasicFileAttributes.class);
            return new FileStatus(attributes.isRegularFile(), attributes.size(),
                    attributes.lastModifiedTime().to(java.util.concurrent.TimeUnit.SECONDS));
        } catch (java.io.IOException e) {
            int errno = e instanceof java.nio.file.NoSuchFileException ? ENOENT
                    : e instanceof java.nio.file.AccessDeniedException ? EACCES : EIO;
            OsException failure = new OsException("stat(/proc/self/fd/" + fd + ")", errno);
            failure.initCause(e);
            throw failure;
        }
    }

    @Override
    public int pread(int fd, ByteBuffer buffer, long position) {
        long n;
        do {
            n = libc.pread(fd, buffer, buffer.remaining(), position);
        } while (n < 0 && errno() == EINTR);
        if (n < 0) {
            throw new OsException("pread(" + fd + ")", errno());
        }
        buffer.position(buffer.position() + (int) n);
        return (int) n;
    }

    @Override
    public int send(int fd, ByteBuffer buffer) {
        long n;
        do {
            n = libc.send(fd, buffer, buffer.remaining(), MSG_NOSIGNAL);
        } while (n < 0 && errno() == EINTR);
        return moved(buffer, n, "send", fd);
    }

    @Override
    public int recvNow(int fd, ByteBuffer buffer) {
        long n;
        do {
            n = libc.recv(fd, buffer, buffer.remaining(), MSG_DONTWAIT);
        } while (n < 0 && errno() == EINTR);
        return moved(buffer, n, "recv", fd);
    }

    @Override
    public int sendNow(int fd, ByteBuffer buffer) {
        long n;
        do {
            n = libc.send(fd, buffer, buffer.remaining(), MSG_NOSIGNAL | MSG_DONTWAIT);
        } while (n < 0 && errno() == EINTR);
        return moved(buffer, n, "send", fd);
    }

    /** After a read or send of {@code n}: advances the buffer; -1 on EAGAIN; any other error thrown. */
    private int moved(ByteBuffer buffer, long n, String call, int fd) {
        if (n >= 0) {
            buffer.position(buffer.position() + (int) n);
            return (int) n;
        }
        int err = errno();
        if (err == EAGAIN) {
            return -1;
        }
        throw new OsException(call + "(" + fd + ")", err);
    }

    @Override
    public void shutdown(int fd) {
        libc.shutdown(fd, SHUT_RDWR);
    }

    @Override
    public void close(int fd) {
        if (fd < 0) {
            return;
        }
        // Never retry close on EINTR: on Linux the descriptor is already gone and a retry could
        // close a number another thread has just been given.
        if (libc.close(fd) != 0 && errno() == EBADF) {
            throw new OsException("close(" + fd + ")", EBADF);
        }
    }

    @Override
    public boolean becomeSubreaper() {
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
    }

    @Override
    public int epollCreate() {
        int fd = libc.epoll_create1(O_CLOEXEC);
        if (fd < 0) {
            throw new OsException("epoll_create1", errno());
        }
        return fd;
    }

    @Override
    public void epollAdd(int epfd, int fd, long token) {
        byte[] event = new byte[16];
        putInt(event, 0, EPOLLIN | EPOLLHUP | EPOLLERR);
        putLong(event, EPOLL_DATA_OFFSET, token);
        if (libc.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, event) != 0) {
            throw new OsException("epoll_ctl(ADD, " + fd + ")", errno());
        }
    }

    @Override
    public void epollDelete(int epfd, int fd) {
        libc.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, new byte[16]);
    }

    @Override
    public void epollArmOnce(int epfd, int fd, boolean forWrite, long token) {
        byte[] event = new byte[16];
        putInt(event, 0, (forWrite ? EPOLLOUT : EPOLLIN | EPOLLRDHUP) | EPOLLHUP | EPOLLERR | EPOLLONESHOT);
        putLong(event, EPOLL_DATA_OFFSET, token);
        if (libc.epoll_ctl(epfd, EPOLL_CTL_MOD, fd, event) == 0) {
            return;
        }
        int err = errno();
        if (err != ENOENT || libc.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, event) != 0) {
            throw new OsException("epoll_ctl(" + fd + ")", err == ENOENT ? errno() : err);
        }
    }

    @Override
    public int epollWait(int epfd, long[] tokens, int timeoutMillis) {
        byte[] events = new byte[tokens.length * EPOLL_EVENT_SIZE];
        int n = libc.epoll_wait(epfd, events, tokens.length, timeoutMillis);
        if (n < 0) {
            int err = errno();
            if (err == EINTR) {
                return 0;
            }
            throw new OsException("epoll_wait", err);
        }
        for (int i = 0; i < n; i++) {
            tokens[i] = getLong(events, i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET);
        }
        return n;
    }

    @Override
    public int eventFd() {
        int fd = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0) {
            throw new OsException("eventfd", errno());
        }
        return fd;
    }

    @Override
    public void eventFdSignal(int fd) {
        byte[] one = new byte[8];
        putLong(one, 0, 1);
        libc.write(fd, one, 8); // EAGAIN means the counter is already non-zero: already signalled
    }

    @Override
    public void eventFdDrain(int fd) {
        libc.read(fd, new byte[8], 8);
    }

    // Native byte order is little-endian on every platform we run on (x86-64, aarch64).

    private static void putInt(byte[] b, int off, int v) {
        for (int i = 0; i < 4; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    private static void putLong(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    private static long getLong(byte[] b, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }
}
