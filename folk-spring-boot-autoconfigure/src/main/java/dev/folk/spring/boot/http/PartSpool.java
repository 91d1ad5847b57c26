package dev.folk.spring.boot.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Arrays;

import org.jspecify.annotations.Nullable;

/**
 * The parts of a streamed answer the client has not taken yet: in memory up to
 * {@link #MEMORY_BYTES} (and while all answers together hold less than the gateway's limit for
 * them), past that in a temporary file, as nginx buffers a FastCGI answer, so that a slow client
 * never holds the worker (PHP-FPM's worker is free once nginx has the answer). The
 * file is unlinked as soon as it is open: nothing is left on disk, even if the JVM dies. Not
 * thread-safe: its exchange's lock guards it.
 *
 * <p>With the Content-Length PHP declared, it keeps the answer to that length, as nginx keeps a
 * FastCGI answer to it: bytes past it are dropped, and an answer that ends short of it is cut.
 */
final class PartSpool {

    /** Held in memory before parts go to the file. */
    static final long MEMORY_BYTES = 1024 * 1024;

    /** The most held for one answer (nginx's fastcgi_max_temp_file_size): past it, the answer is cut. */
    static final long MAX_BYTES = 1024L * 1024 * 1024;

    /** How much is read back from the file per write to the client. */
    private static final int READ_BYTES = 64 * 1024;

    /** PHP's Content-Length, or -1 without one. */
    private final long declared;
    /** What all answers' parts in memory hold together, this one's included. */
    private final HeldBytes heap;
    /** Bytes taken for the client so far. */
    private long accepted;
    /** Bytes past {@link #declared}, dropped. */
    private long dropped;
    private final ArrayDeque<byte[]> memory = new ArrayDeque<>(4);
    private long memoryBytes;
    private @Nullable FileChannel file;
    private long written;
    private long read;

    /**
     * @param declared the Content-Length of PHP's answer, or -1 without one
     * @param heap     what all answers' parts in memory hold together, and the most they may
     */
    PartSpool(long declared, HeldBytes heap) {
        this.declared = declared;
        this.heap = heap;
    }

    /** Bytes held, in memory and in the file. */
    long size() {
        return memoryBytes + (written - read);
    }

    boolean isEmpty() {
        return memory.isEmpty() && written == read;
    }

    /**
     * Adds a part after those held: to memory while the file is empty and memory has room (this
     * answer's and all answers'), else to the file. Fails if the file cannot take it, or past
     * {@link #MAX_BYTES}: the answer cannot go on whole.
     */
    void add(byte[] bytes) throws IOException {
        if (declared >= 0 && accepted + bytes.length > declared) {
            int room = (int) (declared - accepted);
            dropped += bytes.length - room;
            bytes = Arrays.copyOf(bytes, room);
        }
        if (bytes.length == 0) {
            return;
        }
        accepted += bytes.length;
        if (size() + bytes.length > MAX_BYTES) {
            throw new IOException("its client took too little of it: over " + MAX_BYTES + " bytes were held");
        }
        if (written == read && memoryBytes + bytes.length <= MEMORY_BYTES && heap.reserve(bytes.length)) {
            memory.add(bytes);
            memoryBytes += bytes.length;
            return;
        }
        FileChannel f = file;
        if (f == null) {
            Path path = Files.createTempFile("folk-answer-", ".part");
            try {
                f = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } finally {
                Files.delete(path);
            }
            file = f;
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        try {
            while (buffer.hasRemaining()) {
                written += f.write(buffer, written);
            }
        } catch (IOException e) {
            // "No space left on device": say which, so that the log tells where room is missing.
            throw new IOException("its spool file in java.io.tmpdir (" + System.getProperty("java.io.tmpdir")
                    + ") took no more: " + e.getMessage(), e);
        }
    }

    /** The next bytes to write to the client, in the order added; null when nothing is held. */
    byte @Nullable [] next() throws IOException {
        byte[] bytes = memory.poll();
        if (bytes != null) {
            memoryBytes -= bytes.length;
            heap.release(bytes.length);
            return bytes;
        }
        FileChannel f = file;
        if (f == null || written == read) {
            return null;
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(READ_BYTES, written - read));
        while (buffer.hasRemaining()) {
            int n = f.read(buffer, read + buffer.position());
            if (n < 0) {
                throw new IOException("the answer's spool file ended early");
            }
        }
        read += buffer.capacity();
        if (read == written) {
            // Drained: start the file over, so that a long stream does not grow it for ever.
            f.truncate(0);
            read = 0;
            written = 0;
        }
        return buffer.array();
    }

    /**
     * At the answer's end, all of it added: why it must be cut if it fell short of PHP's
     * Content-Length (the client would wait for the rest, or take the next response for it), else
     * null. Bytes dropped past that length are logged.
     */
    @Nullable IOException shortfall(String pool, String label, RepeatedWarnings warnings) {
        if (dropped > 0) {
            warnings.answerFixed(RepeatedWarnings.Kind.PAST_LENGTH, pool, "Pool '" + pool + "' sent " + dropped
                    + " bytes past the Content-Length (" + declared + ") of its answer to " + label + "; they were dropped",
                    label);
            dropped = 0;
        }
        if (accepted < declared) {
            return new IOException("it ended after " + accepted + " of the " + declared
                    + " bytes its Content-Length declared");
        }
        return null;
    }

    /** Drops what is held and deletes the file. */
    void close() {
        memory.clear();
        heap.release(memoryBytes);
        memoryBytes = 0;
        FileChannel f = file;
        file = null;
        written = 0;
        read = 0;
        if (f != null) {
            try {
                f.close();
            } catch (IOException e) {
                // unlinked already: its space is freed with the descriptor, whatever close says
            }
        }
    }
}
