package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** classpath: worker scripts, and the bundled PHP library, become files PHP can run. */
class ClasspathScriptsTest {

    @TempDir
    Path tmp;

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
}
