/* Minimal MessagePack reading and writing; see mp.h. */
#include "mp.h"

static uint64_t be_get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void be_put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = n; i-- > 0;) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* Reads an n-byte big-endian field at *pos (bounds-checked). */
static int get_field(const uint8_t *buf, size_t len, size_t *pos, unsigned n, uint64_t *out)
{
    if (len - *pos < n) {
        return -1;
    }
    *out = be_get(buf + *pos, n);
    *pos += n;
    return 0;
}

int mp_skip(const uint8_t *buf, size_t len, size_t *pos)
{
    size_t p = *pos;
    if (p > len) {
        return -1;
    }
    /*
     * The values still to skip. Containers add their elements to it, so walking one value
     * needs no stack. Every value takes at least one byte, which bounds pending by the bytes
     * left: checked before each value, it also keeps pending far from overflowing.
     */
    uint64_t pending = 1;
    while (pending > 0) {
        if (pending > len - p) {
            return -1;
        }
        pending--;
        uint8_t t = buf[p++];
        uint64_t skip = 0;  /* payload bytes after the type byte and its length field */
        uint64_t items = 0; /* elements a container adds */
        uint64_t n = 0;
        if (t <= 0x7f || t >= 0xe0) {
            /* positive / negative fixint */
        } else if (t <= 0x8f) {
            items = 2u * (t & 0x0fu);
        } else if (t <= 0x9f) {
            items = t & 0x0fu;
        } else if (t <= 0xbf) {
            skip = t & 0x1fu;
        } else {
            switch (t) {
            case 0xc0: /* nil */
            case 0xc2: /* false */
            case 0xc3: /* true */
                break;
            case 0xc4: /* bin8 */
            case 0xd9: /* str8 */
                if (get_field(buf, len, &p, 1, &n) != 0) return -1;
                skip = n;
                break;
            case 0xc5: /* bin16 */
            case 0xda: /* str16 */
                if (get_field(buf, len, &p, 2, &n) != 0) return -1;
                skip = n;
                break;
            case 0xc6: /* bin32 */
            case 0xdb: /* str32 */
                if (get_field(buf, len, &p, 4, &n) != 0) return -1;
                skip = n;
                break;
            case 0xc7: /* ext8: length, type, data */
                if (get_field(buf, len, &p, 1, &n) != 0) return -1;
                skip = n + 1;
                break;
            case 0xc8: /* ext16 */
                if (get_field(buf, len, &p, 2, &n) != 0) return -1;
                skip = n + 1;
                break;
            case 0xc9: /* ext32 */
                if (get_field(buf, len, &p, 4, &n) != 0) return -1;
                skip = n + 1;
                break;
            case 0xca: skip = 4; break; /* float32 */
            case 0xcb: skip = 8; break; /* float64 */
            case 0xcc: case 0xd0: skip = 1; break; /* uint8, int8 */
            case 0xcd: case 0xd1: skip = 2; break; /* uint16, int16 */
            case 0xce: case 0xd2: skip = 4; break; /* uint32, int32 */
            case 0xcf: case 0xd3: skip = 8; break; /* uint64, int64 */
            case 0xd4: skip = 1 + 1; break;  /* fixext1: type, data */
            case 0xd5: skip = 1 + 2; break;  /* fixext2 */
            case 0xd6: skip = 1 + 4; break;  /* fixext4 */
            case 0xd7: skip = 1 + 8; break;  /* fixext8 */
            case 0xd8: skip = 1 + 16; break; /* fixext16 */
            case 0xdc: /* array16 */
                if (get_field(buf, len, &p, 2, &items) != 0) return -1;
                break;
            case 0xdd: /* array32 */
                if (get_field(buf, len, &p, 4, &items) != 0) return -1;
                break;
            case 0xde: /* map16 */
                if (get_field(buf, len, &p, 2, &n) != 0) return -1;
                items = 2 * n;
                break;
            case 0xdf: /* map32 */
                if (get_field(buf, len, &p, 4, &n) != 0) return -1;
                items = 2 * n;
                break;
            default: /* 0xc1: never used */
                return -1;
            }
        }
        if (skip > len - p) {
            return -1;
        }
        p += (size_t)skip;
        pending += items;
    }
    *pos = p;
    return 0;
}

int mp_read_uint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out)
{
    size_t p = *pos;
    if (p >= len) {
        return -1;
    }
    uint8_t t = buf[p++];
    uint64_t v;
    if (t <= 0x7f) {
        v = t;
    } else if (t >= 0xcc && t <= 0xcf) {
        if (get_field(buf, len, &p, 1u << (t - 0xcc), &v) != 0) {
            return -1;
        }
    } else {
        return -1;
    }
    *out = v;
    *pos = p;
    return 0;
}

static int read_raw(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **data, size_t *n,
                    int allow_bin)
{
    size_t p = *pos;
    if (p >= len) {
        return -1;
    }
    uint8_t t = buf[p++];
    uint64_t size;
    if (t >= 0xa0 && t <= 0xbf) {
        size = t & 0x1fu;
    } else if (t >= 0xd9 && t <= 0xdb) {
        if (get_field(buf, len, &p, 1u << (t - 0xd9), &size) != 0) {
            return -1;
        }
    } else if (allow_bin && t >= 0xc4 && t <= 0xc6) {
        if (get_field(buf, len, &p, 1u << (t - 0xc4), &size) != 0) {
            return -1;
        }
    } else {
        return -1;
    }
    if (size > len - p) {
        return -1;
    }
    *data = buf + p;
    *n = (size_t)size;
    *pos = p + (size_t)size;
    return 0;
}

int mp_read_str(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **data, size_t *n)
{
    return read_raw(buf, len, pos, data, n, 0);
}

int mp_read_raw(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **data, size_t *n)
{
    return read_raw(buf, len, pos, data, n, 1);
}

int mp_read_map_header(const uint8_t *buf, size_t len, size_t *pos, uint32_t *count)
{
    size_t p = *pos;
    if (p >= len) {
        return -1;
    }
    uint8_t t = buf[p++];
    uint64_t n;
    if (t >= 0x80 && t <= 0x8f) {
        n = t & 0x0fu;
    } else if (t == 0xde || t == 0xdf) {
        if (get_field(buf, len, &p, t == 0xde ? 2 : 4, &n) != 0) {
            return -1;
        }
    } else {
        return -1;
    }
    *count = (uint32_t)n;
    *pos = p;
    return 0;
}

size_t mp_uint_len(uint64_t v)
{
    return v <= 0x7f ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffffu ? 5 : 9;
}

size_t mp_put_uint(uint8_t *out, uint64_t v)
{
    size_t n = mp_uint_len(v);
    switch (n) {
    case 1: out[0] = (uint8_t)v; break;
    case 2: out[0] = 0xcc; be_put(out + 1, v, 1); break;
    case 3: out[0] = 0xcd; be_put(out + 1, v, 2); break;
    case 5: out[0] = 0xce; be_put(out + 1, v, 4); break;
    default: out[0] = 0xcf; be_put(out + 1, v, 8); break;
    }
    return n;
}

size_t mp_str_header_len(uint32_t n)
{
    return n <= 31 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : 5;
}

size_t mp_put_str_header(uint8_t *out, uint32_t n)
{
    size_t k = mp_str_header_len(n);
    switch (k) {
    case 1: out[0] = (uint8_t)(0xa0 | n); break;
    case 2: out[0] = 0xd9; be_put(out + 1, n, 1); break;
    case 3: out[0] = 0xda; be_put(out + 1, n, 2); break;
    default: out[0] = 0xdb; be_put(out + 1, n, 4); break;
    }
    return k;
}
