/*
 * pingpong: the machine's floor for a request/response over a Unix socket. A parent and a
 * forked child exchange a fixed-size message over an AF_UNIX/SOCK_STREAM socketpair: the
 * parent sends `size` bytes and waits for the child to send them back, timing every round
 * trip with CLOCK_MONOTONIC.
 *
 *   pingpong [-n iterations] [-s size] [-p pairs] [-d seconds] [-w warmup] [-a]
 *
 *   -n  timed round trips per pair (default 100000; with -d and no -n: unlimited)
 *   -s  message size in bytes (default 64)
 *   -p  independent parent/child pairs run at the same time, each pair its own two forked
 *       processes (default 1)
 *   -d  stop each pair after this many seconds (whichever of -n and -d comes first)
 *   -w  untimed round trips per pair before the start (default 1000)
 *   -a  pin pair i (both its processes) to CPU i modulo the CPUs we may use. Unpinned, the
 *       scheduler decides whether the two ends of a pair share a core (cheap same-core
 *       switches) or not (cross-core wake-ups), and with several pairs the result can jump
 *       between two levels from run to run; pinned, it is the same-core figure every time.
 *
 * Output, one line on stdout:
 *   pairs=1 pinned=0 size=64 n=100000 rtt_p50_us=... rtt_p99_us=... rtt_mean_us=... rtt_min_us=...
 *   rtt_max_us=... ops_per_s=... elapsed_s=...
 * n is the total of timed round trips over all pairs, the percentiles are over all of them,
 * and ops_per_s = n / (last pair's end - first pair's start). The pairs warm up, then start
 * together (a shared pipe closed by the top process).
 *
 * Processes: the top process forks one "measurer" per pair; each measurer forks its "echoer"
 * child. A measurer hands its samples back to the top through a pipe. Exit status 0 on
 * success, 1 if any process failed (the reason on stderr), 2 for a usage error.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PAIRS 256

struct result_head {
    uint64_t count;
    uint64_t t_start;
    uint64_t t_end;
};

static struct {
    uint64_t n;
    uint64_t warmup;
    size_t size;
    unsigned pairs;
    double seconds;
    int pin;
} cfg = {.n = 100000, .warmup = 1000, .size = 64, .pairs = 1};

static void usage(FILE *out)
{
    fputs("usage: pingpong [-n iterations] [-s size] [-p pairs] [-d seconds] [-w warmup] [-a]\n"
          "  defaults: -n 100000 -s 64 -p 1 -w 1000; prints one key=value line\n",
          out);
}

/* The echoer: sends back every `size` bytes it receives; exits 0 at end of stream. */
__attribute__((noreturn)) static void echo_loop(int fd)
{
    uint8_t *buf = malloc(cfg.size);
    if (buf == NULL) {
        die("cannot allocate %zu bytes", cfg.size);
    }
    for (;;) {
        ssize_t got = read_full(fd, buf, cfg.size);
        if (got == 0) {
            break;
        }
        if (got < 0) {
            die("echoer: read:");
        }
        if ((size_t)got < cfg.size) {
            die("echoer: end of stream inside a message (%zd of %zu bytes)", got, cfg.size);
        }
        if (send_full(fd, buf, cfg.size) != 0) {
            die("echoer: send:");
        }
    }
    free(buf);
    close_checked(fd);
    _exit(0);
}

static void reap_child(pid_t pid, const char *what)
{
    int st;
    while (waitpid(pid, &st, 0) != pid) {
        if (errno != EINTR) {
            die("waitpid(%s %ld):", what, (long)pid);
        }
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        die("%s %ld failed (%s %d)", what, (long)pid, WIFEXITED(st) ? "exit" : "signal",
            WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    }
}

/* One round trip; the first bytes carry a counter that must come back unchanged. */
static void round_trip(int fd, uint8_t *out, uint8_t *in, uint64_t counter)
{
    size_t stamp = cfg.size < sizeof counter ? cfg.size : sizeof counter;
    memcpy(out, &counter, stamp);
    if (send_full(fd, out, cfg.size) != 0) {
        die("measurer: send:");
    }
    ssize_t got = read_full(fd, in, cfg.size);
    if (got < 0) {
        die("measurer: read:");
    }
    if ((size_t)got != cfg.size) {
        die("measurer: echoer closed the socket (%zd of %zu bytes)", got, cfg.size);
    }
    if (memcmp(in, out, stamp) != 0) {
        die("measurer: the echo does not match round trip %llu", (unsigned long long)counter);
    }
}

/* Pins the calling process to the index-th CPU of its allowed set (inherited by fork). */
static void pin_to(unsigned index)
{
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        die("sched_getaffinity:");
    }
    int count = CPU_COUNT(&allowed);
    if (count <= 0) {
        die("no CPU in the affinity mask");
    }
    unsigned want = index % (unsigned)count;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &allowed) && want-- == 0) {
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            if (sched_setaffinity(0, sizeof one, &one) != 0) {
                die("sched_setaffinity(%d):", cpu);
            }
            return;
        }
    }
}

/* A measurer: forks its echoer, warms up, signals ready, waits for go, measures, reports. */
__attribute__((noreturn)) static void measure(unsigned index, int go_r, int ready_w, int result_w)
{
    if (cfg.pin) {
        pin_to(index);
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        die("socketpair:");
    }
    pid_t child = fork();
    if (child < 0) {
        die("fork:");
    }
    if (child == 0) {
        close_checked(sv[0]);
        close_checked(go_r);
        close_checked(ready_w);
        close_checked(result_w);
        echo_loop(sv[1]);
    }
    close_checked(sv[1]);
    int fd = sv[0];

    uint8_t *out = calloc(1, cfg.size);
    uint8_t *in = malloc(cfg.size);
    struct samples s = {0};
    if (out == NULL || in == NULL) {
        die("cannot allocate %zu bytes", cfg.size);
    }
    for (size_t i = 0; i < cfg.size; i++) {
        out[i] = (uint8_t)('a' + i % 26);
    }
    uint64_t counter = 0;
    for (uint64_t i = 0; i < cfg.warmup; i++) {
        round_trip(fd, out, in, ++counter);
    }
    samples_reserve(&s, cfg.n < (1u << 22) ? (size_t)cfg.n : 1u << 22); /* grows if needed */

    /* Ready; then the top closes the go pipe: end of stream is the start signal. */
    if (write_full(ready_w, "r", 1) != 0) {
        die("measurer: write(ready):");
    }
    close_checked(ready_w);
    char c;
    ssize_t r = read_full(go_r, &c, 1);
    if (r != 0) {
        die(r < 0 ? "measurer: read(go):" : "measurer: unexpected byte on the go pipe");
    }
    close_checked(go_r);

    uint64_t t = now_ns();
    uint64_t deadline = cfg.seconds > 0 ? t + (uint64_t)(cfg.seconds * 1e9) : UINT64_MAX;
    struct result_head head = {.t_start = t};
    for (uint64_t i = 0; i < cfg.n && t < deadline; i++) {
        round_trip(fd, out, in, ++counter);
        uint64_t t1 = now_ns();
        samples_push(&s, t1 - t);
        t = t1;
    }
    head.t_end = t;
    head.count = s.n;

    close_checked(fd); /* end of stream: the echoer exits 0 */
    reap_child(child, "echoer");
    if (write_full(result_w, &head, sizeof head) != 0 ||
        write_full(result_w, s.v, s.n * sizeof *s.v) != 0) {
        die("measurer: write(results):");
    }
    close_checked(result_w);
    samples_free(&s);
    free(out);
    free(in);
    _exit(0);
}

int main(int argc, char **argv)
{
    bench_init(argv[0]);
    int opt, have_n = 0;
    while ((opt = getopt(argc, argv, "n:s:p:d:w:ah")) != -1) {
        switch (opt) {
        case 'n': cfg.n = parse_u64("-n", optarg, 1, 1000000000); have_n = 1; break;
        case 's': cfg.size = (size_t)parse_u64("-s", optarg, 1, 64u << 20); break;
        case 'p': cfg.pairs = (unsigned)parse_u64("-p", optarg, 1, MAX_PAIRS); break;
        case 'd': cfg.seconds = parse_seconds("-d", optarg, 0.001, 86400); break;
        case 'w': cfg.warmup = parse_u64("-w", optarg, 0, 1000000000); break;
        case 'a': cfg.pin = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (cfg.seconds > 0 && !have_n) {
        cfg.n = UINT64_MAX;
    }
    ensure_std_fds();

    int go[2], ready[2];
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0) {
        die("pipe2:");
    }
    pid_t pids[MAX_PAIRS];
    int results[MAX_PAIRS];
    if (fflush(NULL) != 0) {
        die("fflush:");
    }
    for (unsigned i = 0; i < cfg.pairs; i++) {
        int res[2];
        if (pipe2(res, O_CLOEXEC) != 0) {
            die("pipe2:");
        }
        pid_t pid = fork();
        if (pid < 0) {
            die("fork:");
        }
        if (pid == 0) {
            bench_mark_child();
            close_checked(go[1]);
            close_checked(ready[0]);
            close_checked(res[0]);
            for (unsigned j = 0; j < i; j++) {
                close_checked(results[j]);
            }
            measure(i, go[0], ready[1], res[1]);
        }
        close_checked(res[1]);
        pids[i] = pid;
        results[i] = res[0];
    }
    close_checked(go[0]);
    close_checked(ready[1]);

    /* Wait for every pair to be warm, then start them all at once. */
    for (unsigned i = 0; i < cfg.pairs; i++) {
        char c;
        ssize_t r = read_full(ready[0], &c, 1);
        if (r != 1) {
            if (r < 0) {
                warnx_("read(ready):");
            } else {
                warnx_("a pair failed before the start");
            }
            for (unsigned j = 0; j < cfg.pairs; j++) {
                if (kill(pids[j], SIGKILL) != 0 && errno != ESRCH) {
                    warnx_("kill(%ld):", (long)pids[j]);
                }
            }
            for (unsigned j = 0; j < cfg.pairs; j++) {
                int st;
                while (waitpid(pids[j], &st, 0) < 0 && errno == EINTR) {
                }
            }
            return 1;
        }
    }
    close_checked(ready[0]);
    close_checked(go[1]);

    struct samples all = {0};
    uint64_t first = UINT64_MAX, last = 0;
    int failed = 0;
    for (unsigned i = 0; i < cfg.pairs; i++) {
        struct result_head head;
        ssize_t r = read_full(results[i], &head, sizeof head);
        if (r != (ssize_t)sizeof head) {
            failed = 1; /* the measurer said why on stderr */
        } else {
            if (head.count > (SIZE_MAX - all.n) / sizeof(uint64_t)) {
                die("implausible sample count %llu", (unsigned long long)head.count);
            }
            samples_reserve(&all, all.n + (size_t)head.count);
            size_t bytes = (size_t)head.count * sizeof(uint64_t);
            r = read_full(results[i], all.v + all.n, bytes);
            if (r != (ssize_t)bytes) {
                failed = 1;
            } else {
                all.n += (size_t)head.count;
                first = head.t_start < first ? head.t_start : first;
                last = head.t_end > last ? head.t_end : last;
            }
        }
        if (r < 0) {
            warnx_("read(results):");
        }
        close_checked(results[i]);
    }
    for (unsigned i = 0; i < cfg.pairs; i++) {
        int st;
        while (waitpid(pids[i], &st, 0) != pids[i]) {
            if (errno != EINTR) {
                die("waitpid(%ld):", (long)pids[i]);
            }
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            failed = 1;
        }
    }
    if (failed || all.n == 0) {
        warnx_("failed");
        samples_free(&all);
        return 1;
    }
    samples_sort(&all);
    double elapsed = (double)(last - first) / 1e9;
    printf("pairs=%u pinned=%d size=%zu n=%zu rtt_p50_us=%.1f rtt_p99_us=%.1f rtt_mean_us=%.1f rtt_min_us=%.1f "
           "rtt_max_us=%.1f ops_per_s=%.0f elapsed_s=%.3f\n",
           cfg.pairs, cfg.pin, cfg.size, all.n, samples_pct_us(&all, 50), samples_pct_us(&all, 99), samples_mean_us(&all),
           (double)all.v[0] / 1e3, samples_pct_us(&all, 100), elapsed > 0 ? (double)all.n / elapsed : 0, elapsed);
    samples_free(&all);
    if (fflush(stdout) != 0) {
        die("writing the result:");
    }
    return 0;
}
