package dev.folk.spring.boot.watch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.folk.core.testing.LogCapture;
import dev.folk.core.testing.Procs;

/** The watcher on a real file system (inotify), with a pool that only counts its resets. */
public class SourceWatcherTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    @Test
    void seesChangesAtAnyDepthAndInDirectoriesCreatedLaterIgnoresTheRestAndLeavesNothingBehind() throws IOException {
        Path root = tmp.resolve("src");
        Files.createDirectories(root.resolve("old"));
        WatchedPool watched = new WatchedPool("web", List.of(new WatchRoot(root, true, null)), List.of("**/*.php"),
                Duration.ofMillis(40));
        long inotifyBefore = inotifyInstances();
        Set<Path> reported = new LinkedHashSet<>();
        SourceWatcher watcher = startWatching(watched, reported);
        try {
            assertThat(inotifyInstances()).isEqualTo(inotifyBefore + 1);
            Files.writeString(root.resolve("notes.txt"), "not PHP");
            Files.createDirectories(root.resolve(".git"));
            Files.writeString(root.resolve("old/a.php"), "<?php");
            Procs.await(WAIT, "a reload for old/a.php", () -> reported(reported).contains(root.resolve("old/a.php")));

            // A directory made after the start, with a file in it at once: found by the walk or by its event.
            Files.createDirectories(root.resolve("new/deeper"));
            Files.writeString(root.resolve("new/deeper/b.php"), "<?php");
            Procs.await(WAIT, "a reload for new/deeper/b.php",
                    () -> reported(reported).contains(root.resolve("new/deeper/b.php")));

            // In the new directory later (it is watched now); in .git never (not entered).
            Files.writeString(root.resolve(".git/hook.php"), "<?php");
            Files.writeString(root.resolve("new/deeper/c.php"), "<?php");
            Procs.await(WAIT, "a reload for new/deeper/c.php",
                    () -> reported(reported).contains(root.resolve("new/deeper/c.php")));

            assertThat(reported(reported)).containsExactlyInAnyOrder(root.resolve("old/a.php"),
                    root.resolve("new/deeper/b.php"), root.resolve("new/deeper/c.php"));
            assertThat(watcher.watchedDirectories()).as("src, old, new, deeper; not .git").isEqualTo(4);
        } finally {
            watcher.stop();
        }
        assertThat(watcher.isRunning()).isFalse();
        Procs.await(WAIT, "the watcher thread to end", () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals(SourceWatcher.THREAD_NAME)));
        assertThat(inotifyInstances()).isEqualTo(inotifyBefore);
    }

    @Test
    void aRootDeletedAndBuiltAgainIsWatchedAgainAndItsNewFilesReload() throws IOException {
        Path root = tmp.resolve("classes/php");
        Files.createDirectories(root.resolve("lib"));
        Files.writeString(root.resolve("app.php"), "<?php");
        WatchedPool watched = new WatchedPool("web", List.of(new WatchRoot(root, true, null)), List.of("**/*.php"),
                Duration.ofMillis(40));
        Set<Path> reported = new LinkedHashSet<>();
        SourceWatcher watcher = startWatching(watched, reported);
        try {
            // mvn clean: the root and everything under it go; then the build puts them back.
            deleteTree(tmp.resolve("classes"));
            Procs.await(WAIT, "the deleted directories unwatched", () -> watcher.watchedDirectories() == 0);
            Files.createDirectories(root.resolve("lib"));
            Files.writeString(root.resolve("app.php"), "<?php // rebuilt");
            Files.writeString(root.resolve("lib/util.php"), "<?php");
            Procs.await(WAIT, "a reload for the rebuilt files",
                    () -> reported(reported).containsAll(List.of(root.resolve("app.php"), root.resolve("lib/util.php"))));
            assertThat(watcher.watchedDirectories()).as("php and php/lib, watched again").isEqualTo(2);

            // And it is watched as before: a later edit reloads.
            synchronized (reported) {
                reported.clear();
            }
            Files.writeString(root.resolve("lib/util.php"), "<?php // edited");
            Procs.await(WAIT, "a reload for the edit", () -> reported(reported).contains(root.resolve("lib/util.php")));
        } finally {
            watcher.stop();
        }
    }

    @Test
    void aRootRenamedAwayIsNoLongerFollowedItsPathIsWatchedAgainOnceBackAndAWarningSaysSo() throws IOException {
        Path root = tmp.resolve("x");
        Path moved = tmp.resolve("x.old");
        Files.createDirectories(root.resolve("lib"));
        Files.writeString(root.resolve("app.php"), "<?php");
        Files.writeString(root.resolve("lib/v.php"), "<?php // v1");
        WatchedPool watched = new WatchedPool("web", List.of(new WatchRoot(root, true, null)), List.of("**/*.php"),
                Duration.ofMillis(40));
        Set<Path> reported = new LinkedHashSet<>();
        try (LogCapture log = LogCapture.of(SourceWatcher.class)) {
            SourceWatcher watcher = startWatching(watched, reported);
            try {
                // mv x x.old; cp -r x.old x: no event reaches the watches (they follow the moved inodes).
                Files.move(root, moved);
                copyTree(moved, root);
                Procs.await(WAIT, "a reload for the copy at the watched path",
                        () -> reported(reported).containsAll(List.of(root.resolve("app.php"), root.resolve("lib/v.php"))));
                assertThat(log.containing(root + " was deleted or moved away")).hasSize(1);
                assertThat(log.containing(root + " is back")).hasSize(1);
                assertThat(watcher.watchedDirectories()).as("x and x/lib, the new ones").isEqualTo(2);

                // The moved copy is no longer watched; the copy at the path is. Events arrive in order,
                // so once the second edit has reloaded, the first would have been seen.
                synchronized (reported) {
                    reported.clear();
                }
                Files.writeString(moved.resolve("lib/v.php"), "<?php // edited in the moved copy");
                Files.writeString(root.resolve("lib/v.php"), "<?php // v2");
                Procs.await(WAIT, "a reload for the edit at the watched path",
                        () -> reported(reported).contains(root.resolve("lib/v.php")));
                synchronized (reported) {
                    reported.clear();
                }
                Files.writeString(moved.resolve("lib/v.php"), "<?php // edited in the moved copy again");
                Files.writeString(root.resolve("app.php"), "<?php // edited");
                Procs.await(WAIT, "a reload for app.php", () -> reported(reported).contains(root.resolve("app.php")));
                assertThat(reported(reported)).containsExactly(root.resolve("app.php"));
            } finally {
                watcher.stop();
            }
        }
    }

    @Test
    void aDirectoryBelowTheRootRenamedAwayIsNoLongerFollowed() throws IOException {
        Path root = tmp.resolve("x");
        Path moved = tmp.resolve("lib.old");
        Files.createDirectories(root.resolve("lib/deeper"));
        Files.writeString(root.resolve("app.php"), "<?php");
        Files.writeString(root.resolve("lib/deeper/v.php"), "<?php // v1");
        WatchedPool watched = new WatchedPool("web", List.of(new WatchRoot(root, true, null)), List.of("**/*.php"),
                Duration.ofMillis(40));
        Set<Path> reported = new LinkedHashSet<>();
        SourceWatcher watcher = startWatching(watched, reported);
        try {
            Files.move(root.resolve("lib"), moved);
            copyTree(moved, root.resolve("lib"));
            Procs.await(WAIT, "a reload for the copied directory",
                    () -> reported(reported).contains(root.resolve("lib/deeper/v.php")));
            Procs.await(WAIT, "x, x/lib and x/lib/deeper watched, not the moved ones",
                    () -> watcher.watchedDirectories() == 3);

            synchronized (reported) {
                reported.clear();
            }
            Files.writeString(moved.resolve("deeper/v.php"), "<?php // edited in the moved copy");
            Files.writeString(root.resolve("app.php"), "<?php // edited");
            Procs.await(WAIT, "a reload for app.php", () -> reported(reported).contains(root.resolve("app.php")));
            assertThat(reported(reported)).containsExactly(root.resolve("app.php"));
        } finally {
            watcher.stop();
        }
    }

    /**
     * A pool with nothing to watch (its classpath: script only inside the jar, which start-up
     * warned about): no "watches []" line, and no watch service (inotify instance) for nothing.
     */
    @Test
    void aPoolWithNothingToWatchIsNotSaidToBeWatchedAndTakesNoWatchService() throws IOException {
        WatchedPool inJar = new WatchedPool("web", List.of(), List.of("**/*.php"), Duration.ofMillis(40));
        long inotifyBefore = inotifyInstances();
        try (LogCapture log = LogCapture.of(SourceWatcher.class)) {
            SourceWatcher watcher = startWatching(inJar, new LinkedHashSet<>());
            try {
                assertThat(log.containing("reload on change watches")).isEmpty();
                assertThat(inotifyInstances()).isEqualTo(inotifyBefore);
            } finally {
                watcher.stop();
            }
        }
    }

    /** A started watcher whose pool records, at each reset, the files of the reload that asked for it. */
    private static SourceWatcher startWatching(WatchedPool watched, Set<Path> reported) {
        AtomicReference<SourceWatcher> self = new AtomicReference<>();
        SourceWatcher watcher = new SourceWatcher(List.of(watched), null, w -> new PoolReloader.Target() {
            @Override
            public String name() {
                return w.pool();
            }

            @Override
            public CompletableFuture<Void> reset() {
                synchronized (reported) {
                    reported.addAll(self.get().lastChangedFiles(w.pool()));
                }
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public boolean hasWorkerStartedBefore(Instant instant) {
                return false;
            }

            @Override
            public void retryFailedBoots() {
                // its resets complete at once: never called
            }
        });
        self.set(watcher);
        watcher.start();
        return watcher;
    }

    private static void deleteTree(Path top) throws IOException {
        try (Stream<Path> all = Files.walk(top)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) { // parents first
                Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
    }

    private static Set<Path> reported(Set<Path> reported) {
        synchronized (reported) {
            return Set.copyOf(reported);
        }
    }

    /** inotify instances this JVM holds open (one per watch service). */
    public static long inotifyInstances() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals("anon_inode:inotify");
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }
}
