package dev.folk.core.supervision;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.os.Os;
import dev.folk.core.os.OsException;
import dev.folk.core.util.Deadline;

/**
 * Ends what a crashed previous run recorded in a state file (the one a supervisor takes, or
 * another slot of its name that no live supervisor holds) left behind, once, when a supervisor
 * starts: the groups whose leader still has the recorded start time (a recycled pid has another
 * one and is left alone), and any process still carrying that run's tag (members whose leader
 * died, setsid escapees).
 */
final class PreviousRun {

    /** Logs as the supervisor it serves: one logger name to configure for all of supervision's lifecycle. */
    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    private static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private PreviousRun() {
    }

    static void end(Os os, OrphanReaper orphans, Path stateFile, WorkerStateFile.Previous previous) {
        if (!previous.bootId().equals(ProcFs.bootId())) {
            log.info("Worker state file {} is from an earlier boot: nothing of it can still run", stateFile);
            return;
        }
        List<Integer> groups = new ArrayList<>();
        previous.groups().forEach((pgid, startTime) -> {
            ProcFs.Stat s = ProcFs.stat(pgid);
            if (s != null && !s.zombie() && s.pgrp() == pgid && s.startTime() == startTime) {
                groups.add(pgid);
            }
        });
        for (int pgid : groups) {
            os.kill(-pgid, Os.SIGTERM);
            os.kill(-pgid, Os.SIGCONT);
        }
        Deadline termed = Deadline.at(System.nanoTime() + TimeUnit.SECONDS.toNanos(1), 1_000_000, MAX_PAUSE_NANOS);
        while (!ProcFs.withLiveMembers(new HashSet<>(groups)).isEmpty() && termed.pause()) {
            // poll: nothing tells us when a group of another run empties
        }
        for (int pgid : ProcFs.withLiveMembers(new HashSet<>(groups))) {
            os.kill(-pgid, Os.SIGKILL);
        }
        // Leaders re-parented to us are now our zombies (their environment, and so their tag,
        // is gone): reap them by pid, which their zombie still pins.
        long leadersBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        for (int pgid : groups) {
            Deadline d = Deadline.at(leadersBy, 1_000_000);
            do {
                try {
                    if (os.wait4(pgid, true) != null) {
                        break;
                    }
                } catch (OsException notOurChild) {
                    break; // its parent (init or another subreaper) reaps it
                }
            } while (d.pause());
        }
        Set<Integer> swept = new HashSet<>(groups);
        int tagged = orphans.endTagged(ProcFs.runTag(previous.runId()), System.nanoTime() + TimeUnit.SECONDS.toNanos(1),
                swept);
        // Members re-parented to us (we are a subreaper) die as our zombies: collect them now, and
        // let the periodic reaper pick up any that end later.
        orphans.rememberReleasedGroups(swept);
        Deadline reapBy = Deadline.at(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500), 5_000_000);
        while (orphans.reapZombies(swept) && reapBy.pause()) {
            // poll: a member dies as our zombie without telling us
        }
        if (!groups.isEmpty() || tagged > 0) {
            log.warn("Ended {} worker group(s) and {} tagged process(es) left behind by run {} (state file {})",
                    groups.size(), tagged, previous.runId(), stateFile);
        }
    }
}
