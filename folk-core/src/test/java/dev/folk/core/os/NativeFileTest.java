package dev.folk.core.os;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file calls the HTTP gateway serves public files with: open, fstat of the descriptor, pread. */
class NativeFileTest {

    private final Os os = NativeOs.get();

    @TempDir
    Path dir;

    @Test
    void anOpenFileIsDescribedAndReadThroughItsDescriptorEvenOnceItsNameIsGone() throws Exception {
        Path file = dir.resolve("caf\u00e9.txt");
        Files.writeString(file, "hello, file");
        Files.setLastModifiedTime(file, FileTime.fromMillis(1_767_225_600_123L));
        int fd = os.openForReading(file);
        try {
            Files.delete(file);
            assertThat(os.fileStatus(fd)).isEqualTo(new FileStatus(true, 11, 1_767_225_600L));
            assertThat(NativeOs.fileStatusThroughProc(fd)).as("where statx(2) is refused")
                    .isEqualTo(new FileStatus(true, 11, 1_767_225_600L));
            ByteBuffer buffer = ByteBuffer.allocate(8);
            buffer.put((byte) '>');
            assertThat(os.pread(fd, buffer, 7)).isEqualTo(4);
            assertThat(new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8)).isEqualTo(">file");
            assertThat(os.pread(fd, buffer, 11)).as("at its end").isZero();
        } finally {
            os.close(fd);
        }
    }

    @Test
    void aMissingFileIsEnoentAndADirectoryOrFifoIsNoRegularFile() throws Exception {
        assertThat(os.openForReading(dir.resolve("missing"))).isEqualTo(-Os.ENOENT);
        int fd = os.openForReading(dir);
        try {
            assertThat(os.fileStatus(fd).regular()).isFalse();
            assertThat(NativeOs.fileStatusThroughProc(fd).regular()).as("where statx(2) is refused").isFalse();
        } finally {
            os.close(fd);
        }
        Path fifo = dir.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        fd = os.openForReading(fifo); // non-blocking: no writer to wait for
        try {
            assertThat(os.fileStatus(fd).regular()).isFalse();
            assertThat(NativeOs.fileStatusThroughProc(fd).regular()).as("where statx(2) is refused").isFalse();
        } finally {
            os.close(fd);
        }
    }

    @Test
    void aDescriptorThatIsNotOpenIsEbadfAndNeverAnotherFile() {
        int fd = os.openForReading(dir);
        os.close(fd);
        assertThatThrownBy(() -> os.fileStatus(fd)).isInstanceOfSatisfying(OsException.class,
                e -> assertThat(e.errnoName()).isEqualTo("EBADF"));
        assertThatThrownBy(() -> NativeOs.fileStatusThroughProc(fd)).isInstanceOfSatisfying(OsException.class,
                e -> assertThat(e.errnoName()).isEqualTo("ENOENT"));
    }
}
