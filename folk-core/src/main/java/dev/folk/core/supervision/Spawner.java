package dev.folk.core.supervision;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.folk.core.os.Os;
import dev.folk.core.os.OsException;
import dev.folk.core.os.SpawnRequest;

import org.jspecify.annotations.Nullable;

/**
 * Starts one worker: reserves its registry entry before the spawn (so a shutdown starting now
 * waits for it), builds fds 0..4, spawns it as a group leader, opens the pidfd that tells when it
 * exits, and publishes it. Any failure undoes what was done; a shutdown that began meanwhile
 * ends the new worker at once.
 */
final class Spawner {

    private final Os os;
    private final String runId;
    private final Registry<WorkerProcess> registry;
    private final AtomicBoolean closed;
    private final AtomicLong serials = new AtomicLong();
    private final IoLoop io;
    private final ChannelPoller poller;
    private final @Nullable WorkerStateFile stateFile;
    private final OrphanReaper orphans;
    private final StopLadder ladder;
    private final Reaper reaper;

    Spawner(Os os, String runId, Registry<WorkerProcess> registry, AtomicBoolean closed, IoLoop io,
            ChannelPoller poller, @Nullable WorkerStateFile stateFile, OrphanReaper orphans, StopLadder ladder, Reaper reaper) {
        this.os = os;
        this.runId = runId;
        this.registry = registry;
        this.closed = closed;
        this.io = io;
        this.poller = poller;
        this.stateFile = stateFile;
        this.orphans = orphans;
        this.ladder = ladder;
        this.reaper = reaper;
    }

    WorkerProcess spawn(WorkerSpec spec) {
        if (closed.get()) {
            throw new SupervisorClosedException("start worker '" + spec.name() + "'");
        }
        String executable = spec.resolveExecutable();
        WorkerProcess p = new WorkerProcess(serials.incrementAndGet(), spec);
        // Reserve before the spawn: a shutdown starting now sees this entry and waits for it.
        registry.add(p);
        if (closed.get()) {
            registry.remove(p);
            throw new SupervisorClosedException("start worker '" + spec.name() + "'");
        }
        List<Integer> parentEnds = new ArrayList<>(4);
        List<Integer> childEnds = new ArrayList<>(4);
        Path sandbox = null;
        int pid;
        try {
            if (spec.sandboxRoot() != null) {
                sandbox = Sandbox.create(spec.sandboxRoot(), spec.name(), p.serial(), spec.runAs());
            }
            int[] task = os.socketPair();
            parentEnds.add(task[0]);
            childEnds.add(task[1]);
            int[] control = os.socketPair();
            parentEnds.add(control[0]);
            childEnds.add(control[1]);
            int[] out = os.pipe();
            parentEnds.add(out[0]);
            childEnds.add(out[1]);
            int[] err = os.pipe();
            parentEnds.add(err[0]);
            childEnds.add(err[1]);
            // The file actions dup2 these onto 1..4; a source below 5 could be overwritten first.
            for (int i = 0; i < childEnds.size(); i++) {
                childEnds.set(i, os.moveAtLeast(childEnds.get(i), 5));
            }
            Path cwd = sandbox != null ? sandbox : spec.workingDirectory();
            WorkerSpec.Launch launch = spec.launch(executable);
            pid = os.spawn(new SpawnRequest(launch.program(), launch.argv(), spec.environmentBlock(runId, sandbox),
                    cwd == null ? null : cwd.toString(), childEnds.get(2), childEnds.get(3), childEnds.get(0),
                    childEnds.get(1)));
        } catch (IOException | RuntimeException e) {
            childEnds.forEach(os::close);
            parentEnds.forEach(os::close);
            if (sandbox != null) {
                reaper.removeSandbox(sandbox);
            }
            registry.remove(p);
            if (e instanceof OsException oe) {
                throw SpawnException.of(spec.name(), executable, oe);
            }
            if (e instanceof IOException io) {
                throw new SpawnException(executable, "EIO", "Cannot start worker '" + spec.name()
                        + "': cannot create its sandbox under " + spec.sandboxRoot() + ": " + io, io);
            }
            throw (RuntimeException) e;
        }
        // The child has its copies; ours must go now, or the worker never sees EOF from us.
        childEnds.forEach(os::close);

        int pidfd;
        try {
            pidfd = os.pidfdOpen(pid);
            if (pidfd < 0) {
                // The kernel has no pidfd_open (before Linux 5.3): we could never see this worker exit.
                throw new OsException("pidfd_open(" + pid + ")", 38); // ENOSYS
            }
        } catch (OsException e) {
            // Cannot watch it: end it at once (it is still our unreaped child, so the group is safe).
            os.kill(-pid, Os.SIGKILL);
            try {
                os.wait4(pid, false);
            } catch (OsException ignored) {
                // already reaped by someone ignoring SIGCHLD
            }
            parentEnds.forEach(os::close);
            if (sandbox != null) {
                reaper.removeSandbox(sandbox);
            }
            registry.remove(p);
            throw new SpawnException(executable, e.errnoName(), "Cannot watch worker '" + spec.name()
                    + "' (pid " + pid + "): " + e.getMessage() + ". Linux 5.3 or later is required.", e);
        }
        os.setNonBlocking(parentEnds.get(2));
        os.setNonBlocking(parentEnds.get(3));
        p.publish(pid, new WorkerChannel(os, parentEnds.get(0), poller),
                new WorkerChannel(os, parentEnds.get(1), poller), pidfd,
                parentEnds.get(2), parentEnds.get(3), sandbox);
        orphans.published(pid); // the orphan reaper may have seen it, tagged, before it was published
        io.watch(p);
        if (stateFile != null) {
            ProcFs.Stat stat = ProcFs.stat(pid);
            if (stat != null) {
                stateFile.add(pid, stat.startTime());
            }
        }

        if (closed.get()) {
            // A shutdown began during the spawn: it may not have seen this worker published.
            ladder.signal(p, Os.SIGKILL);
            reaper.reap(p, System.nanoTime() + StopLadder.KILL_WAIT_NANOS);
            reaper.sweep(p, System.nanoTime() + StopLadder.SWEEP_WAIT_NANOS);
            reaper.release(p);
            throw new SupervisorClosedException("start worker '" + spec.name() + "'");
        }
        return p;
    }
}
