package dev.folk.core.supervision;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.folk.core.testing.Workers;

/**
 * Plays a JVM that will crash: a supervisor with a state file and three workers that survive
 * their master's death (they never read fd 3), each with a grandchild and a setsid escapee.
 * Prints "READY" and waits to be SIGKILLed.
 */
public final class CrashedRunMain {

    public static void main(String[] args) throws Exception {
        Path stateFile = Path.of(args[0]);
        String tag = args[1];
        Supervisor supervisor = Supervisor.builder().stateFile(stateFile).build();
        List<WorkerProcess> workers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String script = (i == 0 ? "trap '' TERM; " : "")
                    + "sleep 1000 & setsid sleep 1000 & echo ready >&4; while :; do sleep 1000; done";
            workers.add(supervisor.spawn(Workers.sh(tag, script).build()));
        }
        for (WorkerProcess w : workers) {
            Workers.awaitLine(w.controlChannel(), "ready", Duration.ofSeconds(10));
        }
        System.out.println("READY " + supervisor.stateFile().orElseThrow());
        Thread.sleep(Long.MAX_VALUE);
    }
}
