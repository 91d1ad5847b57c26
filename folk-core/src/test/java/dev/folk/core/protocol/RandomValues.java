package dev.folk.core.protocol;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Seeded generators for property tests: nested values of every type the codec maps, byte
 * strings that are often but not always valid UTF-8, and plausible message prefixes. A seed
 * fully determines the output, so a failing case is reproduced from the seed in the message.
 */
final class RandomValues {

    private static final String[] NASTY_UTF8 = {"c0 80", "ed a0 80", "f4 90 80 80", "e2 82", "80", "ff",
            "f0 9f 98 80", "ef bf bf"};
    private static final String[] MESSAGE_HEADS = {"94 00 01 a1 6d", "94 01 01 c0", "94 01 01", "93 02 a1 6d",
            "94 00 ce ff ff ff ff a0"};

    private final Random random;

    private boolean nullKeys = true;

    RandomValues(long seed) {
        this.random = new Random(seed);
    }

    Random random() {
        return random;
    }

    /** A value nested up to three levels: maps, lists, strings, bytes, longs, doubles, booleans, null. */
    Object value() {
        return value(3);
    }

    /** A {@link #value()} as params may hold it: no null map key (a PHP array has none). */
    Object params() {
        nullKeys = false;
        try {
            return value(3);
        } finally {
            nullKeys = true;
        }
    }

    private Object value(int depth) {
        if (depth > 0 && random.nextInt(3) == 0) {
            int n = random.nextInt(6);
            if (random.nextBoolean()) {
                List<Object> list = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    list.add(value(depth - 1));
                }
                return list;
            }
            Map<Object, Object> map = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                Object key = random.nextInt(20) == 0 && nullKeys ? null : random.nextBoolean() ? string() : (Object) random.nextLong();
                map.put(key, value(depth - 1));
            }
            return map;
        }
        return leaf();
    }

    private Object leaf() {
        return switch (random.nextInt(10)) {
            case 0 -> null;
            case 1 -> random.nextLong();
            case 2 -> (long) (random.nextInt(512) - 256); // small ints: every compact encoding
            case 3 -> random.nextDouble() * Math.pow(10, random.nextInt(20) - 10);
            case 4 -> new double[] {Double.NaN, Double.NEGATIVE_INFINITY, -0.0d, Double.MIN_VALUE}[random.nextInt(4)];
            case 5 -> random.nextBoolean();
            case 6, 7 -> string();
            case 8 -> bytes(40);
            default -> utf8ish(); // bin whose bytes may look like text: must stay bytes
        };
    }

    String string() {
        int n = random.nextInt(25);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int kind = random.nextInt(11);
            int cp;
            if (kind < 6) {
                cp = 0x20 + random.nextInt(0x5f);
            } else if (kind < 8) {
                cp = random.nextInt(0x800);
            } else if (kind < 10) {
                do {
                    cp = 0x800 + random.nextInt(0xf800);
                } while (cp >= 0xd800 && cp <= 0xdfff);
            } else {
                cp = 0x1_0000 + random.nextInt(0x10_0000);
            }
            s.appendCodePoint(cp);
        }
        return s.toString();
    }

    byte[] bytes(int maxLength) {
        byte[] b = new byte[random.nextInt(maxLength + 1)];
        random.nextBytes(b);
        return b;
    }

    /** Byte strings that are often, but not always, valid UTF-8. */
    byte[] utf8ish() {
        int pieces = random.nextInt(5);
        byte[][] parts = new byte[pieces][];
        for (int i = 0; i < pieces; i++) {
            int kind = random.nextInt(6);
            parts[i] = kind < 4 ? string().getBytes(StandardCharsets.UTF_8)
                    : kind == 4 ? bytes(4) : hex(NASTY_UTF8[random.nextInt(NASTY_UTF8.length)]);
        }
        return Bytes.concat(parts);
    }

    /** The start of a plausible message, so random tails reach the value decoder. */
    byte[] messageHead() {
        return hex(MESSAGE_HEADS[random.nextInt(MESSAGE_HEADS.length)]);
    }

    private static byte[] hex(String s) {
        return hexOf(s);
    }

    static byte[] hexOf(String s) {
        return HexFormat.ofDelimiter(" ").parseHex(s);
    }
}
