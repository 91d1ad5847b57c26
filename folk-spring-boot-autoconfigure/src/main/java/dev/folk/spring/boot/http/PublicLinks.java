package dev.folk.spring.boot.http;

/**
 * Which symbolic links a route's public directory may lead through to the files it serves.
 * Links whose target stays in the directory are followed in either case.
 */
public enum PublicLinks {

    /**
     * Every link, wherever it leads: nginx's default ({@code disable_symlinks off}). Laravel's
     * {@code storage:link} ({@code public/storage} to {@code storage/app/public}), a deploy's shared
     * directories linked into {@code public/}, and Debian's packaged applications (whose document
     * roots link to {@code /var/lib}) need it.
     */
    FOLLOW,

    /**
     * Only links whose target is in the directory: a file reached through a link that leads out is
     * PHP's, as if it were not there. Checked on the open file (its name in {@code /proc}), so a link
     * changed meanwhile cannot slip past. For a directory where others can create links (an upload
     * directory where archives are unpacked): the gateway reads as the JVM's user, which may read
     * more than PHP's.
     */
    INSIDE
}
