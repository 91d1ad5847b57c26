/* Shared helpers of the native benchmark programs; see bench.h. */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "bench";
static int in_child;

void bench_init(const char *argv0)
{
    if (argv0 != NULL && argv0[0] != '\0') {
        const char *slash = strrchr(argv0, '/');
        prog = slash != NULL ? slash + 1 : argv0;
    }
}

void bench_mark_child(void)
{
    in_child = 1;
}

/* Appends to line[0..cap) at *off, truncating silently. */
static void vappend(char *line, size_t cap, size_t *off, const char *fmt, va_list ap)
{
    if (*off >= cap) {
        return;
    }
    int k = vsnprintf(line + *off, cap - *off, fmt, ap);
    if (k > 0) {
        *off += (size_t)k < cap - *off ? (size_t)k : cap - *off - 1;
    }
}

__attribute__((format(printf, 4, 5))) static void append(char *line, size_t cap, size_t *off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vappend(line, cap, off, fmt, ap);
    va_end(ap);
}

static void vreport(const char *fmt, va_list ap)
{
    int saved = errno;
    char line[1024];
    size_t cap = sizeof line - 1; /* room for the newline */
    size_t off = 0;
    append(line, cap, &off, "%s[%ld]: ", prog, (long)getpid());
    vappend(line, cap, &off, fmt, ap);
    size_t len = strlen(fmt);
    if (len > 0 && fmt[len - 1] == ':') {
        append(line, cap, &off, " %s", strerror(saved));
    }
    line[off++] = '\n';
    /* One write(2) so that lines of concurrent processes do not interleave. */
    (void)!write(STDERR_FILENO, line, off);
    errno = saved;
}

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    if (in_child) {
        _exit(1);
    }
    exit(1);
}

void warnx_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
}

uint64_t now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        die("clock_gettime(CLOCK_MONOTONIC):");
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ensure_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0) {
            continue;
        }
        if (errno != EBADF) {
            die("fcntl(%d, F_GETFD):", fd);
        }
        /* The lowest free number is fd itself, since every lower one is open. */
        int opened = open("/dev/null", O_RDWR);
        if (opened < 0) {
            die("open(/dev/null):");
        }
        if (opened != fd) {
            close_checked(opened);
            die("could not fill closed fd %d", fd);
        }
    }
}

ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = read(fd, (char *)buf + done, n - done);
        if (k > 0) {
            done += (size_t)k;
        } else if (k == 0) {
            break;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return (ssize_t)done;
}

int write_full(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(fd, (const char *)buf + done, n - done);
        if (k > 0) {
            done += (size_t)k;
        } else if (k == 0) {
            errno = EIO;
            return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

int send_full(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);
        if (k > 0) {
            done += (size_t)k;
        } else if (k == 0) {
            errno = EIO;
            return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

void close_checked(int fd)
{
    if (fd < 0) {
        return;
    }
    /* On Linux the fd is released even when close() fails: never retry it. */
    if (close(fd) != 0 && errno != EINTR) {
        warnx_("close(%d):", fd);
    }
}

int fd_at_least(int fd, int min)
{
    if (fd >= min) {
        return fd;
    }
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, min);
    if (moved < 0) {
        die("fcntl(F_DUPFD_CLOEXEC):");
    }
    close_checked(fd);
    return moved;
}

static void check_spawn(int rc, const char *what)
{
    if (rc != 0) {
        errno = rc;
        die("%s:", what);
    }
}

int folk_spawn(pid_t *pid, char **argv, char **envp, int task_fd, int ctrl_fd, int stdout_from,
               int search_path)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    check_spawn(posix_spawn_file_actions_init(&fa), "posix_spawn_file_actions_init");
    check_spawn(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0), "addopen");
    if (stdout_from >= 0) {
        check_spawn(posix_spawn_file_actions_adddup2(&fa, stdout_from, 1), "adddup2(stdout)");
    }
    check_spawn(posix_spawn_file_actions_adddup2(&fa, task_fd, 3), "adddup2(task, 3)");
    check_spawn(posix_spawn_file_actions_adddup2(&fa, ctrl_fd, 4), "adddup2(control, 4)");
    /* Our own fds are all close-on-exec; this also closes any we inherited without the flag. */
    check_spawn(posix_spawn_file_actions_addclosefrom_np(&fa, 5), "addclosefrom_np");
    check_spawn(posix_spawnattr_init(&attr), "posix_spawnattr_init");
    if (sigemptyset(&none) != 0 || sigfillset(&all) != 0) {
        die("sigset:");
    }
    check_spawn(posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                    POSIX_SPAWN_SETSIGDEF),
                "posix_spawnattr_setflags");
    check_spawn(posix_spawnattr_setpgroup(&attr, 0), "posix_spawnattr_setpgroup");
    check_spawn(posix_spawnattr_setsigmask(&attr, &none), "posix_spawnattr_setsigmask");
    check_spawn(posix_spawnattr_setsigdefault(&attr, &all), "posix_spawnattr_setsigdefault");
    int rc = search_path ? posix_spawnp(pid, argv[0], &fa, &attr, argv, envp)
                         : posix_spawn(pid, argv[0], &fa, &attr, argv, envp);
    check_spawn(posix_spawn_file_actions_destroy(&fa), "posix_spawn_file_actions_destroy");
    check_spawn(posix_spawnattr_destroy(&attr), "posix_spawnattr_destroy");
    return rc;
}

uint32_t be32_get(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint64_t parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        die("%s: expected a number from %llu to %llu, got \"%s\"", opt, (unsigned long long)min,
            (unsigned long long)max, s == NULL ? "" : s);
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        die("%s: expected a number from %llu to %llu, got \"%s\"", opt, (unsigned long long)min,
            (unsigned long long)max, s);
    }
    return (uint64_t)v;
}

double parse_seconds(const char *opt, const char *s, double min, double max)
{
    char *end = NULL;
    errno = 0;
    double v = s == NULL ? NAN : strtod(s, &end);
    if (s == NULL || errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max)) {
        die("%s: expected seconds from %g to %g, got \"%s\"", opt, min, max, s == NULL ? "" : s);
    }
    return v;
}

void samples_reserve(struct samples *s, size_t cap)
{
    if (cap <= s->cap) {
        return;
    }
    if (cap > SIZE_MAX / sizeof *s->v) {
        die("too many samples (%zu)", cap);
    }
    uint64_t *v = realloc(s->v, cap * sizeof *s->v);
    if (v == NULL) {
        die("cannot allocate %zu samples", cap);
    }
    s->v = v;
    s->cap = cap;
}

void samples_push(struct samples *s, uint64_t ns)
{
    if (s->n == s->cap) {
        samples_reserve(s, s->cap < 1024 ? 1024 : s->cap * 2);
    }
    s->v[s->n++] = ns;
}

void samples_free(struct samples *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void samples_sort(struct samples *s)
{
    if (s->n > 1) {
        qsort(s->v, s->n, sizeof *s->v, cmp_u64);
    }
}

double samples_pct_us(const struct samples *s, double p)
{
    if (s->n == 0) {
        return 0.0;
    }
    double rank = ceil(p / 100.0 * (double)s->n);
    size_t i = rank < 1.0 ? 0 : (size_t)rank - 1;
    if (i >= s->n) {
        i = s->n - 1;
    }
    return (double)s->v[i] / 1000.0;
}

double samples_mean_us(const struct samples *s)
{
    if (s->n == 0) {
        return 0.0;
    }
    long double sum = 0;
    for (size_t i = 0; i < s->n; i++) {
        sum += s->v[i];
    }
    return (double)(sum / (long double)s->n / 1000.0L);
}
