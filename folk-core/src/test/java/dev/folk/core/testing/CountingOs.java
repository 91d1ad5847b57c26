package dev.folk.core.testing;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.folk.core.os.NativeOs;
import dev.folk.core.os.Os;
import dev.folk.core.os.SpawnRequest;
import dev.folk.core.os.WaitResult;

/** The native OS, counting every call by name. The only "mock" of the OS we allow: it counts. */
public final class CountingOs implements Os {

    private final Os delegate = NativeOs.get();
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

    private void count(String call) {
        counts.computeIfAbsent(call, k -> new AtomicLong()).incrementAndGet();
    }

    public long count(String... calls) {
        long total = 0;
        for (String c : calls) {
            AtomicLong n = counts.get(c);
            total += n == null ? 0 : n.get();
        }
        return total;
    }

    /** A copy of all counters. */
    public Map<String, Long> snapshot() {
        Map<String, Long> copy = new TreeMap<>();
        counts.forEach((k, v) -> copy.put(k, v.get()));
        return copy;
    }

    @Override public int getpid() { count("getpid"); return delegate.getpid(); }
    @Override public int[] socketPair() { count("socketPair"); return delegate.socketPair(); }
    @Override public int[] pipe() { count("pipe"); return delegate.pipe(); }
    @Override public int moveAtLeast(int fd, int min) { count("moveAtLeast"); return delegate.moveAtLeast(fd, min); }
    @Override public void setNonBlocking(int fd) { count("setNonBlocking"); delegate.setNonBlocking(fd); }
    @Override public int spawn(SpawnRequest r) { count("spawn"); return delegate.spawn(r); }
    /** Counted as "kill" and as "kill:N" for the process or group N it targets (e.g. "kill:4242" for -4242 too). */
    @Override public int kill(int pid, int signal) {
        count("kill");
        count("kill:" + Math.abs(pid));
        return delegate.kill(pid, signal);
    }
    @Override public int pidfdOpen(int pid) { count("pidfdOpen"); return delegate.pidfdOpen(pid); }
    @Override public int pidfdSendSignal(int pidfd, int signal) { count("pidfdSendSignal"); return delegate.pidfdSendSignal(pidfd, signal); }
    @Override public WaitResult wait4(int pid, boolean noHang) { count("wait4"); return delegate.wait4(pid, noHang); }
    @Override public int reapGroupMember(int pgid) { count("reapGroupMember"); return delegate.reapGroupMember(pgid); }
    @Override public int poll(int fd, int events, int timeout) { count("poll"); return delegate.poll(fd, events, timeout); }
    @Override public int read(int fd, ByteBuffer b) { count("read"); return delegate.read(fd, b); }
    @Override public int openForReading(java.nio.file.Path path) { count("openForReading"); return delegate.openForReading(path); }
    @Override public dev.folk.core.os.FileStatus fileStatus(int fd) { count("fileStatus"); return delegate.fileStatus(fd); }
    @Override public int pread(int fd, ByteBuffer b, long position) { count("pread"); return delegate.pread(fd, b, position); }
    @Override public int send(int fd, ByteBuffer b) { count("send"); return delegate.send(fd, b); }
    @Override public int recvNow(int fd, ByteBuffer b) { count("recvNow"); return delegate.recvNow(fd, b); }
    @Override public int sendNow(int fd, ByteBuffer b) { count("sendNow"); return delegate.sendNow(fd, b); }
    @Override public void shutdown(int fd) { count("shutdown"); delegate.shutdown(fd); }
    @Override public void close(int fd) { count("close"); delegate.close(fd); }
    @Override public boolean becomeSubreaper() { count("becomeSubreaper"); return delegate.becomeSubreaper(); }
    @Override public int epollCreate() { count("epollCreate"); return delegate.epollCreate(); }
    @Override public void epollAdd(int epfd, int fd, long token) { count("epollAdd"); delegate.epollAdd(epfd, fd, token); }
    @Override public void epollDelete(int epfd, int fd) { count("epollDelete"); delegate.epollDelete(epfd, fd); }
    @Override public void epollArmOnce(int epfd, int fd, boolean forWrite, long token) { count("epollArmOnce"); delegate.epollArmOnce(epfd, fd, forWrite, token); }
    @Override public int epollWait(int epfd, long[] tokens, int timeout) { count("epollWait"); return delegate.epollWait(epfd, tokens, timeout); }
    @Override public int eventFd() { count("eventFd"); return delegate.eventFd(); }
    @Override public void eventFdSignal(int fd) { count("eventFdSignal"); delegate.eventFdSignal(fd); }
    @Override public void eventFdDrain(int fd) { count("eventFdDrain"); delegate.eventFdDrain(fd); }
}
