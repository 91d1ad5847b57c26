package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

import io.micrometer.core.instrument.MeterRegistry;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.util.FileSystemUtils;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;

/**
 * A mapping's public directory ({@code folk.http.mappings[].public-dir}) in a real web application:
 * its files answered as nginx's {@code try_files $uri} answers them (validators, conditional and
 * range requests, HEAD, a large file), and every path that must not be a file's, PHP's.
 * (FrameworkAppsTest in the sample app compares such answers with nginx's.)
 */
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.pools.main.size=1",
    "folk.shutdown.signal-handler=false",
})
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
class StaticFilesIntegrationTest {

    private static final String TAG = Workers.newTag();
    private static final byte[] LARGE = new byte[3 * 1024 * 1024 + 17];
    private static final long MODIFIED = 1_767_225_600L; // 2026-01-01T00:00:00Z
    /** A file beside the public directory: only links out of it (followed unless the mapping keeps them inside) lead to it. */
    private static final String OUTSIDE = "not-public-7f3a";

    static {
        new Random(7).nextBytes(LARGE);
    }

    /** The files of the class's application (each test class starts its own, and removes them after). */
    private static Path root;

    /** Writes /app's public directory and /php's (where the whole path names the file: no strip-prefix). */
    private static void createFiles() throws IOException {
        root = Files.createTempDirectory("folk-static-files");
        Path app = Files.createDirectories(root.resolve("app-public"));
        Path site = Files.createDirectories(root.resolve("site"));
        write(app.resolve("css/site.css"), "body { color: #123; }\n".getBytes(StandardCharsets.UTF_8));
        write(app.resolve("big.bin"), LARGE);
        write(app.resolve("empty.txt"), new byte[0]);
        write(app.resolve("index.php"), "<?php echo 'source';".getBytes(StandardCharsets.UTF_8));
        write(app.resolve(".env"), "SECRET=1".getBytes(StandardCharsets.UTF_8));
        write(app.resolve(".well-known/security.txt"), "Contact: x@example.com\n".getBytes(StandardCharsets.UTF_8));
        write(app.resolve(".well-known/.hidden"), "hidden".getBytes(StandardCharsets.UTF_8));
        write(app.resolve("css/.hidden.css"), "hidden".getBytes(StandardCharsets.UTF_8));
        write(root.resolve("outside.txt"), OUTSIDE.getBytes(StandardCharsets.UTF_8));
        Files.createSymbolicLink(app.resolve("link-out.txt"), root.resolve("outside.txt"));
        Files.createSymbolicLink(app.resolve("dir-out"), root);
        write(root.resolve("outside.bin"), Arrays.copyOf(LARGE, 40_000)); // over what is written at once: sendfile
        Files.createSymbolicLink(app.resolve("big-out.bin"), root.resolve("outside.bin"));
        Files.createSymbolicLink(app.resolve("styles"), app.resolve("css"));
        write(app.resolve("caf\u00e9 au lait.txt"), "latte".getBytes(StandardCharsets.UTF_8));
        write(site.resolve("php/robots.txt"), "User-agent: *\n".getBytes(StandardCharsets.UTF_8));
        // Two releases and the link a deploy re-points (Capistrano's, Deployer's 'current').
        for (String release : new String[] {"1", "2"}) {
            Path releasePublic = Files.createDirectories(root.resolve("releases/" + release + "/public"));
            write(releasePublic.resolve("version.txt"), release.getBytes(StandardCharsets.UTF_8));
            Files.createSymbolicLink(releasePublic.resolve("latest.txt"), releasePublic.resolve("version.txt"));
        }
        Files.createSymbolicLink(root.resolve("current"), root.resolve("releases/1"));
    }

    private static void write(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        Files.setLastModifiedTime(file, FileTime.from(Instant.ofEpochSecond(MODIFIED)));
    }

    @AfterAll
    static void removeFiles() throws IOException {
        FileSystemUtils.deleteRecursively(root);
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws IOException {
        createFiles();
        TestWorkers.use(registry, TestWorkers.HTTP, TAG);
        // All of the mappings here: a list set in one property source replaces the list of another.
        String app = root.resolve("app-public").toString();
        String site = root.resolve("site").toString();
        registry.add("folk.http.mappings[0].path", () -> "/app/**");
        registry.add("folk.http.mappings[0].pool", () -> "main");
        registry.add("folk.http.mappings[0].strip-prefix", () -> "true");
        registry.add("folk.http.mappings[0].public-dir", () -> app);
        registry.add("folk.http.mappings[1].path", () -> "/php/**");
        registry.add("folk.http.mappings[1].pool", () -> "main");
        registry.add("folk.http.mappings[1].public-dir", () -> site);
        registry.add("folk.http.mappings[2].path", () -> "/custom/**");
        registry.add("folk.http.mappings[2].pool", () -> "main");
        registry.add("folk.http.mappings[2].document-root", () -> "/srv/custom");
        registry.add("folk.http.mappings[2].script-filename", () -> "/srv/custom/front.php");
        registry.add("folk.http.mappings[3].path", () -> "/rel/**");
        registry.add("folk.http.mappings[3].pool", () -> "main");
        registry.add("folk.http.mappings[3].strip-prefix", () -> "true");
        registry.add("folk.http.mappings[3].public-dir", () -> root.resolve("current/public").toString());
        registry.add("folk.http.mappings[4].path", () -> "/inside/**");
        registry.add("folk.http.mappings[4].pool", () -> "main");
        registry.add("folk.http.mappings[4].strip-prefix", () -> "true");
        registry.add("folk.http.mappings[4].public-dir", () -> app);
        registry.add("folk.http.mappings[4].public-dir-links", () -> "inside");
    }

    /**
     * Links are followed wherever they lead, as nginx follows them (Laravel's storage:link, Debian's
     * packaged applications), large files (Tomcat's sendfile) included; with public-dir-links: inside,
     * only those that stay in the directory, and a file reached through one that leads out is PHP's.
     */
    @Test
    void linksAreFollowedAsNginxFollowsThemUnlessKeptInside() throws Exception {
        Response out = send("GET", "/app/link-out.txt");
        assertThat(out.status()).isEqualTo(200);
        assertThat(out.body()).asString().isEqualTo(OUTSIDE);
        assertThat(out.header("ETag")).isEqualTo(etag(OUTSIDE.length()));
        assertThat(send("GET", "/app/dir-out/outside.txt").body()).as("through a link to a directory out of it")
                .asString().isEqualTo(OUTSIDE);
        assertThat(send("HEAD", "/app/dir-out/outside.txt").header("Content-Length"))
                .isEqualTo(Integer.toString(OUTSIDE.length()));
        Response big = send("GET", "/app/big-out.bin");
        assertThat(big.status()).isEqualTo(200);
        assertThat(big.body()).as("a larger file through a link out: sent by the container")
                .isEqualTo(Arrays.copyOf(LARGE, 40_000));
        assertThat(send("GET", "/app/dir-out/app-public/css/site.css").status())
                .as("out and back in").isEqualTo(200);

        for (String path : new String[] {"/inside/link-out.txt", "/inside/dir-out/outside.txt", "/inside/big-out.bin"}) {
            Response r = send("GET", path);
            assertThat(r.fromPhp()).as("%s answered by PHP: %s %s", path, r.status(), r.head()).isTrue();
            assertThat(new String(r.body(), StandardCharsets.ISO_8859_1)).doesNotContain(OUTSIDE);
        }
        assertThat(send("GET", "/inside/styles/site.css").body()).as("a link that stays inside")
                .asString().isEqualTo("body { color: #123; }\n");
        assertThat(send("GET", "/inside/dir-out/app-public/css/site.css").status())
                .as("out and back in: its real path is inside").isEqualTo(200);
    }

    /**
     * A public directory reached through a link that a deploy re-points: each request gets the
     * release the link names then (its files, links within it, PHP's DOCUMENT_ROOT), as nginx's
     * {@code root} does, not the one it named at start-up.
     */
    @Test
    void aPublicDirBehindARepointedReleaseLinkServesTheCurrentRelease() throws Exception {
        assertThat(send("GET", "/rel/version.txt").body()).asString().isEqualTo("1");
        repoint("releases/2");
        try {
            assertThat(send("GET", "/rel/version.txt").body()).asString().isEqualTo("2");
            assertThat(send("GET", "/rel/latest.txt").body()).as("a link within the release").asString().isEqualTo("2");
            assertThat(new String(send("GET", "/rel/nothing").body(), StandardCharsets.UTF_8))
                    .contains(serverFact("DOCUMENT_ROOT", root.resolve("current/public").toString()));
        } finally {
            repoint("releases/1");
        }
    }

    /** Switches the 'current' link at once, as deploy tools do: a new link renamed over it. */
    private static void repoint(String release) throws IOException {
        Path next = Files.createSymbolicLink(root.resolve("current.next"), root.resolve(release));
        Files.move(next, root.resolve("current"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** As nginx gives PHP-FPM its root: a mapping's public directory is PHP's DOCUMENT_ROOT, its index.php SCRIPT_FILENAME. */
    @Test
    void phpGetsTheMappingsPublicDirectoryAsItsDocumentRootUnlessTheMappingSetsOne() throws Exception {
        Path app = root.resolve("app-public").toRealPath();
        assertThat(new String(send("GET", "/app/nothing.css").body(), StandardCharsets.UTF_8))
                .contains(serverFact("DOCUMENT_ROOT", app.toString()),
                        serverFact("SCRIPT_FILENAME", app.resolve("index.php").toString()));
        assertThat(new String(send("GET", "/php/nothing").body(), StandardCharsets.UTF_8))
                .contains(serverFact("DOCUMENT_ROOT", root.resolve("site").toRealPath().toString()));
        assertThat(new String(send("GET", "/custom/x").body(), StandardCharsets.UTF_8))
                .contains(serverFact("DOCUMENT_ROOT", "/srv/custom"), serverFact("SCRIPT_FILENAME", "/srv/custom/front.php"));
    }

    /** A $_SERVER entry as the test worker's JSON (PHP's json_encode, slashes escaped) shows it. */
    private static String serverFact(String name, String value) {
        return "\"" + name + "\":\"" + value.replace("/", "\\/") + "\"";
    }

    @LocalServerPort
    int port;

    @Autowired
    MeterRegistry registry;

    /** The servlet context path the application runs under ({@code ""}: the root); each request's target starts with it. */
    @Value("${server.servlet.context-path:}")
    String contextPath;

    /** A response read to the end of the connection. */
    record Response(int status, String head, byte[] body) {
        String header(String name) {
            for (String line : head.split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith(name.toLowerCase(Locale.ROOT) + ":")) {
                    return line.substring(name.length() + 1).trim();
                }
            }
            return null;
        }

        boolean fromPhp() {
            return "application/json".equals(header("Content-Type")) && new String(body, StandardCharsets.UTF_8)
                    .contains("\"uri\"");
        }
    }

    /** {@code method} of {@code target}, a path below the context path, on a connection of its own. */
    Response send(String method, String target, String... headers) throws IOException {
        return sendRequestTarget(method, contextPath + target, headers);
    }

    /** {@code method} of {@code target} as it is, the context path included. */
    Response sendRequestTarget(String method, String target, String... headers) throws IOException {
        StringBuilder request = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: h\r\n");
        for (String h : headers) {
            request.append(h).append("\r\n");
        }
        request.append("Connection: close\r\n\r\n");
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(request.toString().getBytes(StandardCharsets.UTF_8));
            byte[] all = s.getInputStream().readAllBytes();
            String text = new String(all, StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            assertThat(end).as("a response head in %s", text).isPositive();
            return new Response(Integer.parseInt(text.substring(9, 12)), text.substring(0, end),
                    Arrays.copyOfRange(all, end + 4, all.length));
        }
    }

    private static String etag(long size) {
        return '"' + Long.toHexString(MODIFIED) + '-' + Long.toHexString(size) + '"';
    }

    @Test
    void aFileIsAnsweredWithItsTypeValidatorsAndLength() throws Exception {
        Response css = send("GET", "/app/css/site.css");
        assertThat(css.status()).isEqualTo(200);
        assertThat(css.fromPhp()).isFalse();
        assertThat(new String(css.body(), StandardCharsets.UTF_8)).isEqualTo("body { color: #123; }\n");
        assertThat(css.header("Content-Type")).isEqualTo("text/css");
        assertThat(css.header("Content-Length")).isEqualTo("22");
        assertThat(css.header("ETag")).isEqualTo(etag(22)); // as nginx makes it: mtime-size in hex
        assertThat(css.header("Last-Modified")).isEqualTo("Thu, 01 Jan 2026 00:00:00 GMT");
        assertThat(css.header("Accept-Ranges")).isEqualTo("bytes");

        Response head = send("HEAD", "/app/css/site.css");
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("Content-Length")).isEqualTo("22");
        assertThat(head.body()).isEmpty();

        // Without strip-prefix the whole path (below the context path) names the file; names are percent-decoded UTF-8.
        assertThat(send("GET", "/php/robots.txt").body()).asString().isEqualTo("User-agent: *\n");
        assertThat(send("GET", "/app/caf%C3%A9%20au%20lait.txt").body()).asString().isEqualTo("latte");
        assertThat(send("GET", "/app//css//site.css").status()).as("slashes merged, as nginx does").isEqualTo(200);
        assertThat(send("GET", "/app/.well-known/security.txt").body()).as("RFC 8615's directory, hidden as it is")
                .asString().isEqualTo("Contact: x@example.com\n");
        assertThat(send("GET", "/app/styles/site.css").body()).as("through a link to a directory of its own")
                .asString().isEqualTo("body { color: #123; }\n");
        Response empty = send("GET", "/app/empty.txt");
        assertThat(empty.status()).isEqualTo(200);
        assertThat(empty.header("Content-Length")).isEqualTo("0");
        assertThat(empty.body()).isEmpty();
    }

    /** A large file: whole, also to a client that waits before reading, and counted when its copy ends. */
    @Test
    void aLargeFileArrivesWhole() throws Exception {
        double answered = registry.get("folk.http.responses").tag("mapping", "/app/**").tag("status", "2xx")
                .functionCounter().count();
        Response big = send("GET", "/app/big.bin");
        assertThat(big.status()).isEqualTo(200);
        assertThat(big.header("Content-Type")).isEqualTo("application/octet-stream");
        assertThat(big.body()).isEqualTo(LARGE);
        Procs.await(Duration.ofSeconds(10), "the file's answer counted", () -> registry.get("folk.http.responses")
                .tag("mapping", "/app/**").tag("status", "2xx").functionCounter().count() == answered + 1);

        // A client that does not read for a while gets it whole too, while others are answered meanwhile.
        try (Socket slow = new Socket("127.0.0.1", port)) {
            slow.setSoTimeout(20_000);
            slow.getOutputStream().write(("GET " + contextPath + "/app/big.bin HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 20; i++) { // meanwhile other requests are answered
                assertThat(send("GET", "/app/css/site.css").status()).isEqualTo(200);
            }
            InputStream in = slow.getInputStream();
            byte[] all = in.readAllBytes();
            assertThat(Arrays.copyOfRange(all, all.length - LARGE.length, all.length)).isEqualTo(LARGE);
        }
    }

    @Test
    void validatorsAnswerNotModified() throws Exception {
        Response byTag = send("GET", "/app/css/site.css", "If-None-Match: \"other\", " + etag(22));
        assertThat(byTag.status()).isEqualTo(304);
        assertThat(byTag.body()).isEmpty();
        assertThat(byTag.header("ETag")).isEqualTo(etag(22));
        assertThat(send("GET", "/app/css/site.css", "If-None-Match: W/" + etag(22)).status()).isEqualTo(304);
        assertThat(send("GET", "/app/css/site.css", "If-None-Match: \"other\"").status()).isEqualTo(200);

        DateTimeFormatter http = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
                .withZone(ZoneOffset.UTC);
        assertThat(send("GET", "/app/css/site.css", "If-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT").status())
                .isEqualTo(304);
        assertThat(send("GET", "/app/css/site.css", "If-Modified-Since: "
                + http.format(Instant.ofEpochSecond(MODIFIED - 60))).status()).isEqualTo(200);
        assertThat(send("GET", "/app/css/site.css", "If-Modified-Since: not a date").status()).isEqualTo(200);
        // nginx's if_modified_since exact: a later date is no match; both conditions present must both hold.
        assertThat(send("GET", "/app/css/site.css", "If-Modified-Since: Fri, 02 Jan 2026 00:00:00 GMT").status())
                .isEqualTo(200);
        assertThat(send("GET", "/app/css/site.css", "If-None-Match: " + etag(22),
                "If-Modified-Since: Fri, 02 Jan 2026 00:00:00 GMT").status()).isEqualTo(200);
        // The other two forms of an HTTP date; a day of one digit is none (nginx reads two).
        assertThat(send("GET", "/app/css/site.css", "If-Modified-Since: Thursday, 01-Jan-26 00:00:00 GMT").status())
                .isEqualTo(304);
        assertThat(send("GET", "/app/css/site.css", "If-Modified-Since: Thu Jan  1 00:00:00 2026").status())
                .isEqualTo(304);
        assertThat(send("GET", "/app/css/site.css", "If-Modified-Since: Thu, 1 Jan 2026 00:00:00 GMT").status())
                .isEqualTo(200);
    }

    @Test
    void failedPreconditionsAnswer412() throws Exception {
        Response unmodifiedSince = send("GET", "/app/css/site.css", "If-Unmodified-Since: Wed, 31 Dec 2025 23:59:59 GMT");
        assertThat(unmodifiedSince.status()).isEqualTo(412);
        assertThat(unmodifiedSince.body()).isEmpty();
        assertThat(unmodifiedSince.header("ETag")).isNull();
        assertThat(send("GET", "/app/css/site.css", "If-Unmodified-Since: Thu, 01 Jan 2026 00:00:00 GMT").status())
                .isEqualTo(200);
        assertThat(send("GET", "/app/css/site.css", "If-Unmodified-Since: never").status()).isEqualTo(412);
        assertThat(send("GET", "/app/css/site.css", "If-Match: \"other\"").status()).isEqualTo(412);
        assertThat(send("GET", "/app/css/site.css", "If-Match: W/" + etag(22)).status()).as("a strong comparison")
                .isEqualTo(412);
        assertThat(send("GET", "/app/css/site.css", "If-Match: \"other\", " + etag(22)).status()).isEqualTo(200);
        assertThat(send("GET", "/app/css/site.css", "If-Match: *").status()).isEqualTo(200);
        // Before If-None-Match: a failed If-Match is a 412, not a 304.
        assertThat(send("GET", "/app/css/site.css", "If-Match: \"other\"", "If-None-Match: " + etag(22)).status())
                .isEqualTo(412);
    }

    @Test
    void oneByteRangeIsAnsweredPartially() throws Exception {
        Response part = send("GET", "/app/css/site.css", "Range: bytes=0-3");
        assertThat(part.status()).isEqualTo(206);
        assertThat(part.body()).asString().isEqualTo("body");
        assertThat(part.header("Content-Range")).isEqualTo("bytes 0-3/22");
        assertThat(part.header("Content-Length")).isEqualTo("4");
        assertThat(send("GET", "/app/css/site.css", "Range: bytes=-3").body()).asString().isEqualTo("; }\n".substring(1));
        assertThat(send("GET", "/app/css/site.css", "Range: bytes=18-999").body()).asString().isEqualTo("; }\n");
        Response bigPart = send("GET", "/app/big.bin", "Range: bytes=1000000-");
        assertThat(bigPart.status()).isEqualTo(206);
        assertThat(bigPart.body()).isEqualTo(Arrays.copyOfRange(LARGE, 1_000_000, LARGE.length));
        Response middle = send("GET", "/app/big.bin", "Range: bytes=100-200099");
        assertThat(middle.header("Content-Range")).isEqualTo("bytes 100-200099/" + LARGE.length);
        assertThat(middle.body()).isEqualTo(Arrays.copyOfRange(LARGE, 100, 200_100));

        Response past = send("GET", "/app/css/site.css", "Range: bytes=22-");
        assertThat(past.status()).isEqualTo(416);
        assertThat(past.header("Content-Range")).isEqualTo("bytes */22");
        // As nginx: no valid range set is a 416 too, not the whole file.
        assertThat(send("GET", "/app/css/site.css", "Range: bytes=x-y").status()).isEqualTo(416);
        assertThat(send("GET", "/app/css/site.css", "Range: bytes=5-2").status()).isEqualTo(416);
        // A range for another version, another unit, or ranges asking more than the file: the whole file.
        assertThat(send("GET", "/app/css/site.css", "Range: bytes=0-3", "If-Range: \"old\"").status()).isEqualTo(200);
        assertThat(send("GET", "/app/css/site.css", "Range: bytes=0-3", "If-Range: " + etag(22)).status())
                .isEqualTo(206);
        assertThat(send("GET", "/app/css/site.css", "Range: bytes=0-3", "If-Range: Thu, 01 Jan 2026 00:00:00 GMT")
                .status()).isEqualTo(206);
        assertThat(send("GET", "/app/css/site.css", "Range: lines=1-2").status()).isEqualTo(200);
        assertThat(send("GET", "/app/css/site.css", "Range: bytes=0-15,5-20").status()).isEqualTo(200);
    }

    @Test
    void severalRangesAreAnsweredAsMultipartByteranges() throws Exception {
        Response parts = send("GET", "/app/css/site.css", "Range: bytes=0-3, -2");
        assertThat(parts.status()).isEqualTo(206);
        String type = parts.header("Content-Type");
        assertThat(type).matches("multipart/byteranges; boundary=\\d{20}");
        String boundary = type.substring(type.indexOf('=') + 1);
        String expected = "\r\n--" + boundary + "\r\nContent-Type: text/css\r\nContent-Range: bytes 0-3/22\r\n\r\nbody"
                + "\r\n--" + boundary + "\r\nContent-Type: text/css\r\nContent-Range: bytes 20-21/22\r\n\r\n}\n"
                + "\r\n--" + boundary + "--\r\n";
        assertThat(new String(parts.body(), StandardCharsets.ISO_8859_1)).isEqualTo(expected);
        assertThat(parts.header("Content-Length")).isEqualTo(Integer.toString(expected.length()));
        assertThat(parts.header("Content-Range")).isNull();
        Response head = send("HEAD", "/app/css/site.css", "Range: bytes=0-3, -2");
        assertThat(head.body()).isEmpty();
        assertThat(head.header("Content-Length")).isEqualTo(Integer.toString(expected.length()));

        // Large parts: written as the client reads them.
        Response big = send("GET", "/app/big.bin", "Range: bytes=10-1000009,2000000-");
        assertThat(big.status()).isEqualTo(206);
        String bigType = big.header("Content-Type");
        String bigBoundary = bigType.substring(bigType.indexOf('=') + 1);
        byte[] first = ("\r\n--" + bigBoundary + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 10-1000009/"
                + LARGE.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] second = ("\r\n--" + bigBoundary + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 2000000-"
                + (LARGE.length - 1) + "/" + LARGE.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] tail = ("\r\n--" + bigBoundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1);
        java.io.ByteArrayOutputStream whole = new java.io.ByteArrayOutputStream();
        whole.write(first);
        whole.write(LARGE, 10, 1_000_000);
        whole.write(second);
        whole.write(LARGE, 2_000_000, LARGE.length - 2_000_000);
        whole.write(tail);
        assertThat(big.body()).isEqualTo(whole.toByteArray());
        assertThat(big.header("Content-Length")).isEqualTo(Integer.toString(whole.size()));
    }

    @Test
    void pathsThatMustNotBeServedAsFilesGoToPhp() throws Exception {
        for (String path : new String[] {"/app/index.php", "/app/INDEX.PHP", "/app/.env", "/app/.well-known/.hidden", "/app/css/.hidden.css",
            "/app/.well-known/../.env", "/app/css/.well-known/x",
            "/app/css", "/app/css/", "/app/", "/app", "/app/nothing.css", "/app/css/%2e%2e/.env",
            "/php/site.css"}) {
            Response r = send("GET", path);
            assertThat(r.fromPhp()).as("%s answered by PHP: %s %s", path, r.status(), r.head()).isTrue();
        }
        // Paths the container refuses or maps elsewhere itself: never the file either.
        for (String path : new String[] {"/app/%2e%2e/outside.txt", "/app/css%2f..%2f..%2foutside.txt",
            "/app/big.bin%00.txt", "/app/%zz"}) {
            Response r = send("GET", path);
            assertThat(r.header("ETag")).as("%s: %s %s", path, r.status(), r.head()).isNull();
            assertThat(new String(r.body(), StandardCharsets.ISO_8859_1)).doesNotContain(OUTSIDE);
        }
        // Dot segments and repeated slashes resolved as nginx resolves them, before anything else.
        for (String path : new String[] {"/app/css/../css/site.css", "/app/./css//site.css", "/app/x/%2e%2E/css/site.css"}) {
            Response r = send("GET", path);
            assertThat(r.status()).as(path).isEqualTo(200);
            assertThat(r.header("ETag")).as(path).isEqualTo(etag(22));
        }
        Response post = send("POST", "/app/css/site.css", "Content-Length: 0");
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.header("Allow")).isEqualTo("GET, HEAD");
    }

    /**
     * A file the JVM's user may not read: 403, as nginx answers it, for a small file and for one Tomcat
     * would send itself; not a 200 with the file's validators and no body, nor a failure that runs
     * the error page. (Skipped as root, who may read any file.)
     */
    @Test
    void aFileTheServerMayNotReadIsForbidden(CapturedOutput output) throws Exception {
        Path small = root.resolve("app-public/private.txt");
        Path large = root.resolve("app-public/private.bin");
        write(small, "private".getBytes(StandardCharsets.UTF_8));
        write(large, LARGE);
        Files.setPosixFilePermissions(small, java.util.Set.of());
        Files.setPosixFilePermissions(large, java.util.Set.of());
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.isReadable(small), "run as root: every file is readable");
        for (String method : new String[] {"GET", "HEAD"}) {
            for (String path : new String[] {"/app/private.txt", "/app/private.bin"}) {
                Response r = send(method, path);
                assertThat(r.status()).as("%s %s: %s", method, path, r.head()).isEqualTo(403);
                assertThat(r.header("ETag")).as("%s %s", method, path).isNull();
                assertThat(r.body()).as("%s %s", method, path).isEmpty();
            }
        }
        assertThat(output.getOut() + output.getErr()).doesNotContain("Servlet.service()", "AccessDeniedException");
    }

    /**
     * A file removed between its stat and the check that it may be read (a deploy deleting it) was
     * never there as far as the answer goes: not a 403, which is for a file that is there and
     * unreadable. Raced for 3 s in this class only: the subclasses change how a path maps to its file
     * (a context path) and how an opened file is sent (no sendfile), not the open and the check this races.
     */
    @Test
    void aFileRemovedWhileAskedForIsNotForbidden() throws Exception {
        Assumptions.assumeTrue(getClass() == StaticFilesIntegrationTest.class, "the removal race does not depend on the "
                + "context path or sendfile this subclass changes: it runs once, in StaticFilesIntegrationTest");
        Path file = root.resolve("app-public/flipping.txt");
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread writer = new Thread(() -> {
            try {
                while (!stop.get()) {
                    Files.write(file, new byte[] {'x'});
                    Files.deleteIfExists(file);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        writer.start();
        try {
            long deadline = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < deadline) {
                Response r = send("GET", "/app/flipping.txt");
                assertThat(r.status()).as("%s", r.head()).isNotEqualTo(403);
            }
        } finally {
            stop.set(true);
            writer.join();
        }
    }

    /**
     * A small file made shorter between its stat and its read (a deploy copying over it): what is
     * left goes out and the connection closes, as nginx closes it, so that the client sees a
     * truncated answer at once instead of waiting on a keep-alive connection for bytes its
     * Content-Length still promises.
     */
    @Test
    void aFileShortenedWhileAnsweredClosesTheConnection() throws Exception {
        Path file = root.resolve("app-public/changing.txt");
        byte[] longer = new byte[30_000]; // under the 32KB written at once
        Arrays.fill(longer, (byte) 'a');
        Files.write(file, longer);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread writer = new Thread(() -> {
            try {
                while (!stop.get()) {
                    Files.write(file, longer); // truncated, then written: a copy over the file
                    try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(file,
                            java.nio.file.StandardOpenOption.WRITE)) {
                        c.truncate(10);
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        writer.start();
        int cut = 0;
        int answered = 0;
        long deadline = System.nanoTime() + 20_000_000_000L;
        try {
            while (cut < 3 && System.nanoTime() < deadline) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    s.setSoTimeout(5_000); // far longer than a local answer takes: a wait for promised bytes
                    InputStream in = s.getInputStream();
                    while (System.nanoTime() < deadline) {
                        s.getOutputStream().write(("GET " + contextPath + "/app/changing.txt HTTP/1.1\r\nHost: h\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        StringBuilder head = new StringBuilder();
                        int b;
                        while (head.indexOf("\r\n\r\n") < 0 && (b = in.read()) >= 0) {
                            head.append((char) b);
                        }
                        assertThat(head.toString()).startsWith("HTTP/1.1 200");
                        Response parsed = new Response(200, head.toString().trim(), new byte[0]);
                        int length = Integer.parseInt(parsed.header("Content-Length"));
                        byte[] body;
                        try {
                            body = in.readNBytes(length);
                        } catch (java.net.SocketTimeoutException e) {
                            throw new AssertionError("the connection stayed open after a shortened answer ("
                                    + answered + " answered before): the client waits for bytes that never come", e);
                        }
                        answered++;
                        if (body.length < length) {
                            cut++; // the file got shorter: what was read, then the end of the connection
                            break;
                        }
                        if ("close".equalsIgnoreCase(parsed.header("Connection"))) {
                            break; // Tomcat's maxKeepAliveRequests reached
                        }
                    }
                }
            }
        } finally {
            stop.set(true);
            writer.join();
        }
        assertThat(cut).as("answers cut short by the writer (%s answered)", answered).isPositive();
        assertThat(send("GET", "/app/css/site.css").status()).isEqualTo(200);
    }

    /**
     * Clients that reset the connection while a large file goes out to them (a cancelled download;
     * several ranges, which the gateway writes itself even where Tomcat has sendfile): the request
     * ends there, without Spring Boot's error page running for it (a warning per client).
     */
    @Test
    void aClientThatResetsADownloadEndsItQuietly(CapturedOutput output) throws Exception {
        String[] ranges = {"", "Range: bytes=0-10,2000000-3000000\r\n"}; // the whole file, and several ranges
        for (int i = 0; i < 16; i++) {
            try (Socket s = new Socket()) {
                s.setReceiveBufferSize(4096);
                s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
                s.setSoTimeout(20_000);
                s.getOutputStream().write(("GET " + contextPath + "/app/big.bin HTTP/1.1\r\nHost: h\r\n" + ranges[i % 2] + "\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                byte[] head = s.getInputStream().readNBytes(12);
                assertThat(new String(head, StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 20");
                s.setSoLinger(true, 0); // close with a reset, with most of the file unread
            }
        }
        assertThat(send("GET", "/app/css/site.css").status()).isEqualTo(200);
        assertThat(output.getOut() + output.getErr()).as("no error page, no container error for clients that left")
                .doesNotContain("DefaultHandlerExceptionResolver", "Servlet.service()", "Initializing Spring DispatcherServlet");
    }
}
