package dev.folk.core.os;

import dev.folk.core.FolkException;
import jnr.constants.platform.Errno;

/**
 * A system call failed. Carries the errno and its symbolic name so messages can say
 * {@code ENOENT (No such file or directory)} rather than a bare number.
 */
public class OsException extends FolkException {

    private final int errno;

    public OsException(String call, int errno) {
        super(call + " failed: " + describe(errno));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }

    /** The symbolic name of the errno, e.g. {@code ENOENT}. */
    public String errnoName() {
        return name(errno);
    }

    public static String name(int errno) {
        Errno e = Errno.valueOf(errno);
        return e == Errno.__UNKNOWN_CONSTANT__ ? "errno " + errno : e.name();
    }

    /** {@code ENOENT (No such file or directory)}. */
    public static String describe(int errno) {
        Errno e = Errno.valueOf(errno);
        return e == Errno.__UNKNOWN_CONSTANT__ ? "errno " + errno : e.name() + " (" + e.description() + ")";
    }
}
