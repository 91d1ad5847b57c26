package dev.folk.core.supervision;

import java.nio.file.Path;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * Where a worker's stdout and stderr lines go. They are always read, whatever the policy: a
 * worker writing into a pipe nobody drains blocks forever once the pipe's 64 KiB fill up.
 */
public final class OutputPolicy {

    /** What happens to each line. */
    public enum Kind {
        /**
         * Each line to SLF4J (logger {@code dev.folk.worker.<name>}): stdout at INFO, stderr at WARN, but a
         * notice ({@code folk-worker[<pid>]: notice: ...}, advice every worker of the name gives alike as it
         * starts) at WARN once per name, at DEBUG after that.
         */
        LOG,
        /** Read and dropped. */
        DISCARD,
        /**
         * Appended to a file, one line per output line, prefixed with the pid and stream; reopened
         * once its name names another file or none (rotated), looked at at most once a second.
         */
        FILE
    }

    private static final OutputPolicy LOG = new OutputPolicy(Kind.LOG, null);
    private static final OutputPolicy DISCARD = new OutputPolicy(Kind.DISCARD, null);

    private final Kind kind;
    private final @Nullable Path file;

    private OutputPolicy(Kind kind, @Nullable Path file) {
        this.kind = kind;
        this.file = file;
    }

    public static OutputPolicy log() {
        return LOG;
    }

    public static OutputPolicy discard() {
        return DISCARD;
    }

    public static OutputPolicy appendTo(Path file) {
        return new OutputPolicy(Kind.FILE, file.toAbsolutePath().normalize());
    }

    public Kind kind() {
        return kind;
    }

    /** The file of a {@link Kind#FILE} policy, else null. */
    public @Nullable Path file() {
        return file;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OutputPolicy other && kind == other.kind && Objects.equals(file, other.file);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, file);
    }

    @Override
    public String toString() {
        return kind == Kind.FILE ? "FILE(" + file + ")" : kind.name();
    }
}
