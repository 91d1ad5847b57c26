package dev.folk.core.os;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * What {@link Os#spawn} needs: an absolute executable path, argv, the exact environment, an
 * optional working directory, and the five parent-side descriptors that become the child's
 * fds 0..4 ({@code stdin} is opened on /dev/null by the spawn itself, so it is not listed).
 * The child gets a fresh process group and default signal state.
 */
public record SpawnRequest(String executable, List<String> argv, List<String> environment, @Nullable String workingDirectory,
                           int stdoutFd, int stderrFd, int fd3, int fd4) {

    public SpawnRequest {
        argv = List.copyOf(argv);
        environment = List.copyOf(environment);
    }
}
