package dev.folk.sample;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One HTTP/1.1 exchange over a plain socket, byte for byte the same for whichever server gets it:
 * the test sets every header (Host included, which {@code java.net.http} does not let it set),
 * and reads the answer as sent (header lines in order, a chunked body decoded).
 */
final class RawHttp {

    /** A response: status, header lines in order ([name, value] as sent) and the body bytes. */
    record Response(int status, List<String[]> headers, byte[] body) {

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The first value of a header, or null. */
        String header(String name) {
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    return h[1];
                }
            }
            return null;
        }

        List<String> all(String name) {
            List<String> values = new ArrayList<>();
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    values.add(h[1]);
                }
            }
            return values;
        }
    }

    private RawHttp() {
    }

    /**
     * Sends {@code method uri} with {@code headers} (name, value, name, value...), a Content-Length
     * when there is a body or the method is POST, and {@code Connection: close}; reads to the end.
     */
    static Response send(int port, String method, String uri, List<String> headers, byte[] body) throws IOException {
        StringBuilder head = new StringBuilder(method).append(' ').append(uri).append(" HTTP/1.1\r\n");
        for (int i = 0; i < headers.size(); i += 2) {
            head.append(headers.get(i)).append(": ").append(headers.get(i + 1)).append("\r\n");
        }
        if (body.length > 0 || method.equals("POST")) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        request.writeBytes(body);
        return exchange(port, request.toByteArray());
    }

    /**
     * Sends {@code request} exactly as given (request line, header lines, blank line and body: an
     * HTTP/1.0 request, one without Host, a chunked body...) and reads the answer to the end, which
     * needs a request that ends the connection (HTTP/1.0, or {@code Connection: close}).
     */
    static Response exchange(int port, byte[] request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(60_000);
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            return parse(s.getInputStream().readAllBytes());
        }
    }

    /**
     * Sends several requests in one write (a pipeline; the last should end the connection) and reads
     * the answers to the end of the connection, one per request answered: {@code heads} says which
     * requests are HEADs (their answers have no body whatever their framing says). A server that
     * closes the connection early answers fewer.
     */
    static List<Response> pipeline(int port, byte[] requests, List<Boolean> heads) throws IOException {
        byte[] raw;
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(60_000);
            s.getOutputStream().write(requests);
            s.getOutputStream().flush();
            raw = s.getInputStream().readAllBytes();
        }
        List<Response> answers = new ArrayList<>();
        int at = 0;
        byte[] crlf2 = "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        while (at < raw.length && answers.size() < heads.size()) {
            int split = indexOf(raw, crlf2, at);
            if (split < 0) {
                throw new IOException("no complete response head at byte " + at + " of " + raw.length);
            }
            Response head = parse(java.util.Arrays.copyOfRange(raw, at, split + 4));
            int from = split + 4;
            int end;
            String length = head.header("Content-Length");
            String encoding = head.header("Transfer-Encoding");
            if (heads.get(answers.size()) || head.status() == 204 || head.status() == 304 || head.status() < 200) {
                end = from;
            } else if (encoding != null && encoding.toLowerCase(java.util.Locale.ROOT).contains("chunked")) {
                end = endOfChunks(raw, from);
            } else if (length != null) {
                end = Math.min(raw.length, from + Integer.parseInt(length.trim()));
            } else {
                end = raw.length; // until the connection closes
            }
            byte[] body = java.util.Arrays.copyOfRange(raw, from, end);
            boolean chunked = encoding != null && encoding.toLowerCase(java.util.Locale.ROOT).contains("chunked");
            answers.add(new Response(head.status(), head.headers(), chunked && body.length > 0 ? dechunk(body) : body));
            at = end;
        }
        return answers;
    }

    /** Where a chunked body that starts at {@code from} ends (after its last chunk and the trailer's blank line). */
    private static int endOfChunks(byte[] raw, int from) throws IOException {
        int at = from;
        while (true) {
            int eol = chunkLineEnd(raw, at);
            int n = chunkSize(raw, at, eol);
            if (n == 0) {
                int blank = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), eol);
                return blank < 0 ? raw.length : blank + 4;
            }
            at = eol + 2 + n + 2;
        }
    }

    static Response parse(byte[] raw) throws IOException {
        int split = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0);
        if (split < 0) {
            throw new IOException("no HTTP response head in " + raw.length + " bytes: "
                    + new String(raw, 0, Math.min(raw.length, 300), StandardCharsets.ISO_8859_1));
        }
        String[] lines = new String(raw, 0, split, StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        List<String[]> headers = new ArrayList<>();
        boolean chunked = false;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            String name = lines[i].substring(0, colon).trim();
            String value = lines[i].substring(colon + 1).trim();
            headers.add(new String[] {name, value});
            chunked |= name.equalsIgnoreCase("Transfer-Encoding") && value.toLowerCase().contains("chunked");
        }
        int from = split + 4;
        byte[] body = java.util.Arrays.copyOfRange(raw, from, raw.length);
        return new Response(status, headers, chunked && body.length > 0 ? dechunk(body) : body); // HEAD: no chunks
    }

    private static byte[] dechunk(byte[] body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 0;
        while (true) {
            int eol = chunkLineEnd(body, at);
            int n = chunkSize(body, at, eol);
            if (n == 0) {
                return out.toByteArray();
            }
            out.write(body, eol + 2, n);
            at = eol + 2 + n + 2;
        }
    }

    /** Where the chunk-size line that starts at {@code at} ends (its CR). */
    private static int chunkLineEnd(byte[] raw, int at) throws IOException {
        int eol = indexOf(raw, new byte[] {'\r', '\n'}, at);
        if (eol < 0) {
            throw new IOException("truncated chunked body");
        }
        return eol;
    }

    /** The size on the chunk-size line [at, eol), extensions ignored. */
    private static int chunkSize(byte[] raw, int at, int eol) {
        String size = new String(raw, at, eol - at, StandardCharsets.ISO_8859_1);
        int semi = size.indexOf(';');
        return Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
