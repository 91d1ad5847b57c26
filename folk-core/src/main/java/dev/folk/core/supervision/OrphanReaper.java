package dev.folk.core.supervision;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.os.Os;
import dev.folk.core.os.OsException;
import dev.folk.core.supervision.WorkerProcess.State;
import dev.folk.core.util.Deadline;

import org.jspecify.annotations.Nullable;

/**
 * Children we did not start but must reap: members of worker groups re-parented to us (we are a
 * subreaper), setsid escapees carrying our run tag, and orphans of processes started by other
 * means. Worker leaders are never taken here: each is reaped by its stop ladder alone.
 *
 * <p>{@link #reapOrphans()} is the I/O thread's periodic job; the zombie sets it keeps between
 * ticks are that thread's alone, the others are shared with the stop ladder and the spawner.
 */
final class OrphanReaper {

    /** Logs as the supervisor it serves: one logger name to configure for all of supervision's lifecycle. */
    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    private static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /**
     * How long a sweep waits, at most, for the processes it found mid-exec to show their
     * environment: an exec takes about a millisecond, far longer on a loaded machine.
     */
    private static final long EXEC_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Looks, a millisecond or more apart, at a process with arguments and no whole environment before it counts as untagged. */
    private static final int UNCLEAR_LOOKS = 3;

    /** Scans of one sweep at most: each ends what the one before missed (children forked meanwhile). */
    private static final int MAX_SWEEPS = 4;

    /**
     * Time each rescan has at least, whatever the sweep's deadline: the child it is after may be
     * in its first exec, which the second looks wait out; and it gets this much grace after TERM.
     */
    private static final long RESCAN_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private static final AtomicBoolean SUBREAPER_SET = new AtomicBoolean();
    /** This JVM is a child subreaper (or PID 1): the kernel re-parents orphans to it. */
    private static volatile boolean orphansComeToUs;
    /** Registries of the supervisors not yet closed: none may reap another's worker leader as a stray orphan. */
    private static final Set<Registry<WorkerProcess>> OPEN = ConcurrentHashMap.newKeySet();

    private final Os os;
    private final Registry<WorkerProcess> registry;
    private final byte[] runTag;
    /** Groups of recently released workers: their zombie members may still need reaping. */
    private final Set<Integer> releasedGroups = Collections.synchronizedSet(new LinkedHashSet<>());
    /** Our children outside any worker group that carry our run tag (setsid escapees). */
    private final Set<Integer> escapees = ConcurrentHashMap.newKeySet();
    /** Zombie children seen on the last orphan-reaping tick (I/O thread only). */
    private final Set<Integer> lingering = new HashSet<>();

    OrphanReaper(Os os, Registry<WorkerProcess> registry, byte[] runTag) {
        this.os = os;
        this.registry = registry;
        this.runTag = runTag;
    }

    /**
     * Makes the JVM a child subreaper, once per JVM, when asked to; notes whether orphans come to
     * us (they do for PID 1 as well).
     */
    static void adoptOrphans(Os os, boolean subreaper) {
        if (subreaper && SUBREAPER_SET.compareAndSet(false, true)) {
            if (os.becomeSubreaper()) {
                orphansComeToUs = true;
            } else {
                log.warn("Could not become a child subreaper; orphaned worker children are left to init");
            }
        }
        if (os.getpid() == 1) {
            orphansComeToUs = true;
        }
    }

    /** Whether the kernel re-parents orphans to this JVM, so our own children tell about a group's members. */
    static boolean orphansComeToUs() {
        return orphansComeToUs;
    }

    /** From now until {@link #closed()}, other supervisors' reapers leave this registry's leaders alone. */
    void opened() {
        OPEN.add(registry);
    }

    void closed() {
        OPEN.remove(registry);
    }

    /** A worker was published with this pid: it is no escapee, even if a tick saw it tagged before. */
    void published(int pid) {
        escapees.remove(pid);
    }

    void rememberReleasedGroups(Set<Integer> pgids) {
        synchronized (releasedGroups) {
            releasedGroups.addAll(pgids);
            while (releasedGroups.size() > 1024) {
                releasedGroups.remove(releasedGroups.iterator().next());
            }
        }
    }

    /**
     * Once a second on the I/O thread: reaps zombies among our children that belong to worker
     * groups (orphans re-parented to us; leaders are left to the stop ladder) or that carried our
     * run tag outside any group. Without it, a worker that keeps starting background jobs would
     * fill the process table with zombies — the more so when the JVM is PID 1.
     */
    void reapOrphans() {
        Set<Integer> groups = new HashSet<>();
        for (WorkerProcess p : registry.snapshot()) {
            if (p.state() != State.STARTING) {
                groups.add(p.pgid());
            }
        }
        synchronized (releasedGroups) {
            groups.addAll(releasedGroups);
        }
        Set<Integer> otherZombies = new HashSet<>();
        reapZombies(groups, otherZombies);
        reapLingeringZombies(otherZombies);
    }

    /**
     * A subreaper must reap every orphan the kernel hands it, not only those of our workers: the
     * background job of a script the application started with ProcessBuilder is re-parented to us
     * too, and nobody else will ever wait for it. A child the JDK started is reaped by the JDK's own
     * thread the moment it exits, so a zombie child seen on two ticks in a row (a second apart)
     * that is no worker leader (of any supervisor in this JVM) is an adopted orphan: reap it. Spawns
     * in flight make us skip a tick. {@code zombies}: this tick's zombie children that
     * {@link #reapZombies} left alone.
     */
    private void reapLingeringZombies(Set<Integer> zombies) {
        if (!orphansComeToUs) {
            return; // then every child is someone's own, and its own waiter reaps it
        }
        if (zombies.isEmpty()) {
            lingering.clear();
            return;
        }
        for (Registry<WorkerProcess> other : OPEN) {
            for (WorkerProcess p : other.snapshot()) {
                if (p.state() == State.STARTING) {
                    lingering.clear();
                    return;
                }
                zombies.remove(p.pid()); // a leader is reaped by its ladder alone
            }
        }
        Set<Integer> seenBefore = new HashSet<>(lingering);
        lingering.clear();
        for (int pid : zombies) {
            if (!seenBefore.contains(pid)) {
                lingering.add(pid); // reaped next tick if still there
                continue;
            }
            try {
                os.wait4(pid, true);
            } catch (OsException alreadyReaped) {
                // its other waiter got there first
            }
        }
    }

    /**
     * Reaps our zombie children that are members (never leaders) of {@code groups}, and those
     * that carried our run tag outside any group. A worker leader is reaped by its stop ladder
     * alone: here a group leader is never taken on the strength of its group id, which a fresh,
     * not yet published worker may share with a released one. Returns whether any child in
     * those groups is still alive.
     */
    boolean reapZombies(Set<Integer> groups) {
        return reapZombies(groups, null);
    }

    /** {@link #reapZombies(Set)}, adding to {@code leftAlone} (if not null) the zombie children it did not reap. */
    private boolean reapZombies(Set<Integer> groups, @Nullable Set<Integer> leftAlone) {
        Set<Integer> children = ProcFs.ownChildren();
        if (children.isEmpty()) {
            escapees.clear();
            return false;
        }
        Set<Integer> leaders = new HashSet<>();
        for (WorkerProcess p : registry.snapshot()) {
            leaders.add(p.pid());
        }
        boolean alive = false;
        for (int child : children) {
            if (leaders.contains(child)) {
                continue;
            }
            ProcFs.Stat s = ProcFs.stat(child);
            if (s == null) {
                continue;
            }
            if (s.zombie()) {
                boolean member = groups.contains(s.pgrp()) && s.pgrp() != child;
                if (member || escapees.remove(child) && !registeredPid(child)) {
                    try {
                        os.wait4(child, true);
                    } catch (OsException alreadyReaped) {
                        // a concurrent sweep got it
                    }
                } else if (leftAlone != null) {
                    leftAlone.add(child);
                }
            } else if (groups.contains(s.pgrp())) {
                alive = true;
            } else if (!escapees.contains(child) && ProcFs.environHas(child, runTag)) {
                escapees.add(child);
            }
        }
        escapees.retainAll(children);
        return alive;
    }

    private boolean registeredPid(int pid) {
        for (WorkerProcess p : registry.snapshot()) {
            if (p.pid() == pid || p.state() == State.STARTING) {
                return true; // a spawn in flight could be this pid: leave it alone this time
            }
        }
        return false;
    }

    /**
     * Holds a pidfd on {@code pid}, found carrying {@code tag}, once it is sure the pidfd is that
     * process's: the tag is read again after the open, so a pid reused in between is not taken.
     */
    private void openTagged(int pid, byte[] tag, long deadline, Map<Integer, Integer> pidfds, Set<Integer> groups) {
        int fd;
        try {
            fd = os.pidfdOpen(pid);
        } catch (OsException gone) {
            return;
        }
        ProcFs.Stat stat = ProcFs.stat(pid);
        if (fd >= 0 && stat != null && stillTagged(pid, tag, deadline)) {
            pidfds.put(pid, fd);
            groups.add(stat.pgrp());
        } else {
            os.close(fd);
        }
    }

    /** {@link #sort} and {@link #settle} for one process. */
    private static boolean stillTagged(int pid, byte[] tag, long deadline) {
        List<Integer> tagged = new ArrayList<>(1);
        Map<Integer, Integer> unsure = new HashMap<>(1);
        sort(pid, tag, tagged, unsure);
        settle(unsure, tag, deadline, tagged);
        return !tagged.isEmpty();
    }

    /**
     * Puts {@code pid} in {@code tagged} if it carries {@code tag}, or in {@code unsure} (with the
     * number of UNCLEAR reads so far) if an exec may be hiding it.
     */
    private static void sort(int pid, byte[] tag, List<Integer> tagged, Map<Integer, Integer> unsure) {
        switch (ProcFs.tag(pid, tag)) {
            case PRESENT -> tagged.add(pid);
            case MID_EXEC -> unsure.put(pid, 0);
            case UNCLEAR -> unsure.put(pid, 1);
            case ABSENT -> {
            }
        }
    }

    /**
     * One of ours doing an exec as the sweep passes has no whole environment for a moment; taken
     * for another's, it would outlive us. Looks again at the {@code unsure}, a millisecond apart,
     * until each shows the tag (added to {@code tagged}), shows another environment, or shows none
     * in {@link #UNCLEAR_LOOKS} looks (started with an empty one, say); for at most
     * {@link #EXEC_WAIT_NANOS}, and not past the sweep's deadline.
     */
    private static void settle(Map<Integer, Integer> unsure, byte[] tag, long deadline, List<Integer> tagged) {
        Deadline settled = Deadline.at(Math.min(System.nanoTime() + EXEC_WAIT_NANOS, deadline), 1_000_000);
        while (!unsure.isEmpty() && settled.pause()) {
            unsure.entrySet().removeIf(e -> switch (ProcFs.tag(e.getKey(), tag)) {
                case PRESENT -> {
                    tagged.add(e.getKey());
                    yield true;
                }
                case ABSENT -> true;
                case UNCLEAR -> {
                    e.setValue(e.getValue() + 1);
                    yield e.getValue() >= UNCLEAR_LOOKS;
                }
                case MID_EXEC -> false;
            });
        }
    }

    /**
     * Ends every process whose environment carries {@code tag}: TERM, up to the deadline, then
     * KILL; each is checked and signalled through a pidfd, so a pid reused in between is never
     * hit. Those that are our children (re-parented to us) are reaped. Adds their groups to
     * {@code groups}; returns how many it found.
     * <p>
     * A tagged process can fork after the scan that found it (a TERM handler starting a child,
     * say), and its new child would not be in that scan: while a scan finds tagged processes it
     * has not signalled yet, the sweep scans again, up to {@link #MAX_SWEEPS} times, each with at
     * least {@link #RESCAN_NANOS} of its own.
     */
    int endTagged(byte[] tag, long deadline, Set<Integer> groups) {
        // A process KILLed in one scan but not gone by the next (stuck in the kernel) is not waited for again.
        Set<Integer> signalled = new HashSet<>();
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            if (endTaggedOnce(tag, sweep == 0 ? deadline : Math.max(deadline, System.nanoTime() + RESCAN_NANOS),
                    groups, signalled) == 0) {
                break;
            }
        }
        return signalled.size();
    }

    /** One scan of {@link #endTagged}: ends the tagged processes not in {@code signalled}, adds them there; returns how many. */
    private int endTaggedOnce(byte[] tag, long deadline, Set<Integer> groups, Set<Integer> signalled) {
        int self = os.getpid();
        Map<Integer, Integer> pidfds = new LinkedHashMap<>();
        try {
            List<Integer> tagged = new ArrayList<>();
            Map<Integer, Integer> unsure = new HashMap<>();
            for (int pid : ProcFs.pids()) {
                if (pid != self && !signalled.contains(pid)) {
                    sort(pid, tag, tagged, unsure);
                }
            }
            settle(unsure, tag, deadline, tagged);
            for (int pid : tagged) {
                openTagged(pid, tag, deadline, pidfds, groups);
            }
        } catch (IOException e) {
            log.warn("Cannot scan /proc for tagged processes: {}", e.toString());
        }
        if (pidfds.isEmpty()) {
            return 0;
        }
        signalled.addAll(pidfds.keySet());
        pidfds.values().forEach(fd -> {
            os.pidfdSendSignal(fd, Os.SIGTERM);
            os.pidfdSendSignal(fd, Os.SIGCONT);
        });
        Deadline termed = Deadline.at(deadline, 1_000_000, MAX_PAUSE_NANOS);
        // The deadline first: once it has passed, not one more poll of every pidfd.
        while (!termed.passed() && pidfds.values().stream().anyMatch(fd -> os.poll(fd, Os.POLLIN, 0) == 0)) {
            termed.pause();
        }
        pidfds.values().forEach(fd -> os.pidfdSendSignal(fd, Os.SIGKILL));
        long reapBy = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        pidfds.forEach((pid, fd) -> {
            Deadline d = Deadline.at(reapBy, 1_000_000);
            while (os.poll(fd, Os.POLLIN, 0) == 0 && d.pause()) {
                // poll: the pidfd turns readable once the process has exited
            }
            try {
                os.wait4(pid, true); // ours if it was re-parented to us; ECHILD otherwise
            } catch (OsException notOurs) {
                // someone else's child: its parent reaps it
            }
            os.close(fd);
        });
        return pidfds.size();
    }
}
