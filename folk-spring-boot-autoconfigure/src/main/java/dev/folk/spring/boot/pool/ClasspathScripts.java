package dev.folk.spring.boot.pool;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;

import dev.folk.core.util.Preload;

/**
 * Worker scripts that live on the class path (inside the application's jar) made available as
 * files, because PHP can only run files.
 *
 * <ul>
 *   <li>An {@code args} entry {@code classpath:php/app.php} is replaced by the path of that file,
 *       extracted together with everything else under {@code php/} (so relative requires work).</li>
 *   <li>The folk-worker-php library, when on the class path (the starter brings it), is
 *       extracted too; workers find its autoloader in {@code FOLK_WORKER_PHP}.</li>
 * </ul>
 * Everything goes into one private (0700) temporary directory, removed when the context closes.
 * A run that ends without closing it (killed, crashed) leaves it behind: creating the next one
 * removes such leftovers once their run is certainly gone ({@link ScriptFolders}).
 * When workers run as another user ({@code folk.user}/{@code folk.group}), the directory is
 * {@linkplain #shareWithGroup(int) shared with their group}: readable, never writable, by it.
 */
public class ClasspathScripts implements DisposableBean {

    /** Prefix of an {@code args} entry naming a class path resource. */
    public static final String PREFIX = "classpath:";
    /** Environment variable with the path of folk-worker-php's autoload.php. */
    public static final String WORKER_LIBRARY_ENV = "FOLK_WORKER_PHP";

    private static final Logger log = LoggerFactory.getLogger(ClasspathScripts.class);
    private static final String LIBRARY_ROOT = "META-INF/folk/php/";

    private final ClassLoader classLoader;
    private final Path temporaryDirectory;
    private final PathMatchingResourcePatternResolver resolver;
    private final Set<String> extractedDirectories = new HashSet<>();
    private final Set<String> extractedFiles = new HashSet<>();
    /** Every file extracted, so that one deleted since can be noticed ({@link #restoreIfDeleted()}). */
    private final Set<Path> written = new HashSet<>();
    private @Nullable Path root;

    /** Set at close: the folder is removed on purpose, and nothing extracts into it again. */
    private boolean destroyed;
    private @Nullable Path workerLibrary;
    private boolean libraryLooked;
    /** The group the extracted files are readable by, or null for none (0700, ours only). */
    private @Nullable Integer sharedGid;

    public ClasspathScripts(ClassLoader classLoader) {
        this(classLoader, Path.of(System.getProperty("java.io.tmpdir")));
    }

    /** Extracts into a new folder under {@code temporaryDirectory}, sweeping what ended runs left there. */
    public ClasspathScripts(ClassLoader classLoader, Path temporaryDirectory) {
        this.classLoader = classLoader;
        this.temporaryDirectory = temporaryDirectory;
        this.resolver = new PathMatchingResourcePatternResolver(classLoader);
    }

    /** {@code arg} itself, or, for {@code classpath:dir/file}, the extracted file's path. */
    public synchronized String resolve(String arg) {
        if (arg == null || !arg.startsWith(PREFIX)) {
            return arg;
        }
        String location = strip(arg.substring(PREFIX.length()));
        if (java.util.Arrays.asList(location.split("/")).contains("..")) {
            throw new IllegalArgumentException("'..' is not allowed in a class path location: " + location);
        }
        int slash = location.lastIndexOf('/');
        String directory = slash < 0 ? "" : location.substring(0, slash);
        if (directory.isEmpty()) {
            extractOne(location);
        } else if (extractedDirectories.add(directory)) {
            extractDirectory(directory);
        }
        Path file = root().resolve(location).normalize();
        if (!file.startsWith(root()) || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("no class path resource " + location);
        }
        return file.toString();
    }

    /**
     * Makes everything extracted, now and later, readable by group {@code gid} and by nobody else:
     * owner us, group gid, directories 0750, files 0640, so the workers (running as a user of that
     * group) can read the scripts but not change them.
     *
     * @throws IllegalStateException if already shared with another group (one copy, one group)
     */
    public synchronized void shareWithGroup(int gid) {
        if (sharedGid != null) {
            if (sharedGid != gid) {
                throw new IllegalStateException("the extracted class path scripts are already shared with gid "
                        + sharedGid + ", another pool's group; they cannot be readable by gid " + gid + " too");
            }
            return;
        }
        sharedGid = gid;
        try {
            share(root());
            try (java.util.stream.Stream<Path> all = Files.walk(root())) {
                for (Path p : (Iterable<Path>) all::iterator) {
                    share(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot share the extracted worker scripts with gid " + gid, e);
        }
    }

    private void share(Path p) throws IOException {
        if (sharedGid == null) {
            return;
        }
        boolean dir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", sharedGid, LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(dir ? "rwxr-x---" : "rw-r-----"));
    }

    /** Environment to give every worker: {@code FOLK_WORKER_PHP} when the PHP library is on the class path. */
    public synchronized Map<String, String> environment() {
        Path autoload = workerLibrary();
        return autoload == null ? Map.of() : Map.of(WORKER_LIBRARY_ENV, autoload.toString());
    }

    /** The extracted folk-worker-php autoload.php, or null if the library is not on the class path. */
    public synchronized @Nullable Path workerLibrary() {
        if (!libraryLooked) {
            libraryLooked = true;
            String index = read(LIBRARY_ROOT + "index.txt");
            if (index != null) {
                Path target = root().resolve("folk-worker-php");
                for (String line : index.split("\n")) {
                    String file = strip(line.trim());
                    if (!file.isEmpty()) {
                        copy(LIBRARY_ROOT + file, target.resolve(file));
                    }
                }
                workerLibrary = target.resolve("autoload.php");
            }
        }
        return workerLibrary;
    }

    private void extractDirectory(String directory) {
        try {
            Resource[] roots = resolver.getResources("classpath*:" + directory + "/");
            Resource[] files = resolver.getResources("classpath*:" + directory + "/**");
            for (Resource file : files) {
                if (!file.isReadable() || file.getURI().toString().endsWith("/")) {
                    continue; // a directory entry
                }
                String url = file.getURI().toString();
                String relative = null;
                for (Resource r : roots) {
                    String base = r.getURI().toString();
                    if (url.startsWith(base)) {
                        relative = url.substring(base.length());
                        break;
                    }
                }
                if (relative == null) {
                    int at = url.lastIndexOf("/" + directory + "/");
                    relative = at < 0 ? null : url.substring(at + directory.length() + 2);
                }
                if (relative != null) {
                    try (InputStream in = file.getInputStream()) {
                        write(in, root().resolve(directory).resolve(strip(relative)));
                    }
                }
            }
        } catch (IOException e) {
            throw extractionFailed("class path directory " + directory, e);
        }
    }

    private void extractOne(String location) {
        extractedFiles.add(location);
        copy(location, root().resolve(location));
    }

    /**
     * The files or directories on disk (not inside a jar) that the class path location
     * {@code location} ({@code php} or {@code php/app.php}) is served from, e.g.
     * {@code target/classes/php}: what reload on change watches for a {@code classpath:} script.
     * Empty when the location is only inside jars.
     */
    public synchronized List<Path> sourcePaths(String location) {
        String l = strip(location);
        while (l.endsWith("/")) {
            l = l.substring(0, l.length() - 1);
        }
        List<Path> paths = new ArrayList<>();
        try {
            for (Resource r : resolver.getResources("classpath*:" + l)) {
                if (r.isFile()) {
                    Path p = r.getFile().toPath().toAbsolutePath().normalize();
                    if (Files.exists(p) && !paths.contains(p)) {
                        paths.add(p);
                    }
                }
            }
        } catch (IOException e) {
            log.debug("Cannot look up class path location {}: {}", l, e.toString());
        }
        return paths;
    }

    /**
     * Copies the class path resource {@code location} ({@code php/lib/util.php}) again if it lies in
     * what was extracted, so that workers started from now on load its current content; removes the
     * copy if the resource is gone. For reload on change: called before the workers are replaced.
     *
     * @return whether the location lies in what was extracted
     */
    public synchronized boolean refresh(String location) {
        String l = strip(location);
        if (root == null || destroyed || java.util.Arrays.asList(l.split("/")).contains("..") || !extracted(l)) {
            return false;
        }
        Path target = root.resolve(l).normalize();
        try {
            java.net.URL url = classLoader.getResource(l);
            if (url == null) {
                // Gone from the class path: so is its copy (a directory with everything in it).
                if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                    ScriptFolders.delete(target);
                } else {
                    Files.deleteIfExists(target);
                }
                written.removeIf(f -> f.startsWith(target));
            } else if ("file".equals(url.getProtocol()) && Files.isDirectory(Path.of(url.toURI()))) {
                extractDirectory(l); // a directory created or moved in: everything in it
            } else {
                try (InputStream in = url.openStream()) {
                    write(in, target);
                }
            }
        } catch (IOException | java.net.URISyntaxException e) {
            throw extractionFailed("class path resource " + l + " again", e instanceof IOException io ? io : new IOException(e));
        }
        return true;
    }

    /**
     * Extracts everything again if something extracted was deleted since, by a cleaner of the
     * temporary directory (systemd-tmpfiles deletes what was not used for 10 days) or by hand:
     * otherwise every worker started from then on fails with PHP's "Could not open input file".
     * The folder keeps its path, which the workers' commands name.
     *
     * @return how many of the extracted files were missing (0: nothing was done)
     */
    public synchronized int restoreIfDeleted() {
        if (root == null || destroyed) { // removed at close, not by a cleaner: a boot failing meanwhile must not bring it back
            return 0;
        }
        int missing = 0;
        for (Path file : written) {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                missing++;
            }
        }
        if (missing == 0) {
            return 0;
        }
        try {
            if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                if (sharedGid != null) {
                    share(root);
                }
            }
        } catch (IOException e) {
            throw extractionFailed("the deleted worker scripts again", e);
        }
        refreshAll();
        if (workerLibrary != null) {
            libraryLooked = false;
            workerLibrary();
        }
        return missing;
    }

    /** Extracts again everything extracted so far (when it is not known which files changed). */
    public synchronized void refreshAll() {
        if (root == null || destroyed) {
            return;
        }
        List.copyOf(extractedDirectories).forEach(this::extractDirectory);
        List.copyOf(extractedFiles).forEach(this::extractOne);
    }

    private boolean extracted(String location) {
        if (extractedFiles.contains(location)) {
            return true;
        }
        for (String d : extractedDirectories) {
            if (location.startsWith(d + "/")) {
                return true;
            }
        }
        return false;
    }

    private void copy(String resource, Path target) {
        try (InputStream in = classLoader.getResourceAsStream(resource)) {
            if (in != null) {
                write(in, target);
            }
        } catch (IOException e) {
            throw extractionFailed("class path resource " + resource, e);
        }
    }

    @SuppressWarnings("NullAway") // below root, getParent() stops at root's parent before it could be null
    private void write(InputStream in, Path target) throws IOException {
        Path normalized = target.normalize();
        if (!normalized.startsWith(root())) {
            throw new IOException("refusing to extract outside " + root() + ": " + target);
        }
        Files.createDirectories(normalized.getParent());
        // Written beside and renamed over: a worker starting meanwhile (a reload extracts again
        // while the pool runs) reads the old file or the new one, never a part of it.
        Path partial = normalized.resolveSibling("." + normalized.getFileName() + ".folk-partial");
        Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
        Files.move(partial, normalized, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        written.add(normalized);
        if (sharedGid != null) {
            share(normalized);
            for (Path dir = normalized.getParent(); dir.startsWith(root()); dir = dir.getParent()) {
                share(dir);
            }
        }
    }

    private @Nullable String read(String resource) {
        try (InputStream in = classLoader.getResourceAsStream(resource)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    private static final String TMPDIR_ADVICE = "Free space there, or start the JVM with -Djava.io.tmpdir= a "
            + "writable directory with room for the scripts (a few MB)";

    /** Says where the extraction failed and what to do: a full or read-only temporary directory, usually. */
    private UncheckedIOException extractionFailed(String what, IOException e) {
        Path into = root != null ? root : temporaryDirectory;
        return new UncheckedIOException("Cannot extract " + what + " into " + into + " (under java.io.tmpdir, "
                + temporaryDirectory + "): " + e + ". " + TMPDIR_ADVICE, e);
    }

    private Path root() {
        if (destroyed) { // a folder made now would outlive the application: nothing would remove it
            throw new IllegalStateException("The class path worker scripts were removed when the application closed;"
                    + " nothing is extracted after that");
        }
        if (root == null) {
            try {
                root = ScriptFolders.create(temporaryDirectory);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot create a directory for worker scripts in " + temporaryDirectory
                        + " (java.io.tmpdir): " + e + ". " + TMPDIR_ADVICE, e);
            }
            ScriptFolders.sweep(temporaryDirectory, root);
            // Removed when the context closes: by then a deploy may have overwritten the jar.
            Preload.classes(ScriptFolders.class);
        }
        return root;
    }

    /** Where the scripts were extracted, or null if nothing was. */
    public synchronized @Nullable Path directory() {
        return root;
    }

    private static String strip(String path) {
        String p = path.replace('\\', '/');
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        return p;
    }

    @Override
    public synchronized void destroy() {
        destroyed = true;
        if (root == null) {
            return;
        }
        try {
            ScriptFolders.delete(root);
        } catch (IOException e) {
            log.warn("Cannot remove extracted worker scripts in {}: {}", root, e.toString());
        }
        if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            log.debug("Extracted worker scripts left in {}", root);
        }
    }
}
