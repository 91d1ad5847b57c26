package dev.folk.core.supervision;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.jspecify.annotations.Nullable;

/**
 * The live worker groups of this supervisor, on disk, so that the next start after a crash of
 * this JVM can end the groups it left behind — and only those: an entry is acted on only if
 * its pid still has the recorded start time in the same boot.
 *
 * <p>Format: a header line {@code folk-supervisor-state 1 <boot id> <run id>}, then one line
 * {@code <pgid> <leader start time>} per live worker. The file is locked while its supervisor
 * lives; a second supervisor (another JVM, or another in this one) takes {@code <name>.1},
 * {@code .2}, ... instead. A file or directory writable by others is refused: whoever can write
 * it could make us kill their choice of process.
 *
 * <p>The next start after a crash may take another slot than the crashed run had (the slots
 * before it were free again, or still taken): so each start also sweeps every other slot of the
 * name that no live supervisor holds locked, and leaves it empty.
 *
 * <p>The locks are POSIX record locks: closing <em>any</em> descriptor of a file drops every lock
 * this JVM holds on it. So no slot is ever opened twice in this JVM at once: a slot is claimed
 * here ({@link #CLAIMED}) before it is opened, and freed only after its channel is closed.
 */
final class WorkerStateFile implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WorkerStateFile.class);
    private static final String MAGIC = "folk-supervisor-state 1";
    private static final int ALTERNATES = 8;

    /** The slots (real paths) a state file or a sweep of this JVM has open. */
    private static final Set<Path> CLAIMED = ConcurrentHashMap.newKeySet();

    /** A previous run's record: its boot, its run id (the workers' FOLK_RUN_ID), its groups. */
    record Previous(String bootId, String runId, Map<Integer, Long> groups) {
    }

    private final Path path;
    private final Path claim;
    private final Path realDir;
    private final Path requested;
    private final FileChannel channel;
    private final FileLock lock;
    private final String header;
    private final @Nullable Previous previous;
    private final Map<Integer, Long> live = new LinkedHashMap<>();
    private boolean closed;

    private WorkerStateFile(Path path, Path claim, Path realDir, Path requested, FileChannel channel, FileLock lock,
            String runId, @Nullable Previous previous) {
        this.path = path;
        this.claim = claim;
        this.realDir = realDir;
        this.requested = requested;
        this.channel = channel;
        this.lock = lock;
        this.header = MAGIC + ' ' + ProcFs.bootId() + ' ' + runId + '\n';
        this.previous = previous;
    }

    /** Opens (or creates) the state file; null, with a warning, when no usable location exists. */
    @SuppressWarnings("NullAway") // a path without a parent fails below, as an unusable directory
    static @Nullable WorkerStateFile open(Path requested, String runId) {
        Path dir = requested.toAbsolutePath().getParent();
        Path realDir;
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            refuseIfOthersCanWrite(dir);
            realDir = dir.toRealPath(); // claims are by real path: two spellings of one directory are one
        } catch (IOException | RuntimeException e) {
            log.warn("Worker state file disabled: {} is not a usable directory ({}); a crash of this JVM would leave "
                    + "its workers for the operator to end", dir, e.toString());
            return null;
        }
        for (int i = 0; i < ALTERNATES; i++) {
            Path path = slot(requested.toAbsolutePath(), i);
            Path claim = realDir.resolve(path.getFileName());
            if (!CLAIMED.add(claim)) {
                continue; // a supervisor of this JVM owns it, or one starting here sweeps it
            }
            FileChannel channel = null;
            try {
                channel = FileChannel.open(path, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                refuseIfOthersCanWrite(path);
                FileLock lock = tryLock(channel);
                if (lock == null) {
                    channel.close(); // a live supervisor of another JVM owns this one
                    CLAIMED.remove(claim);
                    continue;
                }
                WorkerStateFile file = new WorkerStateFile(path, claim, realDir, requested.toAbsolutePath(), channel, lock,
                        runId, parse(channel));
                file.flush();
                return file;
            } catch (IOException | RuntimeException e) {
                closeQuietly(channel);
                CLAIMED.remove(claim);
                log.warn("Worker state file disabled: cannot use {} ({})", path, e.toString());
                return null;
            }
        }
        log.warn("Worker state file disabled: {} and its {} alternates are all in use", requested, ALTERNATES - 1);
        return null;
    }

    private static Path slot(Path requested, int i) {
        return i == 0 ? requested : requested.resolveSibling(requested.getFileName() + "." + i);
    }

    /**
     * Hands {@code sweep} what each other slot of this name recorded that no live supervisor
     * holds locked (a crashed run's), under that slot's lock, then empties it so that it is not
     * swept again. Holding the lock decides races with a supervisor starting meanwhile: it cannot
     * take the slot while we sweep, and finds it empty after. The file stays (empty): removing it
     * could strand one that opened it before the removal and locks it after.
     */
    void sweepOtherSlots(BiConsumer<Path, Previous> sweep) {
        for (int i = 0; i < ALTERNATES; i++) {
            Path other = slot(requested, i);
            Path otherClaim = realDir.resolve(other.getFileName());
            if (otherClaim.equals(claim) || !CLAIMED.add(otherClaim)) {
                continue; // ours, another supervisor's of this JVM, or swept by one starting here
            }
            FileChannel channel = null;
            try {
                channel = FileChannel.open(other, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS));
                refuseIfOthersCanWrite(other);
                if (channel.size() == 0) {
                    continue; // nothing recorded: swept or created by a supervisor starting now
                }
                FileLock lock = tryLock(channel);
                if (lock == null) {
                    continue; // a live supervisor's
                }
                try {
                    Previous previous = parse(channel);
                    if (previous != null) {
                        sweep.accept(other, previous);
                    }
                    channel.truncate(0);
                } finally {
                    lock.release();
                }
            } catch (NoSuchFileException unused) {
                // never taken
            } catch (IOException | RuntimeException e) {
                log.warn("Cannot sweep worker state file {}: {}", other, e.toString());
            } finally {
                closeQuietly(channel);
                CLAIMED.remove(otherClaim);
            }
        }
    }

    /** The slot's lock, or null if a live supervisor holds it. */
    private static @Nullable FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException ownedInThisJvm) {
            return null; // through a hard link: not claimable by path
        }
    }

    private static void refuseIfOthersCanWrite(Path path) throws IOException {
        // One lstat for both. The owner by uid: a uid without a passwd entry (a container's runAsUser,
        // OpenShift's arbitrary uids) has the user.name "?", which no owner's name equals.
        Map<String, Object> attrs = Files.readAttributes(path, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
        if (!(attrs.get("mode") instanceof Integer mode) || (mode & 0022) != 0) {
            throw new IOException(path + " is writable by group or others");
        }
        Object owner = attrs.get("uid");
        int me = RunAs.effectiveUid();
        if (!(owner instanceof Integer uid) || me < 0 || uid != me) {
            throw new IOException(path + " belongs to uid " + owner + ", not to this JVM's user (uid " + me + ")");
        }
    }

    private static @Nullable Previous parse(FileChannel channel) throws IOException {
        long size = channel.size();
        if (size == 0 || size > 1 << 20) {
            return null;
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) size);
        while (bytes.hasRemaining() && channel.read(bytes, bytes.position()) > 0) {
            // read it all
        }
        String[] lines = new String(bytes.array(), 0, bytes.position(), StandardCharsets.US_ASCII).split("\n");
        String[] head = lines[0].split(" ");
        if (!lines[0].startsWith(MAGIC + ' ') || head.length != 4) {
            log.warn("Ignoring a worker state file in an unknown format");
            return null;
        }
        Map<Integer, Long> groups = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].trim().split(" ");
            if (f.length == 2) {
                try {
                    int pgid = Integer.parseInt(f[0]);
                    if (pgid > 1) {
                        groups.put(pgid, Long.parseLong(f[1]));
                    }
                } catch (NumberFormatException ignored) {
                    // a torn line from a crash mid-write: skip it
                }
            }
        }
        return new Previous(head[2], head[3], groups);
    }

    /** What the file held when we opened it (a previous run that did not shut down cleanly), or null. */
    @Nullable Previous previous() {
        return previous;
    }

    Path path() {
        return path;
    }

    synchronized void add(int pgid, long startTime) {
        live.put(pgid, startTime);
        flush();
    }

    synchronized void remove(int pgid) {
        if (live.remove(pgid) != null) {
            flush();
        }
    }

    private void flush() {
        if (closed) {
            return;
        }
        StringBuilder text = new StringBuilder(header);
        live.forEach((pgid, start) -> text.append(pgid).append(' ').append(start).append('\n'));
        ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.US_ASCII));
        // An interrupted thread's channel I/O closes the channel (ClosedByInterruptException), which
        // drops the slot's lock and every later update: a spawn interrupted by its pool's close, say.
        boolean interrupted = Thread.interrupted();
        try {
            int at = 0;
            while (bytes.hasRemaining()) {
                at += channel.write(bytes, at);
            }
            channel.truncate(at);
        } catch (IOException e) {
            log.warn("Cannot update worker state file {}: {}", path, e.toString());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * A clean shutdown: nothing is left to sweep, so the file is emptied under its lock. It stays, as
     * a swept slot does: removing it could strand a supervisor that opened it just before and locks it
     * just after, which would then record its workers in a file no later start can find.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        boolean interrupted = Thread.interrupted(); // as in flush(): the file must be emptied
        try {
            channel.truncate(0);
            lock.release();
        } catch (IOException e) {
            log.debug("Closing worker state file {}: {}", path, e.toString());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        closeQuietly(channel);
        CLAIMED.remove(claim);
    }

    private static void closeQuietly(@Nullable FileChannel channel) {
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    @Override
    public String toString() {
        return path.toString();
    }

    static List<Integer> pgids(Previous previous) {
        return new ArrayList<>(previous.groups().keySet());
    }
}
