package dev.folk.core.os;

/**
 * An open file as fstat(2) describes it ({@link Os#fileStatus}).
 *
 * @param regular         a regular file (not a directory, FIFO, device or socket)
 * @param size            its size in bytes
 * @param modifiedSeconds its modification time, in whole seconds since the epoch
 */
public record FileStatus(boolean regular, long size, long modifiedSeconds) {
}
