/*
 * master: a tiny Folk pipe-protocol master in C (shared/PROTOCOL.md), the reference point
 * for the Java pool in the "Java master vs C master" comparison.
 *
 *   master -w workers -n requests_per_worker [-s size] [-W warmup] [-b boot_timeout_s]
 *          [-t exec_timeout_s] [-g grace_s] -- command [args...]
 *
 * For each worker: two AF_UNIX/SOCK_STREAM socket pairs (SOCK_CLOEXEC), the command started
 * with posix_spawnp (PATH lookup, like a shell) with fd 0 = /dev/null, fd 1 = our stderr (the
 * worker's output never mixes with our result line and is drained by whoever reads our
 * stderr), fd 2 = our stderr, fd 3 = task socket, fd 4 = control socket, every other fd
 * closed, in its own process group, with an empty signal mask, default dispositions and
 * FOLK_RUNTIME=pipe FOLK_TASK_FD=3 FOLK_CONTROL_FD=4 added to our environment. All workers
 * are spawned at once, then each must send [2, "control.ready", {"pid": N}] on fd 4 within
 * the boot timeout.
 *
 * Then one thread per worker sends `warmup` untimed and `requests_per_worker` timed requests
 * [0, msgid, "echo", "<size bytes>"] one at a time, timing each round trip with
 * CLOCK_MONOTONIC, and checks every response: a Response, same msgid, nil error, and a
 * str/bin result equal to the payload. The timed loops start together (a barrier).
 *
 * Then it closes its task ends (a Folk worker exits 0 on that), KILLs at once the group of a
 * worker whose requests failed (out of sync or stuck), waits for each worker pid up to the
 * grace (pidfd), KILLs the group of any worker still there (and sweeps the group of each
 * exited leader before reaping it), and reaps each pid with waitpid.
 *
 * Output on success, one line on stdout:
 *   workers=2 size=64 n=200000 rtt_p50_us=... rtt_p99_us=... rtt_mean_us=... rtt_max_us=...
 *   ops_per_s=... elapsed_s=... master_cpu_us_per_op=... worker_cpu_us_per_op=...
 *   ready_ms_p50=... ready_ms_max=... stop_ms=... exit_codes=0,0
 * n is the total of timed round trips; ops_per_s = n / (last end - first start);
 * ready_ms = spawn to control.ready per worker; stop_ms = close of the task ends to the last
 * reap; worker_cpu_us_per_op from /proc/<pid>/stat (10 ms ticks: meaningful for runs of
 * seconds). Exit status 0 only if every request succeeded and every worker exited 0;
 * otherwise the reasons go to stderr and the status is 1 (2 for a usage error).
 */
#define _GNU_SOURCE
#include "bench.h"
#include "mp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_WORKERS 1024
#define READY_MAX_FRAME 256
/* 0x94 0x00, msgid (uint32 at most), fixstr "echo", str header */
#define REQ_HEAD_MAX (2 + 5 + 5 + MP_STR_HEADER_MAX_LEN)

struct worker {
    int idx;
    pid_t pid;
    int task;  /* our end of the task channel */
    int ctrl;  /* our end of the control channel */
    int pidfd; /* -1 if pidfd_open is unavailable */
    uint64_t spawn_ns;
    uint64_t ready_ns;
    uint8_t hs[READY_MAX_FRAME];
    size_t hs_len;
    int ready;
    /* the timed run */
    pthread_t thread;
    uint64_t *samples;
    size_t nsamples;
    uint64_t t_start;
    uint64_t t_end;
    uint64_t thread_cpu_ns;
    long long worker_ticks; /* CPU ticks of the worker during the timed loop; -1 unknown */
    int failed;
    char err[512];
    /* the exit */
    int reaped;
    int status;
};

static struct {
    unsigned workers;
    uint64_t n;
    uint32_t size;
    uint64_t warmup;
    double boot_timeout;
    double exec_timeout;
    double grace;
    const uint8_t *payload;
    pthread_barrier_t start;
} cfg = {.size = 64, .warmup = 1000, .boot_timeout = 10, .exec_timeout = 10, .grace = 5};

static void usage(FILE *out)
{
    fputs("usage: master -w workers -n requests_per_worker [-s size] [-W warmup] [-b boot_timeout_s]\n"
          "              [-t exec_timeout_s] [-g grace_s] -- command [args...]\n"
          "  defaults: -s 64 -W 1000 -b 10 -t 10 -g 5; prints one key=value line\n",
          out);
}

static long long ms_left(uint64_t deadline)
{
    uint64_t now = now_ns();
    return now >= deadline ? 0 : (long long)((deadline - now + 999999) / 1000000);
}

static char **child_env(void)
{
    static const char *const add[] = {"FOLK_RUNTIME=pipe", "FOLK_TASK_FD=3", "FOLK_CONTROL_FD=4"};
    size_t count = 0;
    while (environ[count] != NULL) {
        count++;
    }
    char **env = calloc(count + 4, sizeof *env);
    if (env == NULL) {
        die("cannot allocate the environment");
    }
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        const char *e = environ[i];
        if (strncmp(e, "FOLK_RUNTIME=", 13) == 0 || strncmp(e, "FOLK_TASK_FD=", 13) == 0 ||
            strncmp(e, "FOLK_CONTROL_FD=", 16) == 0) {
            continue;
        }
        env[k++] = environ[i];
    }
    for (size_t i = 0; i < 3; i++) {
        env[k++] = (char *)add[i];
    }
    env[k] = NULL;
    return env;
}

static long pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
    return syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/* Returns 0 with w->pid set, or the posix_spawnp error number. */
static int spawn_worker(struct worker *w, char **argv, char **env)
{
    int task[2], ctrl[2];
    w->spawn_ns = now_ns();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, task) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctrl) != 0) {
        die("socketpair:");
    }
    task[1] = fd_at_least(task[1], 5);
    ctrl[1] = fd_at_least(ctrl[1], 5);

    int rc = folk_spawn(&w->pid, argv, env, task[1], ctrl[1], 2, 1);
    close_checked(task[1]);
    close_checked(ctrl[1]);
    if (rc != 0) {
        close_checked(task[0]);
        close_checked(ctrl[0]);
        return rc;
    }
    w->task = task[0];
    w->ctrl = ctrl[0];
    w->pidfd = (int)pidfd_open_(w->pid);
    if (w->pidfd < 0 && errno != ENOSYS) {
        die("pidfd_open(%ld):", (long)w->pid);
    }
    return 0;
}

static const char *describe_status(int st, char *buf, size_t cap)
{
    if (WIFEXITED(st)) {
        snprintf(buf, cap, "%d", WEXITSTATUS(st));
    } else if (WIFSIGNALED(st)) {
        snprintf(buf, cap, "sig%d", WTERMSIG(st));
    } else {
        snprintf(buf, cap, "status%d", st);
    }
    return buf;
}

/* Reaps w (blocking); records the status. */
static void reap(struct worker *w)
{
    if (w->reaped || w->pid <= 0) {
        return;
    }
    for (;;) {
        pid_t r = waitpid(w->pid, &w->status, 0);
        if (r == w->pid) {
            break;
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        die("waitpid(%ld):", (long)w->pid);
    }
    w->reaped = 1;
}

/* Signals the worker's process group; only while its leader is unreaped (it pins the pgid). */
static void kill_group(struct worker *w, int sig)
{
    if (w->reaped || w->pid <= 0) {
        return;
    }
    if (kill(-w->pid, sig) != 0 && errno != ESRCH) {
        warnx_("kill(-%ld, %d):", (long)w->pid, sig);
    }
}

/* Waits until the worker has exited (not reaped) or the deadline passes; returns 1 if exited. */
static int wait_exited(struct worker *w, uint64_t deadline)
{
    for (;;) {
        if (w->pidfd >= 0) {
            struct pollfd p = {.fd = w->pidfd, .events = POLLIN};
            int r = poll(&p, 1, (int)ms_left(deadline));
            if (r > 0) {
                return 1;
            }
            if (r == 0) {
                return 0;
            }
            if (errno != EINTR) {
                die("poll(pidfd):");
            }
        } else {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            if (waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
                if (errno == EINTR) {
                    continue;
                }
                die("waitid(%ld):", (long)w->pid);
            }
            if (si.si_pid == w->pid) {
                return 1;
            }
            if (now_ns() >= deadline) {
                return 0;
            }
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
}

static void close_worker_fds(struct worker *w)
{
    close_checked(w->task);
    close_checked(w->ctrl);
    close_checked(w->pidfd);
    w->task = w->ctrl = w->pidfd = -1;
}

/* Boot failure or fatal error: KILL every group, reap, close, exit 1. */
static void abort_all(struct worker *ws, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        kill_group(&ws[i], SIGKILL);
    }
    for (unsigned i = 0; i < count; i++) {
        reap(&ws[i]);
        close_worker_fds(&ws[i]);
    }
    exit(1);
}

/* Checks a complete ready frame: [2, "control.ready", {..., "pid": N, ...}]. */
static int check_ready(struct worker *w, const uint8_t *p, size_t len, char *why, size_t cap)
{
    size_t pos = 0;
    const uint8_t *s;
    size_t n;
    uint32_t keys;
    uint64_t pid = 0;
    int have_pid = 0;
    if (len < 2 || p[0] != 0x93 || p[1] != 0x02) {
        snprintf(why, cap, "first control message is not a Notify [2, method, params]");
        return -1;
    }
    pos = 2;
    if (mp_read_str(p, len, &pos, &s, &n) != 0 || n != 13 || memcmp(s, "control.ready", 13) != 0) {
        snprintf(why, cap, "first control message is not control.ready");
        return -1;
    }
    if (mp_read_map_header(p, len, &pos, &keys) != 0) {
        snprintf(why, cap, "control.ready params are not a map");
        return -1;
    }
    for (uint32_t i = 0; i < keys; i++) {
        /* A str key is read (and compared); any other key is skipped. Then its value. */
        int is_pid = mp_read_str(p, len, &pos, &s, &n) == 0 ? n == 3 && memcmp(s, "pid", 3) == 0
                                                             : mp_skip(p, len, &pos) != 0 ? -1 : 0;
        if (is_pid == 1) {
            if (mp_read_uint(p, len, &pos, &pid) != 0) {
                snprintf(why, cap, "control.ready pid is not an unsigned int");
                return -1;
            }
            have_pid = 1;
        } else if (is_pid < 0 || mp_skip(p, len, &pos) != 0) {
            snprintf(why, cap, "malformed control.ready params");
            return -1;
        }
    }
    if (pos != len || !have_pid) {
        snprintf(why, cap, pos != len ? "trailing bytes after control.ready" : "control.ready without a pid");
        return -1;
    }
    if (pid != (uint64_t)w->pid) {
        warnx_("worker %ld announced pid %llu (a wrapper process?)", (long)w->pid, (unsigned long long)pid);
    }
    return 0;
}

/* Waits for every worker's control.ready; aborts everything on a failed boot. */
static void await_ready(struct worker *ws, unsigned count)
{
    uint64_t deadline = now_ns() + (uint64_t)(cfg.boot_timeout * 1e9);
    struct pollfd *pf = calloc(count, sizeof *pf);
    unsigned *map = calloc(count, sizeof *map);
    if (pf == NULL || map == NULL) {
        die("cannot allocate poll set");
    }
    unsigned pending = count;
    char why[256];
    while (pending > 0) {
        nfds_t k = 0;
        for (unsigned i = 0; i < count; i++) {
            if (!ws[i].ready) {
                pf[k].fd = ws[i].ctrl;
                pf[k].events = POLLIN;
                pf[k].revents = 0;
                map[k++] = i;
            }
        }
        long long left = ms_left(deadline);
        int r = left == 0 ? 0 : poll(pf, k, (int)left);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("poll:");
        }
        if (r == 0) {
            for (unsigned i = 0; i < count; i++) {
                if (!ws[i].ready) {
                    warnx_("worker %ld: no control.ready within %g s", (long)ws[i].pid, cfg.boot_timeout);
                }
            }
            free(pf);
            free(map);
            abort_all(ws, count);
        }
        for (nfds_t j = 0; j < k; j++) {
            if (pf[j].revents == 0) {
                continue;
            }
            struct worker *w = &ws[map[j]];
            ssize_t got = recv(w->ctrl, w->hs + w->hs_len, sizeof w->hs - w->hs_len, MSG_DONTWAIT);
            if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
                continue;
            }
            if (got <= 0) {
                int eof = got == 0 || errno == ECONNRESET;
                if (!eof) {
                    warnx_("worker %ld: recv on the control channel:", (long)w->pid);
                }
                /* The worker most likely died: say how, if it has already. */
                char st[32] = "still running";
                if (wait_exited(w, now_ns() + 200000000u)) {
                    reap(w);
                    describe_status(w->status, st, sizeof st);
                }
                warnx_("worker %ld: control channel closed before control.ready (exit: %s)", (long)w->pid,
                       st);
                free(pf);
                free(map);
                abort_all(ws, count);
            }
            w->hs_len += (size_t)got;
            if (w->hs_len < 4) {
                continue;
            }
            uint32_t len = be32_get(w->hs);
            if (len == 0 || len > sizeof w->hs - 4) {
                warnx_("worker %ld: control frame of %u bytes is not a control.ready", (long)w->pid, len);
                free(pf);
                free(map);
                abort_all(ws, count);
            }
            if (w->hs_len < 4 + (size_t)len) {
                continue;
            }
            if (w->hs_len > 4 + (size_t)len) {
                warnx_("worker %ld: more control data after control.ready", (long)w->pid);
                free(pf);
                free(map);
                abort_all(ws, count);
            }
            if (check_ready(w, w->hs + 4, len, why, sizeof why) != 0) {
                warnx_("worker %ld: %s", (long)w->pid, why);
                free(pf);
                free(map);
                abort_all(ws, count);
            }
            w->ready = 1;
            w->ready_ns = now_ns();
            pending--;
        }
    }
    free(pf);
    free(map);
}

/* utime + stime of a process in clock ticks, or -1. */
static long long proc_cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    ssize_t n = read_full(fd, buf, sizeof buf - 1);
    close_checked(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    /* after "comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
        return -1;
    }
    return (long long)(ut + st);
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        die("clock_gettime(CLOCK_THREAD_CPUTIME_ID):");
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Pulls "message" out of an error object for the report; best effort. */
static void describe_error(const uint8_t *p, size_t len, size_t pos, char *out, size_t cap)
{
    uint32_t keys;
    const uint8_t *s;
    size_t n;
    if (mp_read_map_header(p, len, &pos, &keys) == 0) {
        for (uint32_t i = 0; i < keys; i++) {
            if (mp_read_str(p, len, &pos, &s, &n) == 0 && n == 7 && memcmp(s, "message", 7) == 0) {
                if (mp_read_raw(p, len, &pos, &s, &n) == 0) {
                    snprintf(out, cap, "%.*s", (int)(n > 300 ? 300 : n), (const char *)s);
                    return;
                }
                break;
            }
            if (mp_skip(p, len, &pos) != 0) {
                break;
            }
        }
    }
    snprintf(out, cap, "(an error object without a readable message)");
}

__attribute__((format(printf, 2, 3))) static void fail(struct worker *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = snprintf(w->err, sizeof w->err, "worker %ld: ", (long)w->pid);
    if (k > 0 && (size_t)k < sizeof w->err) {
        vsnprintf(w->err + k, sizeof w->err - (size_t)k, fmt, ap);
    }
    va_end(ap);
    w->failed = 1;
}

/*
 * One request/response; returns 0 or -1 after fail(). req has REQ_HEAD_MAX + 4 bytes of
 * room before the payload, which already sits at req + REQ_HEAD_MAX + 4.
 */
static int round_trip(struct worker *w, uint8_t *req, uint8_t *rbuf, size_t rcap, uint32_t msgid)
{
    uint8_t head[REQ_HEAD_MAX];
    size_t h = 0;
    head[h++] = 0x94;
    head[h++] = 0x00;
    h += mp_put_uint(head + h, msgid);
    head[h++] = 0xa4;
    memcpy(head + h, "echo", 4);
    h += 4;
    h += mp_put_str_header(head + h, cfg.size);
    uint8_t *frame = req + REQ_HEAD_MAX - h;
    memcpy(frame + 4, head, h);
    be32_put(frame, (uint32_t)(h + cfg.size));
    if (send_full(w->task, frame, 4 + h + cfg.size) != 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            fail(w, "request %u not taken within %g s (the worker does not read)", msgid, cfg.exec_timeout);
        } else {
            fail(w, "send of request %u failed: %s", msgid, strerror(errno));
        }
        return -1;
    }

    size_t have = 0;
    uint32_t len = 0;
    for (;;) {
        ssize_t k = recv(w->task, rbuf + have, rcap - have, 0);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                fail(w, "no response to request %u within %g s", msgid, cfg.exec_timeout);
            } else {
                fail(w, "recv for request %u failed: %s", msgid, strerror(errno));
            }
            return -1;
        }
        if (k == 0) {
            fail(w, "end of stream on the task channel while waiting for response %u", msgid);
            return -1;
        }
        have += (size_t)k;
        if (have < 4) {
            continue;
        }
        len = be32_get(rbuf);
        if (len == 0 || len > FOLK_MAX_PAYLOAD) {
            fail(w, "protocol error: response frame length %u", len);
            return -1;
        }
        if (len > rcap - 4) {
            fail(w, "response frame of %u bytes to request %u, expected at most %zu", len, msgid, rcap - 4);
            return -1;
        }
        if (have >= 4 + (size_t)len) {
            break;
        }
    }
    if (have > 4 + (size_t)len) {
        fail(w, "protocol error: %zu unsolicited bytes after response %u", have - 4 - len, msgid);
        return -1;
    }

    const uint8_t *p = rbuf + 4;
    size_t pos = 2;
    uint64_t id;
    const uint8_t *data;
    size_t n;
    if (len < 3 || p[0] != 0x94 || p[1] != 0x01 || mp_read_uint(p, len, &pos, &id) != 0) {
        fail(w, "protocol error: response to request %u is not [1, msgid, error, result]", msgid);
        return -1;
    }
    if (id != msgid) {
        fail(w, "protocol error: response msgid %llu does not match request msgid %u", (unsigned long long)id,
             msgid);
        return -1;
    }
    if (pos >= len || p[pos] != 0xc0) {
        char msg[320];
        describe_error(p, len, pos, msg, sizeof msg);
        fail(w, "request %u answered with an error: %s", msgid, msg);
        return -1;
    }
    pos++;
    if (mp_read_raw(p, len, &pos, &data, &n) != 0 || pos != len) {
        fail(w, "protocol error: result of request %u is not a single str/bin", msgid);
        return -1;
    }
    if (n != cfg.size || memcmp(data, cfg.payload, n) != 0) {
        fail(w, "echo mismatch on request %u (%zu bytes back, %u sent)", msgid, n, cfg.size);
        return -1;
    }
    return 0;
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    size_t reqcap = 4 + REQ_HEAD_MAX + cfg.size;
    size_t rcap = 4 + 2 + MP_UINT_MAX_LEN + 1 + MP_STR_HEADER_MAX_LEN + cfg.size + 1024;
    uint8_t *req = malloc(reqcap);
    uint8_t *rbuf = malloc(rcap);
    w->samples = malloc((size_t)cfg.n * sizeof *w->samples);
    if (req == NULL || rbuf == NULL || w->samples == NULL) {
        fail(w, "cannot allocate buffers");
    } else {
        memcpy(req + 4 + REQ_HEAD_MAX, cfg.payload, cfg.size);
    }
    uint32_t msgid = 0;
    for (uint64_t i = 0; i < cfg.warmup && !w->failed; i++) {
        round_trip(w, req, rbuf, rcap, ++msgid);
    }
    /* Every thread reaches the barrier, failed or not, so that none waits forever. */
    int rc = pthread_barrier_wait(&cfg.start);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
        fail(w, "pthread_barrier_wait: %s", strerror(rc));
    }
    if (!w->failed) {
        long long ticks0 = proc_cpu_ticks(w->pid);
        uint64_t cpu0 = thread_cpu_ns();
        uint64_t t = now_ns();
        w->t_start = t;
        for (uint64_t i = 0; i < cfg.n; i++) {
            if (round_trip(w, req, rbuf, rcap, ++msgid) != 0) {
                break;
            }
            uint64_t t1 = now_ns();
            w->samples[w->nsamples++] = t1 - t;
            t = t1;
        }
        w->t_end = t;
        w->thread_cpu_ns = thread_cpu_ns() - cpu0;
        long long ticks1 = proc_cpu_ticks(w->pid);
        w->worker_ticks = ticks0 >= 0 && ticks1 >= 0 ? ticks1 - ticks0 : -1;
    }
    free(req);
    free(rbuf);
    return NULL;
}

static uint8_t *make_payload(uint32_t size)
{
    uint8_t *p = malloc(size > 0 ? size : 1);
    if (p == NULL) {
        die("cannot allocate a %u byte payload", size);
    }
    for (uint32_t i = 0; i < size; i++) {
        p[i] = (uint8_t)('a' + i % 26);
    }
    return p;
}

int main(int argc, char **argv)
{
    bench_init(argv[0]);
    int opt;
    int have_w = 0, have_n = 0;
    while ((opt = getopt(argc, argv, "+w:n:s:W:b:t:g:h")) != -1) {
        switch (opt) {
        case 'w': cfg.workers = (unsigned)parse_u64("-w", optarg, 1, MAX_WORKERS); have_w = 1; break;
        case 'n': cfg.n = parse_u64("-n", optarg, 1, 100000000); have_n = 1; break;
        case 's': cfg.size = (uint32_t)parse_u64("-s", optarg, 0, FOLK_MAX_PAYLOAD - REQ_HEAD_MAX); break;
        case 'W': cfg.warmup = parse_u64("-W", optarg, 0, 100000000); break;
        case 'b': cfg.boot_timeout = parse_seconds("-b", optarg, 0.001, 3600); break;
        case 't': cfg.exec_timeout = parse_seconds("-t", optarg, 0.001, 3600); break;
        case 'g': cfg.grace = parse_seconds("-g", optarg, 0, 3600); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!have_w || !have_n || optind >= argc) {
        usage(stderr);
        return 2;
    }
    if (cfg.n + cfg.warmup > 0xffffffffu) {
        die("-n plus -W must stay below 2^32 (msgids are 32-bit)");
    }
    char **cmd = argv + optind;
    ensure_std_fds();
    char **env = child_env();
    uint8_t *payload = make_payload(cfg.size);
    cfg.payload = payload;

    struct worker *ws = calloc(cfg.workers, sizeof *ws);
    if (ws == NULL) {
        die("cannot allocate workers");
    }
    for (unsigned i = 0; i < cfg.workers; i++) {
        ws[i].idx = (int)i;
        ws[i].task = ws[i].ctrl = ws[i].pidfd = -1;
    }
    for (unsigned i = 0; i < cfg.workers; i++) {
        int rc = spawn_worker(&ws[i], cmd, env);
        if (rc != 0) {
            errno = rc;
            warnx_("cannot spawn \"%s\":", cmd[0]);
            abort_all(ws, i);
        }
    }
    await_ready(ws, cfg.workers);

    /* Send and receive timeouts on each task socket are the exec timeout, at no cost per request. */
    struct timeval tv = {.tv_sec = (time_t)cfg.exec_timeout,
                         .tv_usec = (suseconds_t)((cfg.exec_timeout - (double)(time_t)cfg.exec_timeout) * 1e6)};
    for (unsigned i = 0; i < cfg.workers; i++) {
        if (setsockopt(ws[i].task, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
            setsockopt(ws[i].task, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) {
            warnx_("setsockopt(SO_RCVTIMEO/SO_SNDTIMEO):");
            abort_all(ws, cfg.workers);
        }
    }
    int rc = pthread_barrier_init(&cfg.start, NULL, cfg.workers);
    if (rc != 0) {
        errno = rc;
        warnx_("pthread_barrier_init:");
        abort_all(ws, cfg.workers);
    }
    unsigned started = 0;
    for (; started < cfg.workers; started++) {
        rc = pthread_create(&ws[started].thread, NULL, run_worker, &ws[started]);
        if (rc != 0) {
            /* The barrier counts on every thread: without them all, there is no clean way on. */
            errno = rc;
            warnx_("pthread_create:");
            abort_all(ws, cfg.workers);
        }
    }
    for (unsigned i = 0; i < cfg.workers; i++) {
        rc = pthread_join(ws[i].thread, NULL);
        if (rc != 0) {
            errno = rc;
            die("pthread_join:");
        }
    }
    rc = pthread_barrier_destroy(&cfg.start);
    if (rc != 0) {
        errno = rc;
        warnx_("pthread_barrier_destroy:");
    }

    /* Stop: close the task ends, wait up to the grace, KILL stragglers' groups, reap. */
    uint64_t stop0 = now_ns();
    for (unsigned i = 0; i < cfg.workers; i++) {
        close_checked(ws[i].task);
        ws[i].task = -1;
    }
    uint64_t deadline = stop0 + (uint64_t)(cfg.grace * 1e9);
    int killed = 0;
    for (unsigned i = 0; i < cfg.workers; i++) {
        if (ws[i].failed) {
            kill_group(&ws[i], SIGKILL); /* out of sync or stuck: no grace (its failure is reported) */
        }
    }
    for (unsigned i = 0; i < cfg.workers; i++) {
        if (!wait_exited(&ws[i], deadline)) {
            warnx_("worker %ld did not exit within %g s of end of stream: KILL", (long)ws[i].pid, cfg.grace);
            killed = 1;
        }
        /* Leader exited or not: KILL what is left of its group while the pgid is still pinned. */
        kill_group(&ws[i], SIGKILL);
        reap(&ws[i]);
    }
    uint64_t stop1 = now_ns();
    for (unsigned i = 0; i < cfg.workers; i++) {
        close_worker_fds(&ws[i]);
    }

    int bad = killed;
    struct samples all = {0};
    uint64_t first = UINT64_MAX, last = 0, cpu = 0;
    long long ticks = 0;
    char codes[16 * MAX_WORKERS] = "";
    size_t clen = 0;
    struct samples ready = {0};
    for (unsigned i = 0; i < cfg.workers; i++) {
        struct worker *w = &ws[i];
        if (w->failed) {
            warnx_("%s", w->err);
            bad = 1;
        }
        char st[32];
        describe_status(w->status, st, sizeof st);
        if (!WIFEXITED(w->status) || WEXITSTATUS(w->status) != 0) {
            bad = 1;
        }
        int k = snprintf(codes + clen, sizeof codes - clen, "%s%s", i > 0 ? "," : "", st);
        if (k > 0 && (size_t)k < sizeof codes - clen) {
            clen += (size_t)k;
        }
        samples_reserve(&all, all.n + w->nsamples);
        memcpy(all.v + all.n, w->samples, w->nsamples * sizeof *w->samples);
        all.n += w->nsamples;
        first = w->t_start < first ? w->t_start : first;
        last = w->t_end > last ? w->t_end : last;
        cpu += w->thread_cpu_ns;
        ticks = ticks < 0 || w->worker_ticks < 0 ? -1 : ticks + w->worker_ticks;
        samples_push(&ready, w->ready_ns - w->spawn_ns);
        free(w->samples);
    }
    if (bad) {
        warnx_("failed (worker exit codes: %s)", codes);
        samples_free(&all);
        samples_free(&ready);
        free(ws);
        free(payload);
        free(env);
        return 1;
    }
    samples_sort(&all);
    samples_sort(&ready);
    double elapsed = (double)(last - first) / 1e9;
    long hz = sysconf(_SC_CLK_TCK);
    double worker_cpu = ticks >= 0 && hz > 0 ? (double)ticks * 1e6 / (double)hz / (double)all.n : -1;
    printf("workers=%u size=%u n=%zu rtt_p50_us=%.1f rtt_p99_us=%.1f rtt_mean_us=%.1f rtt_max_us=%.1f "
           "ops_per_s=%.0f elapsed_s=%.3f master_cpu_us_per_op=%.2f worker_cpu_us_per_op=%.2f "
           "ready_ms_p50=%.2f ready_ms_max=%.2f stop_ms=%.2f exit_codes=%s\n",
           cfg.workers, cfg.size, all.n, samples_pct_us(&all, 50), samples_pct_us(&all, 99),
           samples_mean_us(&all), samples_pct_us(&all, 100), elapsed > 0 ? (double)all.n / elapsed : 0,
           elapsed, (double)cpu / 1e3 / (double)all.n, worker_cpu, samples_pct_us(&ready, 50) / 1e3,
           samples_pct_us(&ready, 100) / 1e3, (double)(stop1 - stop0) / 1e6, codes);
    samples_free(&all);
    samples_free(&ready);
    free(ws);
    free(payload);
    free(env);
    if (fflush(stdout) != 0) {
        die("writing the result:");
    }
    return 0;
}
