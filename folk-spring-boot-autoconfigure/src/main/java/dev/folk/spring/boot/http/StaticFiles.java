package dev.folk.spring.boot.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

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

import dev.folk.core.os.FileStatus;
import dev.folk.core.os.NativeOs;
import dev.folk.core.os.Os;
import dev.folk.core.os.OsException;

/**
 * The files of a route's public directory, answered as nginx's {@code try_files $uri} answers them
 * in front of PHP-FPM: a request whose path names a regular file there gets the file, any other
 * goes to PHP. What a PHP application keeps beside its front controller (stylesheets, scripts,
 * images, {@code robots.txt}) then works behind the gateway as it did behind nginx.
 *
 * <p>Never served: a path ending in {@code .php} (PHP's, whatever the file system holds), a path
 * with a hidden segment ({@code .env}, {@code .htaccess}, {@code ..}; a leading {@code /.well-known/}
 * excepted), a path that is not valid
 * percent-encoded UTF-8, and, for a route whose links must stay inside ({@link PublicLinks#INSIDE}), a
 * file whose real path (symbolic links followed) leaves the directory. Those go to PHP, which answers
 * them as the application would (a 404, usually). Other links are followed, as nginx follows them.
 *
 * <p>The path is taken as nginx takes {@code $uri}: percent-decoded, repeated slashes merged, {@code .}
 * and {@code ..} segments resolved. The answer is nginx's (1.22, its static, not-modified and range
 * modules with their defaults): {@code Content-Type} by the file name's extension (the container's
 * MIME types), {@code Last-Modified}, an {@code ETag} made as nginx makes it, {@code Accept-Ranges};
 * 412 for a failed {@code If-Unmodified-Since} or {@code If-Match}; 304 when every one of
 * {@code If-Modified-Since} (the exact date, nginx's {@code if_modified_since exact}) and
 * {@code If-None-Match} present says the client's copy is current; byte ranges ({@link ByteRanges}:
 * 206 with one part or {@code multipart/byteranges}, 416); 405 for methods other than GET and HEAD;
 * 403 for a file the JVM may not read. Where nginx sends an error page of its own (403, 405, 412, 416)
 * the body is empty. The body goes out
 * without holding a thread while the client reads: Tomcat sends it itself ({@code sendfile}), other
 * containers through a non-blocking write.
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

    private static final Os OS = NativeOs.get();
    /**
     * The errnos of an open whose name names no file to serve, answered by PHP without a word: ENOENT,
     * ENOTDIR, ELOOP, ENAMETOOLONG, and ENXIO and ENODEV (a socket or a device file).
     */
    private static final java.util.Set<Integer> NAMES_NO_FILE = java.util.Set.of(Os.ENOENT, Os.ENOTDIR,
            Os.ELOOP, Os.ENAMETOOLONG, Os.ENXIO, Os.ENODEV);

    /** Run with the file's path just before it is opened: a test's way to change the file system there. */
    static volatile @Nullable Consumer<Path> beforeOpen;

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
        // The request URI holds the servlet context path; the mapping's prefix and the public
        // directory's names are below it.
        String relative = relativePath(request.getRequestURI(), contextPath(request), route);
        if (relative == null) {
            return false;
        }
        // Opened first, then described through the descriptor (fstat), as nginx does: what the answer
        // says (size, validators, ranges) and what it sends are one file, whatever the name comes to
        // name meanwhile (a deploy deleting or replacing it). Most PHP requests end here: no such file.
        Path file;
        try {
            file = publicDir.resolve(relative);
        } catch (InvalidPathException e) {
            return false;
        }
        Consumer<Path> hook = beforeOpen;
        if (hook != null) {
            hook.accept(file);
        }
        int fd = OS.openForReading(file);
        if (fd < 0) {
            int errno = -fd;
            if (errno == Os.EACCES || errno == Os.EPERM) {
                return forbidden(request, response, publicDir, route.publicLinks(), file);
            }
            if (!NAMES_NO_FILE.contains(errno)) {
                // Not a name that names no file to serve (out of descriptors, an I/O error): PHP answers, but say why.
                log.warn("Public file {} could not be opened ({}): answered by PHP as a missing file", file,
                        OsException.describe(errno));
            }
            return false;
        }
        boolean handedOver = false;
        try {
            FileStatus status;
            try {
                status = OS.fileStatus(fd);
            } catch (OsException e) {
                log.warn("Public file {} could not be described ({}): answered by PHP as a missing file", file,
                        e.getMessage());
                return false;
            }
            Path real = realPath(fd);
            if (!status.regular() || route.publicLinks() == PublicLinks.INSIDE && !within(publicDir, real, file)) {
                return false; // a directory (or FIFO...), or a file reached through a link that leaves the directory
            }
            if (!allowed(request, response)) {
                return true;
            }
            handedOver = answer(request, response, file, real != null ? real : file, fd, status);
            return true;
        } finally {
            if (!handedOver) {
                OS.close(fd);
            }
        }
    }

    /**
     * Whether the request's method may have a file: else a 405, as nginx answers a method other than
     * GET and HEAD for a file.
     */
    private static boolean allowed(HttpServletRequest request, HttpServletResponse response) {
        String method = request.getMethod();
        if ("GET".equals(method) || "HEAD".equals(method)) {
            return true;
        }
        response.setStatus(HttpServletResponse.SC_METHOD_NOT_ALLOWED);
        response.setHeader("Allow", "GET, HEAD");
        response.setContentLength(0);
        return false;
    }

    /**
     * A path the JVM may not open: nginx's 403 (its error page) if it names a file the route serves;
     * PHP's if it names none (an unreadable directory, a link leading out of an {@link PublicLinks#INSIDE}
     * directory, a directory on the way that may not be searched), as if it were not there.
     */
    private static boolean forbidden(HttpServletRequest request, HttpServletResponse response, Path publicDir,
                                     PublicLinks links, Path file) {
        try {
            Path real = file.toRealPath();
            if (!Files.isRegularFile(real) || links == PublicLinks.INSIDE && !within(publicDir, real, file)) {
                return false;
            }
        } catch (IOException | SecurityException e) {
            return false;
        }
        if (allowed(request, response)) {
            response.setStatus(HttpServletResponse.SC_FORBIDDEN);
            response.setContentLength(0);
        }
        return true;
    }

    /** The kernel's name of an open file, every link resolved; null where there is no /proc to ask. */
    private static @Nullable Path realPath(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    /**
     * Whether the open file, {@code real} (or, unknown, {@code file} resolved now), is one of the
     * directory's. A real path that starts with the directory's path as configured needs no system
     * call (most files); else the directory's real path now (its path may lead through a link a deploy
     * re-points) must hold it.
     */
    private static boolean within(Path publicDir, @Nullable Path real, Path file) {
        if (real != null && real.startsWith(publicDir)) {
            return true;
        }
        try {
            return (real != null ? real : file.toRealPath()).startsWith(publicDir.toRealPath());
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /**
     * Answers a GET or HEAD of the open file {@code fd}.
     *
     * @param file the file as the request names it (its extension gives the type)
     * @param real the open file's real path, for a container that sends the file itself
     * @return true if the descriptor went to an asynchronous write, which closes it; false if the caller closes it
     */
    private static boolean answer(HttpServletRequest request, HttpServletResponse response, Path file, Path real,
                                  int fd, FileStatus attributes) throws IOException {
        boolean head = "HEAD".equals(request.getMethod());
        long size = attributes.size();
        long modified = attributes.modifiedSeconds() * 1000; // HTTP dates have seconds
        String etag = '"' + Long.toHexString(modified / 1000) + '-' + Long.toHexString(size) + '"';
        int status = conditionalStatus(request, etag, modified);
        long[] ranges = status == HttpServletResponse.SC_OK && ifRangeHolds(request, etag, modified)
                ? ByteRanges.parse(request.getHeader("Range"), size) : null;
        if (status == HttpServletResponse.SC_PRECONDITION_FAILED || ranges != null && ranges.length == 0) {
            // nginx's error page, without the file's validators
            response.setStatus(ranges != null ? HttpServletResponse.SC_REQUESTED_RANGE_NOT_SATISFIABLE : status);
            if (ranges != null) {
                response.setHeader("Content-Range", "bytes */" + size);
            }
            response.setContentLength(0);
            return false;
        }
        response.setDateHeader("Last-Modified", modified);
        response.setHeader("ETag", etag);
        if (status == HttpServletResponse.SC_NOT_MODIFIED) {
            response.setStatus(status);
            return false;
        }
        String type = request.getServletContext().getMimeType(file.getFileName().toString());
        type = type != null ? type : "application/octet-stream";
        ByteRanges.Body body;
        if (ranges == null) {
            VerbatimContentType.set(response, type);
            response.setHeader("Accept-Ranges", "bytes"); // on the whole file only, as nginx sends it
            body = ByteRanges.whole(size);
        } else if (ranges.length == 2) {
            response.setStatus(HttpServletResponse.SC_PARTIAL_CONTENT);
            VerbatimContentType.set(response, type);
            response.setHeader("Content-Range", "bytes " + ranges[0] + '-' + (ranges[1] - 1) + '/' + size);
            body = new ByteRanges.Body(ranges, null, null);
        } else {
            response.setStatus(HttpServletResponse.SC_PARTIAL_CONTENT);
            String boundary = ByteRanges.boundary();
            VerbatimContentType.set(response, "multipart/byteranges; boundary=" + boundary);
            body = ByteRanges.multipart(ranges, size, type, boundary);
        }
        long length = body.length();
        response.setContentLengthLong(length);
        return !head && length > 0 && send(request, response, fd, real, body, length);
    }

    /**
     * The file path a request names, relative to the public directory: the URI's path,
     * percent-decoded as UTF-8, with repeated slashes merged (as nginx does), the servlet context
     * path removed, and the route's prefix removed if PHP is not given it; null if no file may be
     * served for it.
     *
     * @param contextPath the context path the URI starts with ({@code ""} for the root, else
     *                    {@code /app}), decoded, as {@link #contextPath} gives it
     */
    static @Nullable String relativePath(String rawUri, String contextPath, HttpRoute route) {
        String path = decode(rawUri);
        if (path == null || !path.startsWith("/")) {
            return null;
        }
        path = normalize(path);
        if (path == null || path.endsWith("/")) {
            return null;
        }
        if (!contextPath.isEmpty()) {
            // Compared decoded and normalised: the raw URI may spell the context path otherwise (%61pp).
            if (!path.startsWith(contextPath) || path.length() <= contextPath.length()
                    || path.charAt(contextPath.length()) != '/') {
                return null;
            }
            path = path.substring(contextPath.length());
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

    /**
     * A decoded path as nginx makes {@code $uri} of it: repeated slashes merged, {@code .} segments
     * dropped, a {@code ..} segment removing the one before it; a path ending in one of them names a
     * directory (it keeps its final slash). Null if a {@code ..} would leave the root (nginx: 400).
     */
    static @Nullable String normalize(String path) {
        if (path.indexOf("//") < 0 && path.indexOf("/.") < 0) {
            return path; // most paths
        }
        StringBuilder out = new StringBuilder(path.length());
        int start = 1;
        while (start <= path.length()) {
            int end = path.indexOf('/', start);
            boolean last = end < 0;
            if (last) {
                end = path.length();
            }
            String segment = path.substring(start, end);
            if (segment.equals("..")) {
                int cut = out.lastIndexOf("/");
                if (cut < 0) {
                    return null;
                }
                out.setLength(cut);
            } else if (!segment.isEmpty() && !segment.equals(".")) {
                out.append('/').append(segment);
                start = end + 1;
                continue;
            }
            if (last) {
                out.append('/'); // ended in "/", "/." or "/..": a directory
            }
            start = end + 1;
        }
        return out.isEmpty() ? "/" : out.toString();
    }

    /**
     * The context path the request's URI starts with, decoded: the servlet context's as deployed,
     * however the client spelled it ({@code /%63tx}, {@code /ctx;a=b}), or the prefix Spring's
     * {@code ForwardedHeaderFilter} ({@code server.forward-headers-strategy: framework}) took from
     * {@code X-Forwarded-Prefix}: that filter gives it as the request's context path and puts it in
     * the request URI in place of the deployed one.
     */
    static String contextPath(HttpServletRequest request) {
        String deployed = request.getServletContext().getContextPath();
        String requested = request.getContextPath();
        if (requested.equals(deployed)) {
            return deployed; // nearly every request
        }
        String decoded = decode(requested.replaceAll(";[^/]*", "")); // path parameters, which the container drops
        String normalized = decoded == null ? null : normalize(decoded);
        if (normalized == null) {
            return deployed;
        }
        if (normalized.endsWith("/")) {
            normalized = normalized.substring(0, normalized.length() - 1);
        }
        return normalized.equals(deployed) ? deployed : normalized;
    }

    /** The path of a raw request URI, percent-decoded as UTF-8; null if malformed or holding a NUL or a backslash. */
    static @Nullable String decode(String rawUri) {
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

    /**
     * The status nginx's not-modified filter gives a file: 412 if an {@code If-Unmodified-Since} is
     * before its time (or no date) or an {@code If-Match} lists none of its tags; else 304 if an
     * {@code If-Modified-Since} or {@code If-None-Match} is present and none of them says it changed
     * (the date exactly its time, the list holding its tag or {@code *}); else 200.
     */
    private static int conditionalStatus(HttpServletRequest request, String etag, long modified) {
        if (request.getHeader("If-Unmodified-Since") != null && dateHeader(request, "If-Unmodified-Since") < modified) {
            return HttpServletResponse.SC_PRECONDITION_FAILED;
        }
        String match = request.getHeader("If-Match");
        if (match != null && !listed(match, etag, false)) {
            return HttpServletResponse.SC_PRECONDITION_FAILED;
        }
        boolean sinceGiven = request.getHeader("If-Modified-Since") != null;
        String noneMatch = request.getHeader("If-None-Match");
        if (!sinceGiven && noneMatch == null
                || sinceGiven && dateHeader(request, "If-Modified-Since") != modified
                || noneMatch != null && !listed(noneMatch, etag, true)) {
            return HttpServletResponse.SC_OK;
        }
        return HttpServletResponse.SC_NOT_MODIFIED;
    }

    /**
     * Whether an entity-tag list names {@code etag}: the list {@code *}, or an element equal to it
     * (after a {@code W/}, for a weak comparison), as nginx reads the list.
     */
    static boolean listed(String list, String etag, boolean weak) {
        if (list.equals("*")) {
            return true;
        }
        int i = 0;
        int n = list.length();
        while (i < n) {
            if (weak && n - i > 2 && list.startsWith("W/", i)) {
                i += 2;
            }
            if (list.startsWith(etag, i)) {
                int j = i + etag.length();
                while (j < n && (list.charAt(j) == ' ' || list.charAt(j) == '\t')) {
                    j++;
                }
                if (j == n || list.charAt(j) == ',') {
                    return true;
                }
            }
            while (i < n && list.charAt(i) != ',') {
                i++;
            }
            while (i < n && (list.charAt(i) == ' ' || list.charAt(i) == '\t' || list.charAt(i) == ',')) {
                i++;
            }
        }
        return false;
    }

    /** RFC 9110 13.1.5, as nginx tests it: no If-Range, or one equal to the tag (a quoted value) or to the time. */
    private static boolean ifRangeHolds(HttpServletRequest request, String etag, long modified) {
        String ifRange = request.getHeader("If-Range");
        if (ifRange == null) {
            return true;
        }
        if (ifRange.length() >= 2 && ifRange.endsWith("\"")) {
            return ifRange.equals(etag);
        }
        return dateHeader(request, "If-Range") == modified;
    }

    /** The header's date in milliseconds (as the file's time here), or -1 if nginx would read none in it. */
    private static long dateHeader(HttpServletRequest request, String name) {
        String value = request.getHeader(name);
        long seconds = value != null ? HttpDate.parse(value) : -1;
        return seconds < 0 ? -1 : seconds * 1000;
    }

    /**
     * Sends the body: at once if small, else by Tomcat's sendfile (one range) or without blocking.
     *
     * @return true if the descriptor went to the non-blocking write, which closes it
     */
    private static boolean send(HttpServletRequest request, HttpServletResponse response, int fd, Path real,
                                ByteRanges.Body body, long length) throws IOException {
        long[] ranges = body.ranges();
        if (length > DIRECT_WRITE_MAX && ranges.length == 2 && body.heads() == null
                && Boolean.TRUE.equals(request.getAttribute(SENDFILE_SUPPORTED))) {
            // Tomcat opens the file by its name after this returns: the real one, the file described
            // here unless a deploy removes or replaces it in between (a removed one ends the
            // connection after the head, as a shortened file does).
            request.setAttribute(SENDFILE_FILENAME, real.toString());
            request.setAttribute(SENDFILE_START, ranges[0]);
            request.setAttribute(SENDFILE_END, ranges[1]);
            return false;
        }
        if (length <= DIRECT_WRITE_MAX) {
            ByteBuffer buffer = ByteBuffer.allocate((int) length);
            boolean whole = true;
            for (int i = 0; i < ranges.length && whole; i += 2) {
                buffer.put(body.head(i / 2));
                int base = buffer.position();
                buffer.limit(base + (int) (ranges[i + 1] - ranges[i]));
                while (buffer.hasRemaining() && OS.pread(fd, buffer, ranges[i] + buffer.position() - base) > 0) {
                    // until the range is read, or the file got shorter
                }
                whole = !buffer.hasRemaining();
                buffer.limit(buffer.capacity());
            }
            if (whole && body.tail() != null) {
                buffer.put(body.tail());
            }
            if (!whole && request.getProtocol().startsWith("HTTP/1.")) {
                // The file got shorter since its stat: what was read goes, then the connection ends, as
                // nginx ends it; kept open, the client would wait for the bytes Content-Length promised.
                // (HTTP/2 forbids the header; its stream ends short of Content-Length, which a client rejects.)
                response.setHeader("Connection", "close");
            }
            response.getOutputStream().write(buffer.array(), 0, buffer.position());
            return false;
        }
        new Copy(request.startAsync(), response.getOutputStream(), fd, body).begin();
        return true;
    }

    /** A body of file ranges written whenever the client can take more, holding no thread while it cannot. */
    private static final class Copy implements WriteListener, AsyncListener {
        private final AsyncContext async;
        private final ServletOutputStream out;
        /** The open file, closed once (a second close could close a number since given to another file). */
        private final AtomicInteger fd;
        private final ByteRanges.Body body;
        private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        /** The index in body.ranges() of the range being written; its head is out once position is set. */
        private int range = -2;
        private long position;

        Copy(AsyncContext async, ServletOutputStream out, int fd, ByteRanges.Body body) {
            this.async = async;
            this.out = out;
            this.fd = new AtomicInteger(fd);
            this.body = body;
        }

        void begin() {
            async.setTimeout(0); // the container's connection timeout still ends a client that reads nothing
            async.addListener(this);
            out.setWriteListener(this);
        }

        @Override
        public void onWritePossible() throws IOException {
            long[] ranges = body.ranges();
            while (out.isReady()) {
                if (range >= 0 && range < ranges.length && position < ranges[range + 1]) {
                    buffer.clear().limit((int) Math.min(buffer.capacity(), ranges[range + 1] - position));
                    int open = fd.get();
                    int n = open < 0 ? 0 : OS.pread(open, buffer, position);
                    if (n <= 0) { // the file got shorter than its Content-Length: end the connection
                        throw new IOException("file shortened while being sent");
                    }
                    position += n;
                    out.write(buffer.array(), 0, n);
                    continue;
                }
                range += 2; // the next range, the tail, or the end
                if (range < ranges.length) {
                    out.write(body.head(range / 2));
                    position = ranges[range];
                } else if (range == ranges.length && body.tail() != null) {
                    out.write(body.tail());
                } else {
                    close();
                    async.complete();
                    return;
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            log.debug("Static file not sent completely: {}", t.toString());
            close();
            complete();
        }

        private void complete() {
            try {
                async.complete();
            } catch (IllegalStateException alreadyOver) {
                // the container ended the request already
            }
        }

        private void close() {
            int open = fd.getAndSet(-1);
            if (open >= 0) {
                OS.close(open);
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

        /**
         * The request's error (its client reset the connection): completed here, again if the write
         * listener's error did just before, or the container goes on to an error dispatch, which
         * would run Spring Boot's error page for a client that is gone and log a warning for it.
         */
        @Override
        public void onError(AsyncEvent event) {
            close();
            complete();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // not restarted
        }
    }
}
