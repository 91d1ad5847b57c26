package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** The body of a whole chunked HTTP/1.1 response, as the raw tests read it off their sockets. */
final class ChunkedBody {

    private ChunkedBody() {
    }

    /** The body of {@code raw} (head and chunks); fails if the last chunk is missing. */
    static byte[] of(byte[] raw) {
        String all = new String(raw, StandardCharsets.ISO_8859_1);
        int i = all.indexOf("\r\n\r\n") + 4;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            int lineEnd = all.indexOf("\r\n", i);
            assertThat(lineEnd).as("a chunk header at %d of %d bytes", i, raw.length).isPositive();
            int size = Integer.parseInt(all.substring(i, lineEnd).trim(), 16);
            if (size == 0) {
                return out.toByteArray();
            }
            out.write(raw, lineEnd + 2, size);
            i = lineEnd + 2 + size + 2;
        }
    }
}
