package dev.folk.core.testing;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import dev.folk.core.os.Os;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.supervision.WorkerProcess;

/** The fault the chaos tests inject: a random live worker (busy, idle or booting) SIGKILLed on a schedule. */
public final class Chaos {

    private Chaos() {
    }

    /** What a chaos run did: the kills delivered, and when the last one was ({@link System#nanoTime()}). */
    public record Run(int kills, long lastKillNanos) {
    }

    /**
     * SIGKILLs a random worker of {@code supervisor} every {@code period} for {@code duration}, from
     * the calling thread; returns how many kills were delivered and when the last one was.
     */
    public static Run killRandomWorkers(Supervisor supervisor, Duration duration, Duration period)
            throws InterruptedException {
        int kills = 0;
        long lastKill = System.nanoTime();
        long end = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < end) {
            List<WorkerProcess> live = supervisor.workers();
            if (!live.isEmpty()) {
                WorkerProcess victim = live.get(ThreadLocalRandom.current().nextInt(live.size()));
                if (supervisor.signal(victim, Os.SIGKILL)) {
                    kills++;
                    lastKill = System.nanoTime();
                }
            }
            Thread.sleep(period.toMillis()); // the chaos schedule, not synchronisation
        }
        return new Run(kills, lastKill);
    }
}
