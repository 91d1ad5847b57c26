package dev.folk.core.supervision;

import dev.folk.core.FolkException;
import dev.folk.core.os.OsException;

import org.jspecify.annotations.Nullable;

/**
 * A worker could not be started. Names the executable and the operating system's reason
 * ({@code ENOENT}, {@code EACCES}, ...) and says what to check. Nothing of the failed attempt
 * stays registered or open.
 */
public class SpawnException extends FolkException {

    private final String executable;
    private final String reason;

    public SpawnException(String executable, String reason, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.executable = executable;
        this.reason = reason;
    }

    static SpawnException of(String name, String executable, OsException e) {
        return new SpawnException(executable, e.errnoName(),
                "Cannot start worker '" + name + "': " + OsException.describe(e.errno()) + " for executable '"
                        + executable + "'. " + advice(e.errnoName()), e);
    }

    static SpawnException notFound(String name, String executable, String searched) {
        return new SpawnException(executable, "ENOENT",
                "Cannot start worker '" + name + "': executable '" + executable + "' not found ("
                        + searched + "): ENOENT (No such file or directory). " + advice("ENOENT"), null);
    }

    static SpawnException notExecutable(String name, String executable, String why) {
        return new SpawnException(executable, "EACCES",
                "Cannot start worker '" + name + "': '" + executable + "' " + why
                        + ": EACCES (Permission denied). " + advice("EACCES"), null);
    }

    private static String advice(String errno) {
        return switch (errno) {
            case "ENOENT" -> "Install the program or configure its full path.";
            case "EACCES" -> "Point to a regular file with the execute permission (chmod +x).";
            case "ENOEXEC" -> "The file is not a valid executable; scripts need a #! line.";
            case "EMFILE", "ENFILE" -> "The process is out of file descriptors; raise the limit (ulimit -n).";
            case "EAGAIN", "ENOMEM" -> "The system is out of processes or memory; retry later or lower the pool size.";
            default -> "Check the executable and the system's limits.";
        };
    }

    /** The executable as configured (or as resolved, once resolution got that far). */
    public String executable() {
        return executable;
    }

    /** The symbolic errno, e.g. {@code ENOENT}. */
    public String reason() {
        return reason;
    }
}
