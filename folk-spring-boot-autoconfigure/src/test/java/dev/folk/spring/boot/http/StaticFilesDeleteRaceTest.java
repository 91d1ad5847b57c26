package dev.folk.spring.boot.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.util.FileSystemUtils;

import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;

/**
 * A public file that a deploy deletes just after the gateway has looked it up, under a {@code /**}
 * route: the request is answered as for a file that is not there (PHP's), as nginx answers it
 * (it opens first, then describes what it opened); never a 200 with the file's validators over
 * PHP's error page, nor an error logged. {@link StaticFiles#beforeOpen} deletes it at that moment.
 */
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.pools.main.size=1",
    "folk.shutdown.signal-handler=false",
})
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
class StaticFilesDeleteRaceTest {

    private static final String TAG = Workers.newTag();
    private static Path root;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws IOException {
        root = Files.createTempDirectory("folk-static-race");
        TestWorkers.use(registry, TestWorkers.HTTP, TAG);
        registry.add("folk.http.mappings[0].path", () -> "/**");
        registry.add("folk.http.mappings[0].pool", () -> "main");
        registry.add("folk.http.mappings[0].public-dir", () -> root.toString());
    }

    @AfterAll
    static void removeFiles() throws IOException {
        FileSystemUtils.deleteRecursively(root);
    }

    @AfterEach
    void noHook() {
        StaticFiles.beforeOpen = null;
    }

    @LocalServerPort
    int port;

    @Test
    void aFileDeletedBeforeItsOpenIsAnsweredAsOneThatIsNotThere(CapturedOutput output) throws Exception {
        Path file = root.resolve("gone.css");
        Files.writeString(file, "body { color: #123; }\n");
        assertThat(get("/gone.css")).as("served while it is there").startsWith("HTTP/1.1 200").contains("ETag:")
                .endsWith("body { color: #123; }\n");

        StaticFiles.beforeOpen = path -> {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        String answer = get("/gone.css");
        assertThat(Files.exists(file)).as("deleted by the hook").isFalse();
        assertThat(answer).as("PHP's, as for a missing file").contains("\"uri\":\"\\/gone.css\"")
                .doesNotContain("ETag:", "Last-Modified:", "Accept-Ranges:", "\\/error");
        assertThat(output.getOut() + output.getErr()).doesNotContain("ERROR", "NoSuchFileException");
    }

    /** A file replaced there (a deploy renaming a new version over it): the answer is all the new file's. */
    @Test
    void aFileReplacedBeforeItsOpenIsAnsweredAsTheNewFile() throws Exception {
        Path file = root.resolve("replaced.js");
        Files.writeString(file, "old();\n");
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(1_000_000_000_000L));
        String next = "the(); new(); version();\n";
        StaticFiles.beforeOpen = path -> {
            try {
                Path staged = Files.writeString(root.resolve("replaced.js.next"), next);
                Files.setLastModifiedTime(staged, java.nio.file.attribute.FileTime.fromMillis(2_000_000_000_000L));
                Files.move(staged, path, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        String answer = get("/replaced.js");
        assertThat(answer).startsWith("HTTP/1.1 200")
                .contains("ETag: \"" + Long.toHexString(2_000_000_000L) + '-' + Long.toHexString(next.length()) + "\"",
                        "Content-Length: " + next.length(), "Last-Modified: Wed, 18 May 2033 03:33:20 GMT")
                .endsWith("\r\n\r\n" + next);
    }

    /** GET of {@code path} on a connection of its own: the whole answer, head and body. */
    private String get(String path) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
