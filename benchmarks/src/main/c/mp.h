/*
 * The little MessagePack the native benchmark programs need: a validating skipper that walks
 * any value, readers for unsigned ints and strings, and smallest-encoding writers.
 * Written from the MessagePack specification and shared/PROTOCOL.md.
 *
 * Every reader takes the buffer, its length and a cursor; on success it advances the cursor
 * and returns 0; on malformed or truncated input it returns -1 and leaves the cursor alone.
 */
#ifndef FOLK_MP_H
#define FOLK_MP_H

#include <stddef.h>
#include <stdint.h>

/* Largest encodings the writers produce. */
#define MP_UINT_MAX_LEN 9
#define MP_STR_HEADER_MAX_LEN 5

/*
 * Skips one complete value of any type (nested arrays and maps included) starting at *pos.
 * Rejects the never-used byte 0xc1 and any length or element count that runs past len.
 * Iterative: nesting depth costs no stack.
 */
int mp_skip(const uint8_t *buf, size_t len, size_t *pos);

/* Reads a non-negative integer: positive fixint or uint8/16/32/64. */
int mp_read_uint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out);

/* Reads a str (fixstr, str8/16/32): *data points into buf. */
int mp_read_str(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **data, size_t *n);

/* Reads a str or a bin (bin8/16/32): PHP packs binary strings as str. */
int mp_read_raw(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **data, size_t *n);

/* Reads a map header (fixmap, map16, map32). */
int mp_read_map_header(const uint8_t *buf, size_t len, size_t *pos, uint32_t *count);

/* Writes v in its smallest unsigned encoding; returns the bytes written (1..9). */
size_t mp_put_uint(uint8_t *out, uint64_t v);

/* Writes a str header for n bytes in its smallest encoding; returns the bytes written (1..5). */
size_t mp_put_str_header(uint8_t *out, uint32_t n);

/* Bytes mp_put_uint / mp_put_str_header would write. */
size_t mp_uint_len(uint64_t v);
size_t mp_str_header_len(uint32_t n);

#endif
