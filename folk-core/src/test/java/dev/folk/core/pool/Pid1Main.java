package dev.folk.core.pool;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import dev.folk.core.supervision.Supervisor;

/**
 * Runs as PID 1 of its own pid namespace (under {@code unshare --pid --fork --mount-proc}): PHP
 * workers start background jobs that are orphaned at once; as init, the JVM inherits every one.
 * Prints "PID <pid>", then "ZOMBIES <left> MAX <most seen>" once none remain or 10 s passed.
 */
public final class Pid1Main {

    public static void main(String[] args) throws Exception {
        System.out.println("PID " + ProcessHandle.current().pid());
        Supervisor supervisor = new Supervisor();
        WorkerPool pool = WorkerPool.start(PoolConfig.builder("init", PhpWorkers.testWorker(args[0]).build()).size(2)
                .build(), supervisor);
        if (!pool.awaitReady(2, Duration.ofSeconds(20))) {
            throw new IllegalStateException("pool not ready: " + pool.lastFailure());
        }
        for (int i = 0; i < 50; i++) {
            pool.call("orphans", 4L);
        }
        int max = 0;
        int zombies;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        do {
            Thread.sleep(100);
            zombies = zombies();
            max = Math.max(max, zombies);
        } while (zombies > 0 && System.nanoTime() < deadline);
        pool.close();
        supervisor.close();
        System.out.println("ZOMBIES " + zombies() + " MAX " + max);
    }

    private static int zombies() throws IOException {
        int n = 0;
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : procs) {
                String name = p.getFileName().toString();
                if (!Character.isDigit(name.charAt(0))) {
                    continue;
                }
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    if (stat.charAt(stat.lastIndexOf(')') + 2) == 'Z') {
                        n++;
                    }
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return n;
    }
}
