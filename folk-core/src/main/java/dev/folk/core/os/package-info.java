/**
 * The native layer: every system call folk-core makes goes through the one small interface
 * {@link dev.folk.core.os.Os} (tests wrap it to count calls), implemented on Linux/glibc by
 * {@link dev.folk.core.os.NativeOs}, which binds libc itself through jnr-ffi.
 *
 * <h2>Why not jnr-posix</h2>
 * folk-core does not depend on jnr-posix. Its 3.2.8 source was checked against what we call:
 * <ul>
 * <li>Its {@code posix_spawnp} returns -1 and drops posix_spawn's return value, which is the only
 *     place the error is reported (posix_spawn does not set errno); its signal-mask and default
 *     attributes throw "not yet supported"; it binds no {@code addclosefrom_np} nor
 *     {@code addchdir_np}. A child spawned that way inherits every descriptor of the JVM.
 * <li>It binds no {@code wait4} (our exit status carries rusage), {@code pipe2} (close-on-exec
 *     atomically), {@code poll}, {@code epoll_*}, {@code eventfd}, {@code send}/{@code recv} with
 *     flags, {@code shutdown} nor {@code prctl}; pidfd calls only through an int-only,
 *     non-variadic {@code syscall}.
 * <li>What it does bind correctly ({@code getpid}, {@code kill}, {@code close}, {@code socketpair},
 *     {@code fcntl}, {@code waitpid}, {@code read}) are one-line calls, reporting errno the same way
 *     ours do (saved after the call, read per thread). Taking those from it would add a second
 *     binding of libc, loaded eagerly in full (its loader asks for {@code LoadNow} over some 170
 *     functions; about 0.6 s measured on first use) and a second errno path, for nothing we lack.
 * </ul>
 * Nor on jnr-unixsocket (which brought jnr-posix in): the workers' sockets are read and written
 * with the calls bound here (see {@code WorkerChannel}).
 */
@NullMarked
package dev.folk.core.os;

import org.jspecify.annotations.NullMarked;
