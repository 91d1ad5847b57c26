/*
 * spawn: the floor of process creation on this machine. Spawns a program with posix_spawn and
 * reaps it with waitpid (that pid only) in a loop, timing each spawn-to-reap with
 * CLOCK_MONOTONIC, and checks that every run exits 0.
 *
 *   spawn [-n iterations] [-w warmup] [-f] [program [args...]]
 *
 *   -n  timed spawns (default 2000)
 *   -w  untimed spawns first (default 100)
 *   -f  "full" mode: do what a pool supervisor does for each worker, inside the timed part:
 *       two AF_UNIX socketpairs (SOCK_CLOEXEC) dup'ed to the child's fds 3 and 4, stdin
 *       /dev/null, every fd from 5 up closed, a new process group, an empty signal mask and
 *       default dispositions; the parent closes all four ends after the spawn.
 *       Without -f ("plain"): posix_spawn with no file actions and no attributes.
 *   program  default: "tiny" in the directory of this executable (build-native.sh puts both
 *       in benchmarks/target/native/). Run as given (posix_spawn, no PATH search).
 *
 * Output, one line on stdout:
 *   mode=plain program=/path/tiny n=2000 spawn_p50_us=... spawn_p99_us=... spawn_mean_us=...
 *   spawn_max_us=... ops_per_s=... elapsed_s=...
 * ops_per_s = n / total time of the timed loop. Exit status 0 on success, 1 on a failure (the
 * reason on stderr), 2 for a usage error.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void usage(FILE *out)
{
    fputs("usage: spawn [-n iterations] [-w warmup] [-f] [program [args...]]\n"
          "  defaults: -n 2000 -w 100, program = tiny next to this executable; prints one key=value line\n",
          out);
}

static void spawn_once(char **argv, int full)
{
    pid_t pid;
    int rc;
    if (!full) {
        rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
        if (rc != 0) {
            errno = rc;
            die("posix_spawn(%s):", argv[0]);
        }
    } else {
        int a[2], b[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) != 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b) != 0) {
            die("socketpair:");
        }
        a[1] = fd_at_least(a[1], 5);
        b[1] = fd_at_least(b[1], 5);
        rc = folk_spawn(&pid, argv, environ, a[1], b[1], -1, 0);
        close_checked(a[0]);
        close_checked(a[1]);
        close_checked(b[0]);
        close_checked(b[1]);
        if (rc != 0) {
            errno = rc;
            die("posix_spawn(%s):", argv[0]);
        }
    }
    int st;
    while (waitpid(pid, &st, 0) != pid) {
        if (errno != EINTR) {
            die("waitpid(%ld):", (long)pid);
        }
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        die("%s exited with %s %d", argv[0], WIFEXITED(st) ? "status" : "signal",
            WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    }
}

int main(int argc, char **argv)
{
    bench_init(argv[0]);
    uint64_t n = 2000, warmup = 100;
    int full = 0, opt;
    while ((opt = getopt(argc, argv, "+n:w:fh")) != -1) {
        switch (opt) {
        case 'n': n = parse_u64("-n", optarg, 1, 100000000); break;
        case 'w': warmup = parse_u64("-w", optarg, 0, 100000000); break;
        case 'f': full = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    ensure_std_fds();

    static char self[PATH_MAX];
    static char tiny[PATH_MAX];
    char *def_argv[] = {tiny, NULL};
    char **child_argv = argv + optind;
    if (optind >= argc) {
        ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
        if (k < 0) {
            die("readlink(/proc/self/exe):");
        }
        if ((size_t)k >= sizeof self - 1) {
            die("path of this executable too long");
        }
        self[k] = '\0';
        char *slash = strrchr(self, '/');
        *(slash != NULL ? slash : self) = '\0';
        int len = snprintf(tiny, sizeof tiny, "%s/tiny", self);
        if (len < 0 || (size_t)len >= sizeof tiny) {
            die("path of tiny too long");
        }
        if (access(tiny, X_OK) != 0) {
            die("%s (build it with benchmarks/scripts/build-native.sh):", tiny);
        }
        child_argv = def_argv;
    }

    for (uint64_t i = 0; i < warmup; i++) {
        spawn_once(child_argv, full);
    }
    struct samples s = {0};
    samples_reserve(&s, n < (1u << 20) ? (size_t)n : 1u << 20); /* grows if needed */
    uint64_t t = now_ns();
    uint64_t start = t;
    for (uint64_t i = 0; i < n; i++) {
        spawn_once(child_argv, full);
        uint64_t t1 = now_ns();
        samples_push(&s, t1 - t);
        t = t1;
    }
    double elapsed = (double)(t - start) / 1e9;
    samples_sort(&s);
    printf("mode=%s program=%s n=%zu spawn_p50_us=%.1f spawn_p99_us=%.1f spawn_mean_us=%.1f spawn_max_us=%.1f "
           "ops_per_s=%.0f elapsed_s=%.3f\n",
           full ? "full" : "plain", child_argv[0], s.n, samples_pct_us(&s, 50), samples_pct_us(&s, 99),
           samples_mean_us(&s), samples_pct_us(&s, 100), elapsed > 0 ? (double)s.n / elapsed : 0, elapsed);
    samples_free(&s);
    if (fflush(stdout) != 0) {
        die("writing the result:");
    }
    return 0;
}
