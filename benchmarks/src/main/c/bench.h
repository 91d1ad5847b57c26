/*
 * Shared helpers of the native benchmark programs: clock, careful I/O, option parsing,
 * latency samples. Linux, glibc, C11 + POSIX/GNU extensions.
 */
#ifndef FOLK_BENCH_H
#define FOLK_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Frame payload limit of the Folk pipe protocol (shared/PROTOCOL.md). */
#define FOLK_MAX_PAYLOAD (16u * 1024u * 1024u)

/* Program name used as the prefix of every diagnostic. */
void bench_init(const char *argv0);

/* Set in a forked child that must leave with _exit() (no stdio flush, no atexit). */
void bench_mark_child(void);

/* Prints "prog: message" (plus ": strerror(errno)" if the format ends with ':') and exits 1. */
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);

/* Prints "prog: message" like die() and returns. */
__attribute__((format(printf, 1, 2))) void warnx_(const char *fmt, ...);

/* CLOCK_MONOTONIC in nanoseconds (the same clock in every process of the machine). */
uint64_t now_ns(void);

/* Makes sure fds 0, 1 and 2 are open (on /dev/null if they were closed). */
void ensure_std_fds(void);

/*
 * Reads exactly n bytes. Returns n, or fewer only at end of stream (0 = EOF before the first
 * byte), or -1 with errno set. Retries EINTR.
 */
ssize_t read_full(int fd, void *buf, size_t n);

/* Writes exactly n bytes with write(2). Returns 0 or -1 with errno set. Retries EINTR. */
int write_full(int fd, const void *buf, size_t n);

/*
 * Sends exactly n bytes on a socket with MSG_NOSIGNAL (a gone peer gives EPIPE, not SIGPIPE).
 * Returns 0 or -1 with errno set. Retries EINTR.
 */
int send_full(int fd, const void *buf, size_t n);

/* Closes fd, reporting (not failing on) an error other than EINTR. Ignores fd < 0. */
void close_checked(int fd);

/* Moves fd to a number >= min (close-on-exec), closing the original; dies on failure. */
int fd_at_least(int fd, int min);

/*
 * Starts argv[0] the way a Folk master starts a worker: stdin /dev/null, task_fd and ctrl_fd
 * (both >= 5) at fds 3 and 4, stdout_from (if >= 0) dup'ed onto fd 1, every fd from 5 up
 * closed, its own process group, an empty signal mask and every disposition default. With
 * search_path, a name without '/' is looked up in PATH (posix_spawnp). Returns 0 with *pid
 * set, or the posix_spawn error number; dies if the file actions or attributes fail.
 */
int folk_spawn(pid_t *pid, char **argv, char **envp, int task_fd, int ctrl_fd, int stdout_from,
               int search_path);

/* Big-endian u32 helpers for frame headers. */
uint32_t be32_get(const uint8_t *p);
void be32_put(uint8_t *p, uint32_t v);

/*
 * Strict option parsing: whole string, decimal, within [min, max]. Dies with a message that
 * names the option on anything else.
 */
uint64_t parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max);
double parse_seconds(const char *opt, const char *s, double min, double max);

/* A growable array of latency samples in nanoseconds. */
struct samples {
    uint64_t *v;
    size_t n;
    size_t cap;
};

/* Reserves room for at least cap samples; dies on ENOMEM. */
void samples_reserve(struct samples *s, size_t cap);
/* Appends one sample, growing the array if needed; dies on ENOMEM. */
void samples_push(struct samples *s, uint64_t ns);
void samples_free(struct samples *s);
/* Sorts ascending; call before samples_pct(). */
void samples_sort(struct samples *s);
/* Nearest-rank percentile (0 < p <= 100) of sorted samples, in microseconds; 0 if empty. */
double samples_pct_us(const struct samples *s, double p);
/* Mean in microseconds; 0 if empty. */
double samples_mean_us(const struct samples *s);

#endif
