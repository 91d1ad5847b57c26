package dev.folk.core.supervision;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.os.Os;
import dev.folk.core.os.OsException;

/**
 * Ends what a crashed previous run recorded in the state file left behind, once, when a
 * supervisor starts: the groups whose leader still has the recorded start time (a recycled pid
 * has another one and is left alone), and any process still carrying that run's tag (members
 * whose leader died, setsid escapees).
 */
final class PreviousRun {

    /** Logs as the supervisor it serves: one logger name to configure for all of supervision's lifecycle. */
    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    private static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private PreviousRun() {
    }

    static void end(Os os, OrphanReaper orphans, WorkerStateFile stateFile, WorkerStateFile.Previous previous) {
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
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        long pause = 1_000_000;
        while (!ProcFs.withLiveMembers(new HashSet<>(groups)).isEmpty() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, MAX_PAUSE_NANOS);
        }
        for (int pgid : ProcFs.withLiveMembers(new HashSet<>(groups))) {
            os.kill(-pgid, Os.SIGKILL);
        }
        // Leaders re-parented to us are now our zombies (their environment, and so their tag,
        // is gone): reap them by pid, which their zombie still pins.
        long leadersBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        for (int pgid : groups) {
            while (true) {
                try {
                    if (os.wait4(pgid, true) != null || System.nanoTime() > leadersBy) {
                        break;
                    }
                } catch (OsException notOurChild) {
                    break; // its parent (init or another subreaper) reaps it
                }
                LockSupport.parkNanos(1_000_000);
            }
        }
        Set<Integer> swept = new HashSet<>(groups);
        int tagged = orphans.endTagged(ProcFs.runTag(previous.runId()), System.nanoTime() + TimeUnit.SECONDS.toNanos(1),
                swept);
        // Members re-parented to us (we are a subreaper) die as our zombies: collect them now, and
        // let the periodic reaper pick up any that end later.
        orphans.rememberReleasedGroups(swept);
        long reapBy = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        while (orphans.reapZombies(swept) && System.nanoTime() < reapBy) {
            LockSupport.parkNanos(5_000_000);
        }
        if (!groups.isEmpty() || tagged > 0) {
            log.warn("Ended {} worker group(s) and {} tagged process(es) left behind by run {} (state file {})",
                    groups.size(), tagged, previous.runId(), stateFile);
        }
    }
}
