/*
 * echo-worker: a Folk pipe-protocol worker in C (shared/PROTOCOL.md), the fastest possible
 * peer for benchmarking a master.
 *
 *   started by a master with fd 3 = task socket and fd 4 = control socket:
 *   echo-worker        (no arguments; -h prints this usage)
 *
 * - Checks that fds 3 and 4 are two different sockets, then sends the handshake
 *   [2, "control.ready", {"pid": <pid>}] on fd 4 and never touches fd 4 again.
 * - Loop: reads one frame ([u32 big-endian length][payload], 1..16 MiB) from fd 3, expects a
 *   Request [0, msgid, method, params] (msgid: unsigned 32-bit int; method: str; params: any
 *   value, validated by walking it), and answers on fd 3:
 *     method "echo":  [1, msgid, nil, params], params copied byte for byte;
 *     anything else:  [1, msgid, {"code": -32601, "message": "method not found: <method>"}, nil],
 *   as a Folk PHP worker with only the built-in methods would.
 * - Exit codes (those of folk-worker-php): 0 end of stream on fd 3 at a frame boundary (or the
 *   master went away: ECONNRESET, EPIPE); 1 set-up or I/O failure; 2 protocol error (zero or
 *   oversized frame length, stream ending inside a frame, malformed MessagePack, not a Request,
 *   trailing bytes). The reason goes to stderr; nothing is ever written to stdout.
 *
 * Input is read in large chunks and parsed in place, so a request usually costs one recv()
 * and one send(). The echo reply is assembled in the same buffer right in front of the params
 * (the reply is never longer than the request), so params are never copied.
 */
#define _GNU_SOURCE
#include "bench.h"
#include "mp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define TASK_FD 3
#define CONTROL_FD 4
#define EXIT_OK 0
#define EXIT_SETUP 1
#define EXIT_PROTOCOL 2
#define INITIAL_BUFFER (64u * 1024u)

static void usage(FILE *out)
{
    fputs("usage: echo-worker   (started by a Folk master: fd 3 = task socket, fd 4 = control socket)\n"
          "  answers [0,msgid,\"echo\",params] with [1,msgid,nil,params]; exit 0 on EOF of fd 3,\n"
          "  1 on a set-up or I/O failure, 2 on a protocol error\n",
          out);
}

/* Leaves with code, the message (if any error) on stderr. */
__attribute__((noreturn, format(printf, 2, 3))) static void leave(int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (code != EXIT_OK) {
        warnx_("%s", msg);
    }
    exit(code);
}

static void check_channels(void)
{
    struct stat st[2];
    const int fds[2] = {TASK_FD, CONTROL_FD};
    const char *names[2] = {"task channel (fd 3)", "control channel (fd 4)"};
    for (int i = 0; i < 2; i++) {
        if (fstat(fds[i], &st[i]) != 0) {
            leave(EXIT_SETUP, "%s is not open (%s); this worker must be started by a Folk master "
                              "that passes socket pairs at fds 3 and 4",
                  names[i], strerror(errno));
        }
        if (!S_ISSOCK(st[i].st_mode)) {
            leave(EXIT_SETUP, "%s is not a socket; refusing to touch it", names[i]);
        }
    }
    if (st[0].st_dev == st[1].st_dev && st[0].st_ino == st[1].st_ino) {
        leave(EXIT_SETUP, "fds 3 and 4 are the same socket");
    }
}

static void send_ready(void)
{
    /* [2, "control.ready", {"pid": <pid>}] */
    static const uint8_t head[] = {0x93, 0x02, 0xad, 'c', 'o', 'n', 't', 'r', 'o', 'l', '.', 'r', 'e',
                                   'a', 'd', 'y', 0x81, 0xa3, 'p', 'i', 'd'};
    uint8_t frame[4 + sizeof head + MP_UINT_MAX_LEN];
    memcpy(frame + 4, head, sizeof head);
    size_t len = sizeof head + mp_put_uint(frame + 4 + sizeof head, (uint64_t)getpid());
    be32_put(frame, (uint32_t)len);
    if (send_full(CONTROL_FD, frame, 4 + len) != 0) {
        leave(EXIT_SETUP, "handshake on the control channel (fd 4) failed: %s", strerror(errno));
    }
}

/* The input buffer: bytes [start, end) are received and not yet consumed. */
struct inbuf {
    uint8_t *data;
    size_t cap;
    size_t start;
    size_t end;
};

static int peer_gone(int err)
{
    return err == ECONNRESET || err == EPIPE;
}

/* Receives more bytes into the buffer; returns the count, 0 at end of stream. */
static size_t fill(struct inbuf *b)
{
    for (;;) {
        ssize_t k = recv(TASK_FD, b->data + b->end, b->cap - b->end, 0);
        if (k >= 0) {
            b->end += (size_t)k;
            return (size_t)k;
        }
        if (errno == EINTR) {
            continue;
        }
        if (peer_gone(errno)) {
            return 0; /* the master is gone: same as end of stream */
        }
        leave(EXIT_SETUP, "recv on the task channel (fd 3) failed: %s", strerror(errno));
    }
}

/* Makes room for need bytes from b->start, moving or growing the buffer. */
static void reserve(struct inbuf *b, size_t need)
{
    if (b->cap - b->start >= need) {
        return;
    }
    size_t have = b->end - b->start;
    if (b->start > 0) {
        memmove(b->data, b->data + b->start, have);
        b->start = 0;
        b->end = have;
    }
    if (b->cap < need) {
        uint8_t *p = realloc(b->data, need);
        if (p == NULL) {
            leave(EXIT_SETUP, "cannot allocate %zu bytes for a frame", need);
        }
        b->data = p;
        b->cap = need;
    }
}

/*
 * Reads the next frame. Returns 0 with *payload at b->start + 4 and *len set, or -1 at end of
 * stream on a frame boundary. The frame stays in the buffer until the caller consumes it.
 */
static int read_frame(struct inbuf *b, uint8_t **payload, size_t *len)
{
    if (b->start == b->end) {
        b->start = b->end = 0; /* nothing pending: reuse the buffer from its beginning */
    }
    reserve(b, 4);
    while (b->end - b->start < 4) {
        if (fill(b) == 0) {
            if (b->end == b->start) {
                return -1;
            }
            leave(EXIT_PROTOCOL, "protocol error: end of stream inside a frame header");
        }
    }
    uint32_t n = be32_get(b->data + b->start);
    if (n == 0) {
        leave(EXIT_PROTOCOL, "protocol error: zero-length frame");
    }
    if (n > FOLK_MAX_PAYLOAD) {
        leave(EXIT_PROTOCOL, "protocol error: frame of %u bytes exceeds the %u byte limit", n,
              FOLK_MAX_PAYLOAD);
    }
    reserve(b, 4 + (size_t)n);
    while (b->end - b->start < 4 + (size_t)n) {
        size_t before = b->end - b->start - 4;
        if (fill(b) == 0) {
            leave(EXIT_PROTOCOL, "protocol error: end of stream after %zu of %u payload bytes", before,
                  n);
        }
    }
    *payload = b->data + b->start + 4;
    *len = n;
    return 0;
}

/* Sends a reply; returns 0, or -1 if the master is gone. */
static int send_reply(const uint8_t *frame, size_t n)
{
    if (send_full(TASK_FD, frame, n) == 0) {
        return 0;
    }
    if (peer_gone(errno)) {
        return -1;
    }
    leave(EXIT_SETUP, "send on the task channel (fd 3) failed: %s", strerror(errno));
}

/* Builds [1, msgid, {"code": -32601, "message": "method not found: <m>"}, nil] into a new buffer. */
static uint8_t *not_found_reply(uint64_t msgid, const uint8_t *method, size_t mlen, size_t *out_len)
{
    static const char prefix[] = "method not found: ";
    size_t text = sizeof prefix - 1 + mlen; /* mlen <= 16 MiB: fits a str32 */
    size_t cap = 4 + 2 + MP_UINT_MAX_LEN + 32 + MP_STR_HEADER_MAX_LEN + text + 1;
    uint8_t *f = malloc(cap);
    if (f == NULL) {
        leave(EXIT_SETUP, "cannot allocate %zu bytes for an error reply", cap);
    }
    size_t p = 4;
    f[p++] = 0x94;
    f[p++] = 0x01;
    p += mp_put_uint(f + p, msgid);
    static const uint8_t map_head[] = {0x82, 0xa4, 'c', 'o', 'd', 'e', 0xd1, 0x80, 0xa7,
                                       0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e'};
    memcpy(f + p, map_head, sizeof map_head);
    p += sizeof map_head;
    p += mp_put_str_header(f + p, (uint32_t)text);
    memcpy(f + p, prefix, sizeof prefix - 1);
    p += sizeof prefix - 1;
    memcpy(f + p, method, mlen);
    p += mlen;
    f[p++] = 0xc0;
    be32_put(f, (uint32_t)(p - 4));
    *out_len = p;
    return f;
}

int main(int argc, char **argv)
{
    bench_init(argc > 0 ? argv[0] : "echo-worker");
    if (argc > 1) {
        int help = strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0;
        usage(help ? stdout : stderr);
        return help ? EXIT_OK : EXIT_SETUP;
    }
    check_channels();
    send_ready();

    struct inbuf b = {.data = malloc(INITIAL_BUFFER), .cap = INITIAL_BUFFER};
    if (b.data == NULL) {
        leave(EXIT_SETUP, "cannot allocate the input buffer");
    }
    uint8_t *req;
    size_t len;
    while (read_frame(&b, &req, &len) == 0) {
        size_t pos = 0;
        uint64_t msgid;
        const uint8_t *method;
        size_t mlen;
        if (len < 2 || req[0] != 0x94 || req[1] != 0x00) {
            leave(EXIT_PROTOCOL, "protocol error: expected a Request [0, msgid, method, params], "
                                 "payload starts with %02x %02x",
                  req[0], len > 1 ? req[1] : 0);
        }
        pos = 2;
        if (mp_read_uint(req, len, &pos, &msgid) != 0 || msgid > 0xffffffffu) {
            leave(EXIT_PROTOCOL, "protocol error: request msgid is not an unsigned 32-bit int");
        }
        if (mp_read_str(req, len, &pos, &method, &mlen) != 0) {
            leave(EXIT_PROTOCOL, "protocol error: request method is not a str");
        }
        size_t params = pos;
        if (mp_skip(req, len, &pos) != 0) {
            leave(EXIT_PROTOCOL, "protocol error: malformed or truncated params (msgid %llu)",
                  (unsigned long long)msgid);
        }
        if (pos != len) {
            leave(EXIT_PROTOCOL, "protocol error: %zu trailing bytes after the request (msgid %llu)",
                  len - pos, (unsigned long long)msgid);
        }
        int sent;
        if (mlen == 4 && memcmp(method, "echo", 4) == 0) {
            /*
             * [1, msgid, nil, params] ends where the request ends: build its header in place,
             * in front of the params. It fits: the request spent 2 bytes on 0x94 0x00, at least
             * as many on msgid as the smallest encoding needs, and at least 1 on the method;
             * the reply spends 2 + the smallest msgid + 1 (nil), and 4 more for the length
             * header, which sit where the request's own length header was.
             */
            size_t head = 2 + mp_uint_len(msgid) + 1;
            uint8_t *out = req + params - head;
            out[0] = 0x94;
            out[1] = 0x01;
            size_t k = mp_put_uint(out + 2, msgid);
            out[2 + k] = 0xc0;
            size_t payload_len = head + (len - params);
            be32_put(out - 4, (uint32_t)payload_len);
            sent = send_reply(out - 4, 4 + payload_len);
        } else {
            size_t n;
            uint8_t *reply = not_found_reply(msgid, method, mlen, &n);
            sent = send_reply(reply, n);
            free(reply);
        }
        if (sent != 0) {
            break; /* the master is gone */
        }
        b.start += 4 + len;
    }
    free(b.data);
    return EXIT_OK;
}
