package dev.folk.spring.boot.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** classpath: worker scripts, and the bundled PHP library, become files PHP can run. */
class ClasspathScriptsTest {

    @TempDir
    Path tmp;

    /** Processes a test started; ended after it. */
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void endProcesses() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    private Path tree() throws Exception {
        Path classes = tmp.resolve("classes");
        Files.createDirectories(classes.resolve("php/lib"));
        Files.writeString(classes.resolve("php/app.php"), "<?php require __DIR__ . '/lib/util.php';");
        Files.writeString(classes.resolve("php/lib/util.php"), "<?php // util");
        Files.writeString(classes.resolve("other.txt"), "not a script");
        return classes;
    }

    private Path jarOf(Path classes) throws Exception {
        Path jar = tmp.resolve("app.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
            for (String dir : new String[] {"php/", "php/lib/"}) {
                j.putNextEntry(new JarEntry(dir));
                j.closeEntry();
            }
            for (String file : new String[] {"php/app.php", "php/lib/util.php"}) {
                j.putNextEntry(new JarEntry(file));
                j.write(Files.readAllBytes(classes.resolve(file)));
                j.closeEntry();
            }
        }
        return jar;
    }

    @Test
    void aScriptInADirectoryIsExtractedWithItsSiblingsIntoAPrivateDirectoryRemovedAtClose() throws Exception {
        assertExtracts(tree());
    }

    @Test
    void aScriptInAJarIsExtractedWithItsSiblings() throws Exception {
        assertExtracts(jarOf(tree()));
    }

    private void assertExtracts(Path location) throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {location.toUri().toURL()}, null)) {
            ClasspathScripts scripts = new ClasspathScripts(loader);
            assertThat(scripts.resolve("/usr/share/app.php")).as("a plain path is left alone")
                    .isEqualTo("/usr/share/app.php");
            Path app = Path.of(scripts.resolve("classpath:php/app.php"));
            Path root = scripts.directory();
            assertThat(app).isEqualTo(root.resolve("php/app.php"));
            assertThat(Files.readString(app)).contains("lib/util.php");
            assertThat(root.resolve("php/lib/util.php")).hasContent("<?php // util");
            assertThat(root.resolve("other.txt")).doesNotExist();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root))).isEqualTo("rwx------");
            assertThat(scripts.resolve("classpath:/php/app.php")).isEqualTo(app.toString());
            assertThatThrownBy(() -> scripts.resolve("classpath:php/missing.php"))
                    .hasMessageContaining("php/missing.php");
            assertThatThrownBy(() -> scripts.resolve("classpath:php/../../../etc/passwd"))
                    .isInstanceOf(RuntimeException.class);
            assertThat(scripts.workerLibrary()).as("no PHP library on this class path").isNull();
            scripts.destroy();
            assertThat(root).doesNotExist();
        }
    }

    @Test
    void aChangedScriptIsExtractedAgainOnlyWhereItWasExtractedAndAGoneOneIsRemoved() throws Exception {
        Path classes = tree();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, null)) {
            ClasspathScripts scripts = new ClasspathScripts(loader);
            assertThat(scripts.refresh("php/app.php")).as("nothing extracted yet").isFalse();
            scripts.resolve("classpath:php/app.php");
            Path root = scripts.directory();
            assertThat(scripts.sourcePaths("php/")).containsExactly(classes.resolve("php").toAbsolutePath());
            assertThat(scripts.sourcePaths("php/app.php")).containsExactly(classes.resolve("php/app.php").toAbsolutePath());

            Files.writeString(classes.resolve("php/lib/util.php"), "<?php // util 2");
            Files.createDirectories(classes.resolve("php/new"));
            Files.writeString(classes.resolve("php/new/a.php"), "<?php // new");
            Files.delete(classes.resolve("php/app.php"));
            assertThat(scripts.refresh("php/lib/util.php")).isTrue();
            assertThat(scripts.refresh("php/new")).as("a directory moved in").isTrue();
            assertThat(scripts.refresh("php/app.php")).isTrue();
            assertThat(root.resolve("php/lib/util.php")).hasContent("<?php // util 2");
            assertThat(root.resolve("php/new/a.php")).hasContent("<?php // new");
            assertThat(root.resolve("php/app.php")).doesNotExist();
            try (var left = Files.list(root.resolve("php/lib"))) {
                assertThat(left.map(p -> p.getFileName().toString())).as("no partial copy left")
                        .containsExactly("util.php");
            }

            assertThat(scripts.refresh("other.txt")).as("never extracted").isFalse();
            assertThat(root.resolve("other.txt")).doesNotExist();
            assertThat(scripts.refresh("php/../other.txt")).isFalse();
            scripts.destroy();
        }
    }

    /**
     * A boot that fails while the context closes (a pool still stopping its workers) asks whether
     * the scripts were deleted: they were, by the close itself, and must stay so. Bringing them back
     * left the folder behind after the JVM ended, with a warning that blamed a cleaner of /tmp.
     */
    @Test
    void nothingIsExtractedAgainOnceTheScriptsAreRemovedAtClose() throws Exception {
        Path classes = tree();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, null)) {
            ClasspathScripts scripts = new ClasspathScripts(loader);
            scripts.resolve("classpath:php/app.php");
            Path root = scripts.directory();
            Files.delete(root.resolve("php/app.php"));
            assertThat(scripts.restoreIfDeleted()).as("deleted while running: restored").isEqualTo(1);
            assertThat(root.resolve("php/app.php")).exists();

            scripts.destroy();
            assertThat(root).doesNotExist();
            assertThat(scripts.restoreIfDeleted()).isZero();
            scripts.refreshAll();
            assertThat(scripts.refresh("php/app.php")).isFalse();
            assertThat(root).doesNotExist();
            assertThatThrownBy(() -> scripts.resolve("classpath:php/app.php"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("removed when the application closed");
            assertThat(scripts.directory()).as("no new folder made").isEqualTo(root);
            assertThat(root).doesNotExist();
        }
    }

    @Test
    void aTemporaryDirectoryThatCannotTakeTheScriptsIsNamedWithWhatToDo() throws Exception {
        Path notADirectory = Files.writeString(tmp.resolve("full"), "a file where a directory should be");
        ClasspathScripts scripts = new ClasspathScripts(getClass().getClassLoader(), notADirectory);
        assertThatThrownBy(scripts::workerLibrary).isInstanceOf(java.io.UncheckedIOException.class)
                .hasMessageContaining(notADirectory + " (java.io.tmpdir)")
                .hasMessageContaining("-Djava.io.tmpdir=");
    }

    @Test
    void theBundledPhpLibraryIsExtractedAndAnnouncedToWorkers() throws Exception {
        ClasspathScripts scripts = new ClasspathScripts(getClass().getClassLoader());
        Path autoload = scripts.workerLibrary();
        assertThat(autoload).isNotNull().hasFileName("autoload.php");
        assertThat(Files.readString(autoload, StandardCharsets.UTF_8)).startsWith("<?php");
        assertThat(autoload.resolveSibling("Folk/Worker/Worker.php")).exists();
        assertThat(scripts.environment()).containsEntry(ClasspathScripts.WORKER_LIBRARY_ENV, autoload.toString());
        scripts.destroy();
        assertThat(autoload).doesNotExist();
    }

    @Test
    void leftoversOfEndedRunsAreRemovedAtTheNextStartWithoutFollowingTheirLinks() throws Exception {
        Path parent = Files.createDirectory(tmp.resolve("temp"));
        Path precious = Files.writeString(tmp.resolve("precious.txt"), "keep me");
        Path preciousDir = Files.createDirectory(tmp.resolve("precious-dir"));
        Files.writeString(preciousDir.resolve("inside.txt"), "keep me too");

        Process ended = sleeper();
        long endedPid = ended.pid();
        long endedStart = startTime(endedPid);
        ended.destroy();
        ended.waitFor();
        Path crashed = leftover(parent, folderName(pidNamespace(), endedPid, endedStart, 1));
        // As a run names it: the JDK's random part is an unsigned long, 19 or 20 digits most of the time.
        Path asNamed = Files.createTempDirectory(parent, ScriptFolders.PREFIX + pidNamespace() + "-" + endedPid + "-"
                + endedStart + "-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path longest = leftover(parent, folderName(pidNamespace(), endedPid, endedStart, "18446744073709551615"));
        Files.createSymbolicLink(crashed.resolve("link-to-file"), precious);
        Files.createSymbolicLink(crashed.resolve("php/link-to-dir"), preciousDir);
        // The pid now belongs to another process: its start time tells them apart.
        Process other = sleeper();
        Path recycled = leftover(parent, folderName(pidNamespace(), other.pid(), startTime(other.pid()) + 1, 2));

        ClasspathScripts scripts = new ClasspathScripts(getClass().getClassLoader(), parent);
        Path autoload = scripts.workerLibrary();

        assertThat(autoload).exists();
        assertThat(crashed).doesNotExist();
        assertThat(asNamed).doesNotExist();
        assertThat(longest).doesNotExist();
        assertThat(recycled).doesNotExist();
        assertThat(precious).hasContent("keep me");
        assertThat(preciousDir.resolve("inside.txt")).hasContent("keep me too");
        try (var left = Files.list(parent)) {
            assertThat(left.toList()).as("only the new run's folder").containsExactly(scripts.directory());
        }
        scripts.destroy();
    }

    @Test
    void foldersOfLiveRunsAndFoldersThatAreNotOursAreKept() throws Exception {
        Path parent = Files.createDirectory(tmp.resolve("temp"));
        long ns = pidNamespace();
        Process ended = sleeper();
        long endedPid = ended.pid();
        long endedStart = startTime(endedPid);
        ended.destroy();
        ended.waitFor();

        List<Path> kept = new ArrayList<>();
        Process running = sleeper();
        kept.add(leftover(parent, folderName(ns, running.pid(), startTime(running.pid()), 1))); // another app, running
        long self = ProcessHandle.current().pid();
        kept.add(leftover(parent, folderName(ns, self, startTime(self), 1))); // another context of this JVM
        kept.add(leftover(parent, folderName(ns + 1, endedPid, endedStart, 2))); // another pid namespace
        Path open = leftover(parent, folderName(ns, endedPid, endedStart, 3));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        kept.add(open); // not private
        Path target = leftover(tmp, "target");
        kept.add(Files.createSymbolicLink(parent.resolve(folderName(ns, endedPid, endedStart, 4)), target)); // a link, not a folder
        kept.add(Files.writeString(parent.resolve(folderName(ns, endedPid, endedStart, 5)), "a file"));
        kept.add(leftover(parent, "folk-scripts-1234567890")); // an older version's: the owner is unknown
        Path inUse = leftover(parent, folderName(ns, endedPid, endedStart, 6));
        kept.add(inUse); // a worker of the ended run is still busy
        ProcessBuilder worker = new ProcessBuilder("sleep", "60");
        worker.environment().put(ClasspathScripts.WORKER_LIBRARY_ENV, inUse.resolve("folk-worker-php/autoload.php").toString());
        processes.add(worker.start());
        boolean root = "0".equals(String.valueOf(Files.getAttribute(tmp, "unix:uid")));
        if (root) { // another user's (only root can give a folder away)
            Path foreign = leftover(parent, folderName(ns, endedPid, endedStart, 7));
            Files.setAttribute(foreign, "unix:uid", 65534);
            kept.add(foreign);
        }
        Path removed = leftover(parent, folderName(ns, endedPid, endedStart, 1));

        ClasspathScripts scripts = new ClasspathScripts(getClass().getClassLoader(), parent);
        scripts.workerLibrary();

        assertThat(removed).as("the control case: ended, private, ours").doesNotExist();
        for (Path p : kept) {
            assertThat(p).as("kept: %s", p.getFileName()).exists();
        }
        assertThat(target.resolve("php/app.php")).exists();
        assertThat(scripts.directory()).exists();
        scripts.destroy();
        assertThat(scripts.directory()).doesNotExist();
        assertThat(running.isAlive()).isTrue();
    }

    /** A 0700 folder with a script in it, as a run leaves it. */
    private static Path leftover(Path parent, String name) throws Exception {
        Path dir = Files.createDirectory(parent.resolve(name),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.createDirectories(dir.resolve("php"));
        Files.writeString(dir.resolve("php/app.php"), "<?php // app");
        return dir;
    }

    /** The name a run (pid, start time, pid namespace) gives its folder; {@code random} tells several apart. */
    private static String folderName(long pidNamespace, long pid, long startTime, Object random) {
        return "folk-scripts-" + pidNamespace + "-" + pid + "-" + startTime + "-" + random;
    }

    private Process sleeper() throws Exception {
        Process p = new ProcessBuilder("sleep", "60").start();
        processes.add(p);
        return p;
    }

    /** Field 22 of /proc/<pid>/stat: the start time in clock ticks after boot. */
    private static long startTime(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
    }

    private static long pidNamespace() throws Exception {
        String link = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString(); // pid:[4026531836]
        return Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
    }
}
