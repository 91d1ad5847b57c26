package dev.folk.core.supervision;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ThreadLocalRandom;

import org.jspecify.annotations.Nullable;

/**
 * Per-worker scratch directories: created 0700 before the spawn, removed after the reap.
 *
 * <p>Removal never follows a symbolic link: a worker could leave a link to {@code /etc} in its
 * sandbox. Directories are opened relative to their parent's descriptor
 * ({@link SecureDirectoryStream}, i.e. openat/unlinkat), so swapping a directory for a link
 * mid-removal does not redirect us either.
 */
final class Sandbox {

    /** Deeper trees are left in place (and reported): each level holds a descriptor open. */
    private static final int MAX_DEPTH = 128;

    private Sandbox() {
    }

    /** A new private directory under {@code root}, owned by {@code owner} if not null (else by us). */
    static Path create(Path root, String name, long serial, @Nullable RunAs owner) throws IOException {
        Files.createDirectories(root);
        String safeName = name.replaceAll("[^A-Za-z0-9._-]", "_");
        for (int attempt = 0; ; attempt++) {
            String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
            Path dir = root.resolve(safeName + '-' + serial + '-' + suffix);
            try {
                // umask can only remove bits from 0700, never add them
                Files.createDirectory(dir,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException e) {
                if (attempt == 9) {
                    throw e;
                }
                continue;
            }
            if (owner != null) {
                try {
                    owner.chown(dir); // the worker's own scratch space; still removed by us
                } catch (IOException | RuntimeException e) {
                    Files.deleteIfExists(dir);
                    throw new IOException("cannot give " + dir + " to " + owner + ": " + e, e);
                }
            }
            return dir;
        }
    }

    /** Removes the directory and everything in it; links are removed, never followed. */
    static void remove(Path dir) throws IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException gone) {
            return;
        }
        if (attrs.isDirectory()) {
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
                if (!(stream instanceof SecureDirectoryStream<Path> secure)) {
                    throw new IOException("no secure directory removal on this platform: " + dir);
                }
                removeContents(secure, dir, 0);
            }
        }
        Files.deleteIfExists(dir);
    }

    private static void removeContents(SecureDirectoryStream<Path> dir, Path where, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw new IOException("sandbox deeper than " + MAX_DEPTH + " levels at " + where);
        }
        for (Path entry : dir) {
            Path name = entry.getFileName();
            BasicFileAttributes attrs = dir.getFileAttributeView(name, BasicFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS).readAttributes();
            if (attrs.isDirectory()) {
                // A worker may have made a directory unreadable; it is ours, so restore access first.
                dir.getFileAttributeView(name, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        .setPermissions(PosixFilePermissions.fromString("rwx------"));
                try (SecureDirectoryStream<Path> child = dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS)) {
                    removeContents(child, where.resolve(name), depth + 1);
                }
                dir.deleteDirectory(name);
            } else {
                dir.deleteFile(name);
            }
        }
    }
}
