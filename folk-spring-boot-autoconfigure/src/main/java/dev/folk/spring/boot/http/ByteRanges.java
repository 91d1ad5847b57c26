package dev.folk.spring.boot.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;

import org.jspecify.annotations.Nullable;

/**
 * The byte ranges a {@code Range} header asks of a file, read as nginx reads them (its range
 * filter, with the default {@code max_ranges}), and the {@code multipart/byteranges} body of
 * several.
 *
 * <p>What nginx does and RFC 9110 leaves open: a value after {@code bytes=} that is no valid range
 * set is a 416, not ignored; ranges past the end are dropped, and if none is left, a 416; ranges
 * that together ask for more than the file (overlapping ones) get the whole file, as does a
 * range of an empty file; several ranges are answered in the order asked, each as asked.
 */
final class ByteRanges {

    private ByteRanges() {
    }

    /**
     * The ranges {@code header} asks of a file of {@code size} bytes: pairs of start and end
     * (exclusive); an empty array if none can be given (416); null for the whole file (no header,
     * another unit, overlapping ranges).
     */
    static long @Nullable [] parse(@Nullable String header, long size) {
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "bytes=", 0, 6)) {
            return null;
        }
        long[] ranges = new long[4];
        int count = 0;
        long total = 0;
        int p = 6;
        int n = header.length();
        while (true) {
            p = spaces(header, p);
            long start;
            long end;
            if (p < n && header.charAt(p) == '-') { // the last bytes
                int digits = p + 1;
                p = number(header, digits);
                if (p == digits) {
                    return new long[0];
                }
                long suffix = parseNumber(header, digits, p);
                p = spaces(header, p);
                if (suffix < 0 || p < n && header.charAt(p) != ',') {
                    return new long[0];
                }
                start = suffix < size ? size - suffix : 0;
                end = size;
            } else {
                int digits = p;
                p = number(header, digits);
                start = parseNumber(header, digits, p);
                if (p == digits || start < 0) {
                    return new long[0];
                }
                p = spaces(header, p);
                if (p >= n || header.charAt(p) != '-') {
                    return new long[0];
                }
                p = spaces(header, p + 1);
                if (p == n || header.charAt(p) == ',') {
                    end = size;
                } else {
                    int lastDigits = p;
                    p = number(header, lastDigits);
                    long last = parseNumber(header, lastDigits, p);
                    p = spaces(header, p);
                    if (p == lastDigits || last < 0 || p < n && header.charAt(p) != ',') {
                        return new long[0];
                    }
                    end = last >= size ? size : last + 1;
                }
            }
            if (start < end) {
                if (count == ranges.length) {
                    ranges = Arrays.copyOf(ranges, count * 2);
                }
                ranges[count++] = start;
                ranges[count++] = end;
                total += end - start;
                if (total < 0) { // past Long.MAX_VALUE
                    return new long[0];
                }
            } else if (start == 0) {
                return null;
            }
            if (p >= n) {
                break;
            }
            p++; // the comma
        }
        if (count == 0) {
            return new long[0];
        }
        return total > size ? null : Arrays.copyOf(ranges, count);
    }

    private static int spaces(String s, int p) {
        while (p < s.length() && s.charAt(p) == ' ') {
            p++;
        }
        return p;
    }

    private static int number(String s, int p) {
        while (p < s.length() && s.charAt(p) >= '0' && s.charAt(p) <= '9') {
            p++;
        }
        return p;
    }

    /** The decimal number in [from, to); -1 if it does not fit a long. */
    private static long parseNumber(String s, int from, int to) {
        long value = 0;
        for (int i = from; i < to; i++) {
            int digit = s.charAt(i) - '0';
            if (value > (Long.MAX_VALUE - digit) / 10) {
                return -1;
            }
            value = value * 10 + digit;
        }
        return value;
    }

    /** A boundary of nginx's form (20 digits), drawn at random: a file holding it would break its parts. */
    static String boundary() {
        return String.format("%020d", ThreadLocalRandom.current().nextLong(Long.MAX_VALUE));
    }

    /** The body of the whole file. */
    static Body whole(long size) {
        return new Body(new long[] {0, size}, null, null);
    }

    /**
     * The {@code multipart/byteranges} body of several ranges (RFC 9110 14.6), laid out as nginx lays
     * it out: each part's header after a CRLF, the closing delimiter and a CRLF at the end.
     */
    static Body multipart(long[] ranges, long size, String type, String boundary) {
        byte[][] heads = new byte[ranges.length / 2][];
        for (int i = 0; i < ranges.length; i += 2) {
            heads[i / 2] = ("\r\n--" + boundary + "\r\nContent-Type: " + type + "\r\nContent-Range: bytes " + ranges[i] + '-'
                    + (ranges[i + 1] - 1) + '/' + size + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        }
        return new Body(ranges, heads, ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
    }

    /**
     * What goes out after the headers: the file's bytes of each range (start, end exclusive), each
     * after its head if there are heads, then the tail if any.
     */
    record Body(long[] ranges, byte @Nullable [][] heads, byte @Nullable [] tail) {

        long length() {
            long length = tail != null ? tail.length : 0;
            for (int i = 0; i < ranges.length; i += 2) {
                length += ranges[i + 1] - ranges[i] + (heads != null ? heads[i / 2].length : 0);
            }
            return length;
        }

        /** The head written before range {@code i} (empty if none). */
        byte[] head(int i) {
            return heads != null ? heads[i] : new byte[0];
        }
    }
}
