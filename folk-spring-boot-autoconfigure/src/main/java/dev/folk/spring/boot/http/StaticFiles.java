package dev.folk.spring.boot.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of a route's public directory, answered as nginx's {@code try_files $uri} answers them
 * in front of PHP-FPM: a request whose path names a regular file there gets the file, any other
 * goes to PHP. What a PHP application keeps beside its front controller (stylesheets, scripts,
 * images, {@code robots.txt}) then works behind the gateway as it did behind nginx.
 *
 * <p>Never served: a path ending in {@code .php} (PHP's, whatever the file system holds), a path
 * with a hidden segment ({@code .env}, {@code .htaccess}, {@code ..}; a leading {@code /.well-known/}
 * excepted), a path that is not valid
 * percent-encoded UTF-8, and a file whose real path (symbolic links followed) leaves the directory.
 * Those go to PHP, which answers them as the application would (a 404, usually).
 *
 * <p>The answer: {@code Content-Type} by the file name's extension (the container's MIME types),
 * {@code Last-Modified}, an {@code ETag} made as nginx makes it, {@code Accept-Ranges}; 304 for
 * {@code If-None-Match} or {@code If-Modified-Since}; one byte range (206, or 416 past the end;
 * several ranges get the whole file, which RFC 9110 allows); 405 for methods other than GET and
 * HEAD. The body goes out without holding a thread while the client reads: Tomcat sends it itself
 * ({@code sendfile}), other containers through a non-blocking write.
 */
final class StaticFiles {

    private static final Logger log = LoggerFactory.getLogger(StaticFiles.class);

    /** Tomcat's request attributes for sendfile (org.apache.coyote.Constants / Globals). */
    static final String SENDFILE_SUPPORTED = "org.apache.tomcat.sendfile.support";
    static final String SENDFILE_FILENAME = "org.apache.tomcat.sendfile.filename";
    static final String SENDFILE_START = "org.apache.tomcat.sendfile.start";
    static final String SENDFILE_END = "org.apache.tomcat.sendfile.end";

    /** A body up to this size is written at once (it fits a socket's send buffer); larger ones without blocking. */
    private static final int DIRECT_WRITE_MAX = 32 * 1024;

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");
    private static final Pattern SLASHES = Pattern.compile("/{2,}");

    /** RFC 8615's directory of site-wide metadata, the one hidden name served. */
    private static final String WELL_KNOWN = "/.well-known/";

    private StaticFiles() {
    }

    /**
     * Answers {@code request} with a file of {@code route}'s public directory if its path names one.
     *
     * @return true if answered, false if the request is PHP's
     */
    static boolean serve(HttpServletRequest request, HttpServletResponse response, HttpRoute route) throws IOException {
        Path publicDir = route.publicDir();
        if (publicDir == null) {
            return false;
        }
        String relative = relativePath(request.getRequestURI(), route);
        if (relative == null) {
            return false;
        }
        Path file = publicDir;
        BasicFileAttributes attributes = null;
        try {
            // One lstat per name of the relative path (most PHP requests end at the first: no such file),
            // not the realpath of the whole path; a symbolic link on the way is followed, and must lead to
            // a file of the directory.
            for (String name : relative.split("/")) {
                file = file.resolve(name);
                attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (attributes.isSymbolicLink()) {
                    file = publicDir.resolve(relative).toRealPath();
                    if (!file.startsWith(publicDir)) {
                        return false;
                    }
                    attributes = Files.readAttributes(file, BasicFileAttributes.class);
                    break;
                }
            }
            if (attributes == null || !attributes.isRegularFile()) {
                return false;
            }
        } catch (IOException | InvalidPathException | SecurityException e) {
            return false;
        }
        String method = request.getMethod();
        boolean head = "HEAD".equals(method);
        if (!head && !"GET".equals(method)) {
            response.setStatus(HttpServletResponse.SC_METHOD_NOT_ALLOWED);
            response.setHeader("Allow", "GET, HEAD");
            response.setContentLength(0);
            return true;
        }
        long size = attributes.size();
        long modifiedSeconds = attributes.lastModifiedTime().toMillis() / 1000;
        String etag = '"' + Long.toHexString(modifiedSeconds) + '-' + Long.toHexString(size) + '"';
        response.setDateHeader("Last-Modified", modifiedSeconds * 1000);
        response.setHeader("ETag", etag);
        if (notModified(request, etag, modifiedSeconds)) {
            response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            return true;
        }
        String type = request.getServletContext().getMimeType(file.getFileName().toString());
        VerbatimContentType.set(response, type != null ? type : "application/octet-stream");
        long start = 0;
        long end = size; // exclusive
        long[] range = range(request, etag, modifiedSeconds, size);
        if (range != null) {
            if (range.length == 0) {
                response.setStatus(HttpServletResponse.SC_REQUESTED_RANGE_NOT_SATISFIABLE);
                response.setHeader("Content-Range", "bytes */" + size);
                response.setContentLength(0);
                return true;
            }
            start = range[0];
            end = range[1];
            response.setStatus(HttpServletResponse.SC_PARTIAL_CONTENT);
            response.setHeader("Content-Range", "bytes " + start + '-' + (end - 1) + '/' + size);
        } else {
            response.setHeader("Accept-Ranges", "bytes"); // on the whole file only, as nginx sends it
        }
        response.setContentLengthLong(end - start);
        if (head || end == start) {
            return true;
        }
        send(request, response, file, start, end);
        return true;
    }

    /**
     * The file path a request names, relative to the public directory: the URI's path,
     * percent-decoded as UTF-8, with repeated slashes merged (as nginx does) and the route's prefix
     * removed if PHP is not given it; null if no file may be served for it.
     */
    static @Nullable String relativePath(String rawUri, HttpRoute route) {
        String path = decode(rawUri);
        if (path == null || !path.startsWith("/") || path.endsWith("/")) {
            return null;
        }
        if (path.contains("//")) {
            path = SLASHES.matcher(path).replaceAll("/");
        }
        if (route.stripPrefix()) {
            String prefix = route.prefix();
            if (!path.startsWith(prefix) || path.length() <= prefix.length() || path.charAt(prefix.length()) != '/') {
                return null;
            }
            path = path.substring(prefix.length());
        }
        // Hidden files (.env, .git/...) and "..", except RFC 8615's /.well-known/ (ACME challenges,
        // security.txt), as hardened nginx setups have it; and PHP's own scripts.
        String checked = path.startsWith(WELL_KNOWN) ? path.substring(WELL_KNOWN.length() - 1) : path;
        if (checked.contains("/.") || path.toLowerCase(Locale.ROOT).endsWith(".php")) {
            return null;
        }
        return path.substring(1);
    }

    /** The path of a raw request URI, percent-decoded as UTF-8; null if malformed or holding a NUL or a backslash. */
    private static @Nullable String decode(String rawUri) {
        int query = rawUri.indexOf('?');
        String raw = query >= 0 ? rawUri.substring(0, query) : rawUri;
        if (isPlainAscii(raw)) {
            return raw.indexOf('\\') >= 0 ? null : raw; // most paths: nothing to decode
        }
        ByteBuffer bytes = ByteBuffer.allocate(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) {
                    return null;
                }
                int hi = Character.digit(raw.charAt(i + 1), 16);
                int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                bytes.put((byte) (hi << 4 | lo));
                i += 2;
            } else if (c > 0xff) {
                return null;
            } else {
                bytes.put((byte) c);
            }
        }
        bytes.flip();
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            String path = chars.toString();
            return path.indexOf('\0') >= 0 || path.indexOf('\\') >= 0 ? null : path;
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Whether {@code raw} has neither a percent-escape nor a byte beyond ASCII (nor a NUL): it is its own decoding. */
    private static boolean isPlainAscii(String raw) {
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%' || c == 0 || c > 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** RFC 9110 13.2.2: If-None-Match decides when present, else If-Modified-Since. */
    private static boolean notModified(HttpServletRequest request, String etag, long modifiedSeconds) {
        String noneMatch = request.getHeader("If-None-Match");
        if (noneMatch != null) {
            for (String tag : noneMatch.split(",")) {
                String t = tag.trim();
                if (t.equals("*") || (t.startsWith("W/") ? t.substring(2) : t).equals(etag)) {
                    return true;
                }
            }
            return false;
        }
        long since = dateHeader(request, "If-Modified-Since");
        return since >= 0 && modifiedSeconds * 1000 <= since;
    }

    /**
     * The one byte range asked for, as {start, end exclusive}; an empty array if it starts past the
     * file's end (416); null to send the whole file (no Range, an If-Range for another version,
     * several ranges, or a header that is no valid range).
     */
    private static long @Nullable [] range(HttpServletRequest request, String etag, long modifiedSeconds, long size) {
        String header = request.getHeader("Range");
        if (header == null || size == 0) {
            return null;
        }
        String ifRange = request.getHeader("If-Range");
        if (ifRange != null && !ifRange.equals(etag) && dateHeader(request, "If-Range") != modifiedSeconds * 1000) {
            return null;
        }
        Matcher m = RANGE.matcher(header.trim());
        if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
            return null;
        }
        try {
            if (m.group(1).isEmpty()) { // the last n bytes
                long n = Long.parseLong(m.group(2));
                return n == 0 ? new long[0] : new long[] {Math.max(0, size - n), size};
            }
            long first = Long.parseLong(m.group(1));
            if (!m.group(2).isEmpty() && Long.parseLong(m.group(2)) < first) {
                return null; // no valid range
            }
            long last = m.group(2).isEmpty() ? size - 1 : Math.min(Long.parseLong(m.group(2)), size - 1);
            return first >= size ? new long[0] : new long[] {first, last + 1};
        } catch (NumberFormatException tooLong) {
            return null;
        }
    }

    private static long dateHeader(HttpServletRequest request, String name) {
        try {
            return request.getDateHeader(name);
        } catch (IllegalArgumentException notADate) {
            return -1;
        }
    }

    /** Sends bytes [start, end) of the file: at once if small, else by Tomcat's sendfile or without blocking. */
    private static void send(HttpServletRequest request, HttpServletResponse response, Path file, long start, long end)
            throws IOException {
        if (end - start > DIRECT_WRITE_MAX && Boolean.TRUE.equals(request.getAttribute(SENDFILE_SUPPORTED))) {
            request.setAttribute(SENDFILE_FILENAME, file.toString());
            request.setAttribute(SENDFILE_START, start);
            request.setAttribute(SENDFILE_END, end);
            return;
        }
        if (end - start <= DIRECT_WRITE_MAX) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer buffer = ByteBuffer.allocate((int) (end - start));
                while (buffer.hasRemaining() && channel.read(buffer, start + buffer.position()) > 0) {
                    // until the range is read, or the file got shorter
                }
                response.getOutputStream().write(buffer.array(), 0, buffer.position());
            }
            return;
        }
        new Copy(request.startAsync(), response.getOutputStream(), FileChannel.open(file, StandardOpenOption.READ),
                start, end).begin();
    }

    /** A file range written whenever the client can take more, holding no thread while it cannot. */
    private static final class Copy implements WriteListener, AsyncListener {
        private final AsyncContext async;
        private final ServletOutputStream out;
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        private long position;
        private final long end;

        Copy(AsyncContext async, ServletOutputStream out, FileChannel channel, long start, long end) {
            this.async = async;
            this.out = out;
            this.channel = channel;
            this.position = start;
            this.end = end;
        }

        void begin() {
            async.setTimeout(0); // the container's connection timeout still ends a client that reads nothing
            async.addListener(this);
            out.setWriteListener(this);
        }

        @Override
        public void onWritePossible() throws IOException {
            while (out.isReady()) {
                if (position >= end) {
                    close();
                    async.complete();
                    return;
                }
                buffer.clear().limit((int) Math.min(buffer.capacity(), end - position));
                int n = channel.read(buffer, position);
                if (n <= 0) { // the file got shorter than its Content-Length: end the connection
                    throw new IOException("file shortened while being sent");
                }
                position += n;
                out.write(buffer.array(), 0, n);
            }
        }

        @Override
        public void onError(Throwable t) {
            log.debug("Static file not sent completely: {}", t.toString());
            close();
            try {
                async.complete();
            } catch (IllegalStateException alreadyOver) {
                // the container ended the request already
            }
        }

        private void close() {
            try {
                channel.close();
            } catch (IOException e) {
                log.debug("Closing a static file: {}", e.toString());
            }
        }

        @Override
        public void onComplete(AsyncEvent event) {
            close();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            close();
        }

        @Override
        public void onError(AsyncEvent event) {
            close();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // not restarted
        }
    }
}
