package dev.folk.spring.boot.watch;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.util.DaemonThreads;
import dev.folk.spring.boot.lifecycle.FolkLifecycle;
import dev.folk.spring.boot.pool.ClasspathScripts;

/**
 * Reload on change: watches the pools' sources and replaces a pool's workers, make before break,
 * when they change ({@link PoolReloader}: debounce, one reset at a time).
 *
 * <p>One {@link WatchService} (inotify on Linux) and one daemon thread, {@code folk-watch}, for all
 * pools. Directories are registered recursively, and so are directories created later (the files
 * already in them count as changed). Hidden directories ({@code .git}, {@code .idea}) and
 * {@code node_modules} below a watched directory are not entered; symbolic links are not followed.
 * Each directory costs one inotify watch: when the user's limit
 * ({@code fs.inotify.max_user_watches}) is reached, the directories registered so far stay watched
 * and a warning says what to raise; the application keeps running (this is a development aid).
 * A watched root directory that is deleted ({@code target/classes} by {@code mvn clean}) or moved
 * away is looked for every {@value #ROOT_POLL_MILLIS} ms and watched again once it is back, its files
 * counting as changed (the build that recreates it brings new code); until then its pools do not
 * reload, not even for the changes made there before it went. An inotify watch follows its
 * directory's inode, not its path, and the JDK asks for no event when a watched directory itself is
 * moved: so every {@value #ROOT_POLL_MILLIS} ms the watcher also checks that each root's path still
 * leads to the directory it watches (same device and inode), and a directory moved away is no
 * longer watched (its watches are cancelled).
 *
 * <p>A {@link SmartLifecycle} one phase above {@link FolkLifecycle}: it starts watching once the
 * pools are ready and stops (closing the watch service and ending its thread) before they close, so
 * no reload begins on a closing pool, and nothing of it outlives the context (a DevTools restart
 * builds a new one).
 */
public class SourceWatcher implements SmartLifecycle, DisposableBean {

    /** One above {@link FolkLifecycle#PHASE}: started after the pools, stopped before them. */
    public static final int PHASE = FolkLifecycle.PHASE + 1;

    /** Name of the watcher's thread. */
    public static final String THREAD_NAME = "folk-watch";

    /** While a reset runs, how often the thread looks whether the next reload is due. */
    static final long BUSY_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /** How often the root directories are checked (still there, still the same) and a gone one looked for. */
    static final long ROOT_POLL_MILLIS = 500;
    private static final long ROOT_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(ROOT_POLL_MILLIS);

    private static final Logger log = LoggerFactory.getLogger(SourceWatcher.class);
    private static final Path WATCH_LIMIT = Path.of("/proc/sys/fs/inotify/max_user_watches");

    private final List<WatchedPool> watched;
    private final List<PoolReloader> reloaders = new ArrayList<>();
    private final @Nullable ClasspathScripts scripts;
    private final Map<WatchKey, Path> directories = new ConcurrentHashMap<>();
    private final Set<Path> registered = ConcurrentHashMap.newKeySet();
    /** Root directories watched, with the identity (device and inode) they had when registered. */
    private final Map<Path, Object> roots = new ConcurrentHashMap<>();
    /** Root directories deleted (while watched, or before the start), looked for until they are back. */
    private final Set<Path> missingRoots = ConcurrentHashMap.newKeySet();
    private volatile @Nullable WatchService service;
    private volatile @Nullable Thread thread;
    private volatile boolean running;
    private volatile boolean limitReached;

    /**
     * @param watched what each pool watches
     * @param pools   the pool of a name
     * @param scripts the extracted class path scripts, refreshed before a reload (null: none)
     */
    public SourceWatcher(List<WatchedPool> watched, Function<String, WorkerPool> pools,
                         @Nullable ClasspathScripts scripts) {
        this(watched, scripts, w -> PoolReloader.target(pools.apply(w.pool())));
    }

    SourceWatcher(List<WatchedPool> watched, @Nullable ClasspathScripts scripts,
                  Function<WatchedPool, PoolReloader.Target> targets) {
        this.watched = List.copyOf(watched);
        this.scripts = scripts;
        for (WatchedPool w : this.watched) {
            reloaders.add(new PoolReloader(targets.apply(w), w.debounce().toNanos(), changes -> refresh(w, changes)));
        }
    }

    /** The pools watched. */
    public List<WatchedPool> watched() {
        return watched;
    }

    /** Directories currently registered with the watch service. */
    public int watchedDirectories() {
        return registered.size();
    }

    /** Reloads started so far for {@code pool} (0 if it is not watched). */
    public long reloads(String pool) {
        PoolReloader r = reloader(pool);
        return r == null ? 0 : r.reloads();
    }

    /** The files the latest reload of {@code pool} was for (empty before the first). */
    public List<Path> lastChangedFiles(String pool) {
        PoolReloader r = reloader(pool);
        PoolReloader.Changes c = r == null ? null : r.lastChanges();
        return c == null ? List.of() : c.files();
    }

    private @Nullable PoolReloader reloader(String pool) {
        for (PoolReloader r : reloaders) {
            if (r.poolName().equals(pool)) {
                return r;
            }
        }
        return null;
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        // A pool whose classpath: script is only in the jar has no roots (start-up warned of it).
        if (watched.stream().allMatch(w -> w.roots().isEmpty())) {
            return;
        }
        WatchService ws;
        try {
            ws = FileSystems.getDefault().newWatchService();
        } catch (IOException e) {
            log.warn("Reload on change is off: cannot watch files ({}). On Linux, the user's limit of inotify"
                    + " instances (fs.inotify.max_user_instances) may be reached: raise it (sysctl) or stop other"
                    + " file watchers.", e.getMessage());
            return;
        }
        service = ws;
        for (WatchedPool w : watched) {
            for (WatchRoot root : w.roots()) {
                Path directory = root.watchedDirectory();
                if (directory == null) {
                    continue; // not reached: a file root always has a parent directory
                }
                if (!roots.containsKey(directory) && !watchRoot(directory, null)) {
                    missingRoots.add(directory); // deleted since the configuration was checked: watched once back
                }
            }
        }
        Thread t = DaemonThreads.newThread(() -> run(ws), THREAD_NAME);
        thread = t;
        t.start();
        for (WatchedPool w : watched) {
            if (w.roots().isEmpty()) {
                continue;
            }
            log.info("Pool '{}': reload on change watches {} for {}", w.pool(),
                    w.roots().stream().map(r -> r.path().toString()).toList(), w.patterns());
        }
    }

    @Override
    public void stop() {
        close();
    }

    /** As the pools it reloads ({@code FolkLifecycle}): stopped at close, not at a pause, since its reloaders stop for good. */
    @Override
    public boolean isPauseable() {
        return false;
    }

    @Override
    public void destroy() {
        close();
    }

    private void close() {
        Thread t;
        synchronized (this) {
            running = false;
            reloaders.forEach(PoolReloader::stop);
            WatchService ws = service;
            service = null;
            if (ws != null) {
                try {
                    ws.close(); // wakes the thread with ClosedWatchServiceException
                } catch (IOException e) {
                    log.debug("Closing the watch service failed", e);
                }
            }
            t = thread;
            thread = null;
        }
        directories.clear();
        registered.clear();
        roots.clear();
        missingRoots.clear();
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    private void run(WatchService ws) {
        long rootsChecked = System.nanoTime();
        try {
            while (running) {
                long now = System.nanoTime();
                long wait = -1;
                boolean busy = false;
                for (PoolReloader r : reloaders) {
                    long due = r.nanosUntilDue(now);
                    if (due >= 0) {
                        wait = wait < 0 ? due : Math.min(wait, due);
                    }
                    busy |= r.busy();
                }
                if (busy) {
                    wait = wait < 0 ? BUSY_POLL_NANOS : Math.min(wait, BUSY_POLL_NANOS);
                }
                long untilCheck = Math.max(0, rootsChecked + ROOT_POLL_NANOS - now);
                wait = wait < 0 ? untilCheck : Math.min(wait, untilCheck);
                WatchKey key = ws.poll(wait, TimeUnit.NANOSECONDS);
                while (key != null) {
                    handle(key);
                    key = ws.poll();
                }
                now = System.nanoTime();
                // Before a reload too: a root deleted under it must hold it (see checkRoots).
                if (now - rootsChecked >= ROOT_POLL_NANOS || anyDue(now)) {
                    rootsChecked = now;
                    checkRoots();
                }
                if (!missingRoots.isEmpty()) {
                    watchReturnedRoots(now);
                }
                for (PoolReloader r : reloaders) {
                    r.fireIfDue(now);
                }
            }
        } catch (ClosedWatchServiceException | InterruptedException stopped) {
            // closed by stop()
        } catch (RuntimeException | Error e) {
            log.warn("Reload on change stopped after an unexpected failure; restart the application to resume it", e);
        }
    }

    private boolean anyDue(long now) {
        for (PoolReloader r : reloaders) {
            if (r.nanosUntilDue(now) == 0) {
                return true;
            }
        }
        return false;
    }

    private void handle(WatchKey key) {
        Path dir = directories.get(key);
        List<WatchEvent<?>> events = key.pollEvents();
        boolean valid = key.reset();
        if (dir == null) {
            return;
        }
        long now = System.nanoTime();
        for (WatchEvent<?> event : events) {
            if (event.kind() == OVERFLOW) {
                for (int i = 0; i < watched.size(); i++) {
                    if (watched.get(i).covers(dir)) {
                        reloaders.get(i).lost(now);
                    }
                }
                continue;
            }
            Path child = dir.resolve((Path) event.context());
            if (event.kind() == ENTRY_CREATE && Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                if (!skipped(child) && watched.stream().anyMatch(w -> w.watchesTree(child))) {
                    List<Path> files = new ArrayList<>();
                    register(child, true, files);
                    files.forEach(f -> changed(f, now, false));
                }
                continue;
            }
            // A watched directory deleted or moved away: its files are gone without events of their own.
            boolean directory = event.kind() == ENTRY_DELETE && registered.contains(child);
            changed(child, now, directory);
            if (directory) {
                // Its watches would follow it where it was moved; its parent's watch sees it come back.
                if (roots.keySet().stream().anyMatch(r -> r.startsWith(child))) {
                    gone(child);
                } else {
                    unwatch(child);
                }
            }
        }
        if (!valid) { // after its events: a root that went takes the changes made in it with it
            directories.remove(key);
            registered.remove(dir);
            if (roots.containsKey(dir)) {
                gone(dir);
            }
        }
    }

    private void changed(Path file, long now, boolean directory) {
        for (int i = 0; i < watched.size(); i++) {
            WatchedPool w = watched.get(i);
            if (directory ? w.covers(file) : w.matches(file)) {
                reloaders.get(i).changed(file, now);
            }
        }
    }

    /**
     * Registers {@code start}, and everything under it when {@code tree}, collecting the regular
     * files found into {@code files} if not null.
     */
    private void register(Path start, boolean tree, @Nullable List<Path> files) {
        if (!tree) {
            registerOne(start);
            return;
        }
        try {
            Files.walkFileTree(start, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    if (!dir.equals(start) && skipped(dir)) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return registerOne(dir) ? FileVisitResult.CONTINUE : FileVisitResult.TERMINATE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (files != null && attrs.isRegularFile()) {
                        files.add(file);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE; // vanished or unreadable: nothing to watch there
                }
            });
        } catch (IOException e) {
            log.debug("Cannot walk {}: {}", start, e.toString());
        }
    }

    /** Registers one directory; false when no more can be (limit reached, or closed). */
    private boolean registerOne(Path dir) {
        WatchService ws = service;
        if (ws == null || limitReached) {
            return false;
        }
        try {
            WatchKey key = dir.register(ws, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY);
            directories.put(key, dir);
            registered.add(dir);
            return true;
        } catch (ClosedWatchServiceException closed) {
            return false;
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("inotify watches")) {
                limitReached = true;
                log.warn("Reload on change: the user's limit of inotify watches (fs.inotify.max_user_watches={}) was"
                        + " reached after {} directories; changes under {} and the directories not yet registered"
                        + " are not seen. Raise the limit (sysctl -w fs.inotify.max_user_watches=524288) or watch"
                        + " fewer directories (folk.watch.paths, folk.watch.patterns do not reduce it).",
                        watchLimit(), registered.size(), dir);
                return false;
            }
            log.debug("Cannot watch {}: {}", dir, e.toString());
            return true;
        }
    }

    /**
     * Registers the root directory {@code dir} (with everything under it if a pool watches it as a
     * tree), remembering which directory it is; false if there is none at that path. The regular
     * files found are collected into {@code files} if not null.
     */
    private boolean watchRoot(Path dir, @Nullable List<Path> files) {
        Object identity = identity(dir); // before registering: a directory replaced meanwhile is found by checkRoots
        if (identity == null) {
            return false;
        }
        roots.put(dir, identity);
        if (watched.stream().anyMatch(w -> w.watchesTree(dir))) {
            register(dir, true, files);
        } else {
            register(dir, false, null);
            if (files != null) {
                try (var listing = Files.list(dir)) {
                    listing.filter(Files::isRegularFile).forEach(files::add);
                } catch (IOException e) {
                    log.debug("Cannot list {}: {}", dir, e.toString());
                }
            }
        }
        return true;
    }

    /** The device and inode of the directory at {@code dir}, or null if there is no directory there. */
    private static @Nullable Object identity(Path dir) {
        try {
            BasicFileAttributes attrs = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attrs.isDirectory()) {
                return null;
            }
            Object key = attrs.fileKey();
            return key != null ? key : dir; // no inode on this file system: only its presence is checked
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * A root directory whose path no longer leads to the directory watched (deleted, moved away) is
     * gone. Not left to the watch's own end: a deleted directory's inode, and so its watch, lives on
     * while a process holds a file in it open, and PHP keeps its script open: the old workers of a
     * deleted script's directory would keep it until a reload replaced them, a reload that could
     * only fail while the directory is gone.
     */
    private void checkRoots() {
        roots.forEach((dir, identity) -> {
            if (!identity.equals(identity(dir))) {
                gone(dir);
            }
        });
    }

    /**
     * The directory {@code dir} (a root, or one holding roots) was deleted or moved away: what was
     * watched there is no longer (a watch would follow the moved directory), and the roots in it are
     * looked for until they are back. The pools watching them do not reload for the changes made
     * there so far (new workers could not boot from a directory that is not there): they reload once
     * it is back, with what it then holds.
     */
    private void gone(Path dir) {
        for (Path root : List.copyOf(roots.keySet())) {
            if (root.startsWith(dir) && roots.remove(root) != null) {
                missingRoots.add(root);
                log.warn("Reload on change: the watched directory {} was deleted or moved away; it is looked for"
                        + " every {} ms and watched again once it is back; no reload until then", root, ROOT_POLL_MILLIS);
            }
        }
        unwatch(dir);
        for (int i = 0; i < watched.size(); i++) {
            for (WatchRoot root : watched.get(i).roots()) {
                Path d = root.watchedDirectory();
                if (d != null && d.startsWith(dir)) {
                    reloaders.get(i).forget(dir);
                    break;
                }
            }
        }
    }

    /** Cancels the watches of {@code dir} and of every directory under it. */
    private void unwatch(Path dir) {
        directories.entrySet().removeIf(e -> {
            if (e.getValue().startsWith(dir)) {
                e.getKey().cancel();
                return true;
            }
            return false;
        });
        registered.removeIf(d -> d.startsWith(dir));
    }

    /** Watches again the root directories that are back; what they hold counts as changed. */
    private void watchReturnedRoots(long now) {
        for (Path dir : List.copyOf(missingRoots)) {
            List<Path> files = new ArrayList<>();
            if (!watchRoot(dir, files)) {
                continue;
            }
            missingRoots.remove(dir);
            log.info("Reload on change: {} is back and watched again", dir);
            files.forEach(f -> changed(f, now, false));
        }
    }

    /** Directories not entered below a watched one: hidden ones (.git, .idea) and node_modules. */
    static boolean skipped(Path dir) {
        Path name = dir.getFileName();
        String n = name == null ? "" : name.toString();
        return n.startsWith(".") || n.equals("node_modules");
    }

    private static String watchLimit() {
        try {
            return Files.readString(WATCH_LIMIT).trim();
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    /** Before a reload: extracts again the class path scripts that changed, so new workers load them. */
    private void refresh(WatchedPool w, PoolReloader.Changes changes) {
        if (scripts == null || w.roots().stream().allMatch(r -> r.classpathLocation() == null)) {
            return;
        }
        if (changes.lost() || changes.more() > 0) {
            scripts.refreshAll();
            return;
        }
        for (Path file : changes.files()) {
            for (WatchRoot root : w.roots()) {
                String resource = root.resourceOf(file);
                if (resource != null) {
                    scripts.refresh(resource);
                    break;
                }
            }
        }
    }
}
