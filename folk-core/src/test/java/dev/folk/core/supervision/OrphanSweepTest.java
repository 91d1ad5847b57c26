package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.folk.core.testing.ChildJvm;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;

/** What a crashed run leaves behind is ended at the next start — and nothing else is touched. */
class OrphanSweepTest {

    @TempDir
    Path tmp;

    private Path stateDir() throws Exception {
        Path dir = tmp.resolve("state");
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return dir;
    }

    /** A group leader of its own, as workers are: {@code setsid sleep 60}. */
    private static Process leader() throws Exception {
        Process p = new ProcessBuilder("setsid", "sleep", "60").start();
        Procs.await(Duration.ofSeconds(5), "setsid done", () -> Procs.pgrp((int) p.pid()) == (int) p.pid());
        return p;
    }

    private static long startTime(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
    }

    @Test
    void aGroupWhoseLeaderStillHasTheRecordedStartTimeIsEndedAndARecycledPidIsLeftAlone() throws Exception {
        Process recorded = leader();
        Process recycled = leader();
        Path state = stateDir().resolve("app.state");
        String bootId = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
        Files.writeString(state, "folk-supervisor-state 1 " + bootId + " " + UUID.randomUUID().toString().substring(0, 16)
                + "\n" + recorded.pid() + " " + startTime(recorded.pid())
                + "\n" + recycled.pid() + " " + (startTime(recycled.pid()) + 1) + "\n");
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rw-------"));
        try (Supervisor supervisor = Supervisor.builder().stateFile(state).build()) {
            assertThat(recorded.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)).as("recorded group ended").isTrue();
            assertThat(recycled.isAlive()).as("a pid with another start time is not ours").isTrue();
            assertThat(supervisor.stateFile()).contains(state);
        } finally {
            Procs.destroy(recorded);
            Procs.destroy(recycled);
        }
    }

    @Test
    void theNextStartEndsEverythingACrashedJvmLeftIncludingSetsidEscapees() throws Exception {
        String tag = Workers.newTag();
        Path state = stateDir().resolve("crashy.state");
        try (ChildJvm child = ChildJvm.start(CrashedRunMain.class, state.toString(), tag)) {
            child.awaitLine("READY", Duration.ofSeconds(30));
            List<Integer> left = Procs.aliveWithEnv(Workers.RUN_TAG, tag);
            assertThat(left).as("3 leaders, 3 grandchildren, 3 escapees").hasSizeGreaterThanOrEqualTo(9);
            child.process().destroyForcibly().waitFor(); // SIGKILL: no Java code runs

            assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).as("orphans survive their master")
                    .containsAll(left);
            long t0 = System.nanoTime();
            try (Supervisor next = Supervisor.builder().stateFile(state).build()) {
                assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).as("left running after the sweep").isEmpty();
                assertThat(System.nanoTime() - t0).as("sweep time").isLessThan(5_000_000_000L);
                Procs.await(Duration.ofSeconds(5), "orphans re-parented to us are reaped",
                        () -> Procs.withEnv(Workers.RUN_TAG, tag).isEmpty() && Procs.zombieChildren().isEmpty());
            }
        }
    }

    @Test
    void aSlotACrashedInstanceLeftIsSweptByAStartThatTakesAnotherSlot() throws Exception {
        // The user's report: instance A holds the file, B takes ".1" and is SIGKILLed, A stops
        // cleanly, C takes the file A freed: ".1" is no live instance's, so C ends what B left.
        String tag = Workers.newTag();
        Path state = stateDir().resolve("slots.state");
        Path crashedSlot = state.resolveSibling("slots.state.1");
        Supervisor first = Supervisor.builder().stateFile(state).build();
        try (ChildJvm child = ChildJvm.start(CrashedRunMain.class, state.toString(), tag)) {
            assertThat(child.awaitLine("READY", Duration.ofSeconds(30))).endsWith(crashedSlot.toString());
            List<Integer> left = Procs.aliveWithEnv(Workers.RUN_TAG, tag);
            assertThat(left).as("3 leaders, 3 grandchildren, 3 escapees").hasSizeGreaterThanOrEqualTo(9);
            child.process().destroyForcibly().waitFor();
            first.close();
            assertThat(state).as("emptied by the clean close: a free slot").isEmptyFile();

            try (Supervisor next = Supervisor.builder().stateFile(state).build()) {
                assertThat(next.stateFile()).contains(state);
                assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).as("left running after the sweep").isEmpty();
                assertThat(crashedSlot).as("a swept slot is left empty, not to be swept again").isEmptyFile();
                Procs.await(Duration.ofSeconds(5), "orphans re-parented to us are reaped",
                        () -> Procs.withEnv(Workers.RUN_TAG, tag).isEmpty() && Procs.zombieChildren().isEmpty());
            }
        } finally {
            first.close();
            Procs.withEnv(Workers.RUN_TAG, tag).forEach(e -> ProcessHandle.of(e).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    @Test
    void slotsThatLiveInstancesHoldAreLeftAlone() throws Exception {
        // One live instance in another JVM, one in this JVM: neither file nor worker is touched, and
        // both keep their locks (closing any descriptor of a file drops this JVM's record locks on it).
        String tag = Workers.newTag();
        Path state = stateDir().resolve("live.state");
        Supervisor inThisJvm = null;
        try (ChildJvm child = ChildJvm.start(CrashedRunMain.class, state.toString(), tag)) {
            assertThat(child.awaitLine("READY", Duration.ofSeconds(30))).endsWith(state.toString());
            List<Integer> theirs = Procs.aliveWithEnv(Workers.RUN_TAG, tag);
            assertThat(theirs).hasSizeGreaterThanOrEqualTo(9);
            String theirFile = Files.readString(state);
            String ownTag = Workers.newTag();
            inThisJvm = Supervisor.builder().stateFile(state).build();
            assertThat(inThisJvm.stateFile()).contains(state.resolveSibling("live.state.1"));
            WorkerProcess w = inThisJvm.spawn(Workers.sh(ownTag, "exec sleep 100").build());
            String ourFile = readElsewhere(state.resolveSibling("live.state.1"));

            Path ourSlot = state.resolveSibling("live.state.1");
            long me = ProcessHandle.current().pid();
            assertThat(posixLockHolders(state)).containsExactly(child.pid());
            assertThat(posixLockHolders(ourSlot)).containsExactly(me);

            try (Supervisor next = Supervisor.builder().stateFile(state).build()) {
                assertThat(next.stateFile()).contains(state.resolveSibling("live.state.2"));
                assertThat(posixLockHolders(state)).as("their lock").containsExactly(child.pid());
                assertThat(posixLockHolders(ourSlot)).as("the lock of this JVM's first supervisor").containsExactly(me);
                assertThat(theirs).as("the live instance's processes").allMatch(Procs::alive);
                assertThat(Files.readString(state)).isEqualTo(theirFile);
                assertThat(w.isAlive()).isTrue();
                assertThat(readElsewhere(state.resolveSibling("live.state.1"))).isEqualTo(ourFile);
            }
            inThisJvm.terminate(w, Duration.ofSeconds(5));
        } finally {
            if (inThisJvm != null) {
                inThisJvm.close();
            }
            // The child JVM is gone: a start now ends and reaps what it left, as the slot is free.
            try (Supervisor sweeper = Supervisor.builder().stateFile(state).build()) {
                assertThat(sweeper.stateFile()).contains(state);
            }
            Procs.withEnv(Workers.RUN_TAG, tag).forEach(e -> ProcessHandle.of(e).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    @Test
    void supervisorsStartingTogetherEndEveryCrashedSlotAndEachHoldsItsOwn() throws Exception {
        Path state = stateDir().resolve("race.state");
        String bootId = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
        List<Process> recorded = new java.util.ArrayList<>();
        List<Supervisor> started = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        try {
            for (int slot : new int[] {1, 3, 5, 6}) {
                Process p = leader();
                recorded.add(p);
                Path file = state.resolveSibling("race.state." + slot);
                Files.writeString(file, "folk-supervisor-state 1 " + bootId + " " + Workers.newTag() + "\n"
                        + p.pid() + " " + startTime(p.pid()) + "\n");
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            }
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            List<Thread> threads = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Thread t = new Thread(() -> {
                    try {
                        go.await();
                        started.add(Supervisor.builder().stateFile(state).build());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                t.start();
                threads.add(t);
            }
            go.countDown();
            for (Thread t : threads) {
                t.join(30_000);
            }
            assertThat(started).hasSize(4);
            assertThat(recorded).as("recorded groups left running").noneMatch(Process::isAlive);
            Set<Path> slots = new HashSet<>();
            long me = ProcessHandle.current().pid();
            for (Supervisor s : started) {
                Path slot = s.stateFile().orElseThrow();
                assertThat(slots.add(slot)).as("two supervisors in " + slot).isTrue();
                assertThat(posixLockHolders(slot)).as(slot.toString()).containsExactly(me);
            }
        } finally {
            started.forEach(Supervisor::close);
            recorded.forEach(Procs::destroy);
        }
    }

    @Test
    void orphanedChildrenOfARunningWorkerDoNotPileUpAsZombies() throws Exception {
        try (Supervisor supervisor = new Supervisor()) {
            // Each round, an inner shell starts a short sleep and exits at once: the sleep is orphaned,
            // re-parented to the JVM (a subreaper), and would become its zombie when it ends.
            WorkerProcess p = supervisor.spawn(Workers.sh(Workers.newTag(),
                    "echo ready >&4; i=0; while [ $i -lt 60 ]; do sh -c 'sleep 0.01 &'; sleep 0.03; i=$((i+1)); done; "
                            + "echo done >&4; exec sleep 1000").build());
            Workers.awaitLine(p.controlChannel(), "ready", Duration.ofSeconds(5));
            Workers.awaitLine(p.controlChannel(), "done", Duration.ofSeconds(20));
            Procs.await(Duration.ofSeconds(3), "zombie orphans reaped while the worker runs",
                    () -> Procs.zombieChildren().isEmpty());
            assertThat(p.isAlive()).isTrue();
            supervisor.terminate(p, Duration.ofSeconds(5));
        }
    }

    @Test
    void anOrphanAdoptedFromAProcessTheApplicationStartedIsReapedAndTheJdksOwnChildIsNot() throws Exception {
        try (Supervisor supervisor = new Supervisor()) {
            // A child the JDK waits for, exiting 3 while the reaper ticks: its status must stay the JDK's.
            Process own = new ProcessBuilder("sh", "-c", "sleep 1.5; exit 3").start();
            // The shell exits at once; its background sleep is re-parented to the JVM (a subreaper).
            Process shell = new ProcessBuilder("sh", "-c", "sleep 0.2 & echo $!").start();
            int orphan = Integer.parseInt(new String(shell.getInputStream().readAllBytes()).trim());
            assertThat(shell.waitFor()).isZero();
            Procs.await(Duration.ofSeconds(2), "the orphan is ours", () -> {
                String[] st = Procs.stat(orphan);
                return st == null || st[1].equals(Long.toString(ProcessHandle.current().pid()));
            });
            Procs.await(Duration.ofSeconds(5), "the adopted orphan is reaped", () -> Procs.stat(orphan) == null,
                    () -> Procs.describe(List.of(orphan)));
            assertThat(own.waitFor()).as("the JDK's child keeps its exit status").isEqualTo(3);
        }
    }

    @Test
    void aSetsidEscapeeIsEndedByKillAndReapAll() throws Exception {
        String tag = Workers.newTag();
        Supervisor supervisor = new Supervisor();
        WorkerProcess p = supervisor.spawn(Workers.sh(tag, "setsid sleep 1000 & echo ready >&4; exec sleep 1000")
                .build());
        Workers.awaitLine(p.controlChannel(), "ready", Duration.ofSeconds(5));
        // The background child is in the worker's group from fork until setsid(2): wait for that call,
        // not merely for the process to exist.
        // The pid the scan found is kept: a second scan can miss it while setsid(1) execs sleep (see below).
        int[] found = {-1};
        Procs.await(Duration.ofSeconds(5), "escapee in a session of its own",
                () -> (found[0] = escapee(tag, p.pid())) > 0);
        int escapee = found[0];
        assertThat(Procs.pgrp(escapee)).as("out of the worker's group").isNotEqualTo(p.pgid());
        // And until setsid(1) has exec'd sleep: while an exec replaces a process's memory, its
        // /proc/<pid>/environ can read empty, and a sweep at that moment would not know it as ours.
        Procs.awaitAsleep(escapee);

        supervisor.terminate(p, Duration.ofSeconds(5));
        assertThat(Procs.alive(escapee)).as("the group ladder cannot reach it").isTrue();

        supervisor.killAndReapAll();
        assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).isEmpty();
        Procs.await(Duration.ofSeconds(3), "and it is reaped", () -> Procs.stat(escapee) == null);
        supervisor.close();
    }

    @Test
    void escapeesInTheMiddleOfAnExecAreEndedByKillAndReapAll() throws Exception {
        String tag = Workers.newTag();
        Supervisor supervisor = new Supervisor();
        // Each escapee execs itself over and over, keeping its pid and environment. While an exec
        // replaces a process's memory, reading /proc/<pid>/environ fails, comes back empty or
        // returns a piece of it (about one read in eight of such a loop): a sweep that took that
        // for "not ours" would leave some of them running.
        String loop = "exec sh -c \"$0\" \"$0\"";
        WorkerProcess p = supervisor.spawn(Workers.sh(tag, "L='" + loop + "'; for i in 1 2 3 4 5 6 7 8; do "
                + "setsid sh -c \"$L\" \"$L\" & done; echo ready >&4; exec sleep 1000").build());
        Set<Integer> escapees = new HashSet<>(); // a scan can miss one mid-exec: gathered over scans
        try {
            Workers.awaitLine(p.controlChannel(), "ready", Duration.ofSeconds(5));
            Procs.await(Duration.ofSeconds(10), "8 escapees in sessions of their own", () -> {
                escapees.addAll(escapees(tag, p.pid()));
                return escapees.size() == 8;
            });
            supervisor.terminate(p, Duration.ofSeconds(5));

            supervisor.killAndReapAll();
            assertThat(escapees).as("escapees left running").noneMatch(Procs::alive);
            Procs.await(Duration.ofSeconds(3), "and reaped", () -> escapees.stream().allMatch(e -> Procs.stat(e) == null));
        } finally {
            escapees.forEach(e -> ProcessHandle.of(e).ifPresent(ProcessHandle::destroyForcibly));
            supervisor.close();
            // Should the sweep have failed, no exec loop outlives the test: scans miss one mid-exec now and then.
            Procs.await(Duration.ofSeconds(5), "no exec loop left", () -> {
                Procs.withEnv(Workers.RUN_TAG, tag).forEach(e -> ProcessHandle.of(e).ifPresent(ProcessHandle::destroyForcibly));
                return Stream.generate(() -> Procs.aliveWithEnv(Workers.RUN_TAG, tag)).limit(20).allMatch(List::isEmpty);
            });
        }
    }

    @Test
    void aChildAnEscapeeStartsOnTermIsEndedByTheSameKillAndReapAll() throws Exception {
        String tag = Workers.newTag();
        Supervisor supervisor = new Supervisor();
        // On TERM the escapee starts another escapee and exits: that child did not exist when the
        // sweep scanned for tagged processes. (Its stderr, the worker's output pipe, is closed by
        // then: the shell's "Terminated" would kill it with SIGPIPE before its trap ran.)
        String escapee = "exec 2>/dev/null; trap \"setsid sleep 1000 & exit 0\" TERM; echo armed >&4; "
                + "while :; do sleep 0.05; done";
        WorkerProcess p = supervisor.spawn(Workers.sh(tag, "E='" + escapee + "'; setsid sh -c \"$E\" & exec sleep 1000")
                .build());
        try {
            Workers.awaitLine(p.controlChannel(), "armed", Duration.ofSeconds(5));
            supervisor.killAndReapAll();
            assertThat(Procs.aliveWithEnv(Workers.RUN_TAG, tag)).as("tagged processes left running").isEmpty();
        } finally {
            supervisor.close();
            Procs.withEnv(Workers.RUN_TAG, tag).forEach(e -> ProcessHandle.of(e).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    @Test
    void anEscapeeWhoseFirstThreadHasExitedIsEndedByKillAndReapAll() throws Exception {
        String tag = Workers.newTag();
        Path pidFile = tmp.resolve("escapee.pid");
        Supervisor supervisor = new Supervisor();
        // /proc/<pid>/environ of a process whose first thread has exited reads nothing; its other
        // threads' environ (/proc/<pid>/task/<tid>/environ) still carries the tag.
        WorkerProcess p = supervisor.spawn(Workers.sh(tag, "setsid " + Workers.HEADLESS_PHP + " & echo $! > " + pidFile
                + "; echo ready >&4; exec sleep 1000").build());
        int escapee = -1;
        try {
            Workers.awaitLine(p.controlChannel(), "ready", Duration.ofSeconds(5));
            escapee = Integer.parseInt(Files.readString(pidFile).trim());
            int pid = escapee;
            Procs.await(Duration.ofSeconds(10), "the escapee's first thread exited, another runs", () -> Procs.headless(pid),
                    () -> Procs.describe(List.of(pid)));
            supervisor.killAndReapAll();
            assertThat(Procs.alive(escapee)).as("escapee left running").isFalse();
        } finally {
            supervisor.close();
            if (escapee > 0) {
                ProcessHandle.of(escapee).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /** A file's text, read by another process: closing a descriptor of it here would drop this JVM's lock on it. */
    private static String readElsewhere(Path file) throws Exception {
        Process cat = new ProcessBuilder("cat", file.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String text = new String(cat.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        assertThat(cat.waitFor()).isZero();
        return text;
    }

    /** The pids holding a POSIX record lock (what {@code FileChannel.lock} takes) on the file, from /proc/locks. */
    private static Set<Long> posixLockHolders(Path file) throws Exception {
        String inode = ":" + Files.getAttribute(file, "unix:ino");
        Set<Long> pids = new HashSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
            String[] f = line.trim().split("\\s+"); // "1: POSIX  ADVISORY  WRITE <pid> <maj>:<min>:<inode> 0 EOF"
            if (f.length >= 6 && f[1].equals("POSIX") && f[5].endsWith(inode)) {
                pids.add(Long.parseLong(f[4]));
            }
        }
        return pids;
    }

    /** The tagged processes, other than the worker, that lead groups of their own. */
    private static List<Integer> escapees(String tag, int worker) {
        return Procs.aliveWithEnv(Workers.RUN_TAG, tag).stream().filter(pid -> pid != worker && Procs.pgrp(pid) == pid)
                .toList();
    }

    /** The tagged process, other than the worker, that leads a group of its own; -1 if none yet. */
    private static int escapee(String tag, int worker) {
        return escapees(tag, worker).stream().findFirst().orElse(-1);
    }

    @Test
    void anUnusableLocationTurnsTheStateFileOffAndTheSupervisorStillWorks() throws Exception {
        Path shared = tmp.resolve("shared");
        Files.createDirectory(shared, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxrwxrwx")));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        for (Path location : List.of(Path.of("/proc/no-such-dir/app.state"), shared.resolve("app.state"))) {
            try (Supervisor supervisor = Supervisor.builder().stateFile(location).build()) {
                assertThat(supervisor.stateFile()).as(location.toString()).isEmpty();
                WorkerProcess p = supervisor.spawn(Workers.sh(Workers.newTag(), "exit 0").build());
                assertThat(supervisor.awaitExit(p, Duration.ofSeconds(5))).isTrue();
                assertThat(supervisor.terminate(p, Duration.ofSeconds(5)).exitCode()).isZero();
            }
        }
        assertThat(shared.resolve("app.state")).doesNotExist();
    }

    /**
     * The state file's directory must be the JVM's user's, compared by uid: a uid without a passwd
     * entry (a container's runAsUser) has the user.name "?", and the file was turned off for it.
     */
    @Test
    void theStateFileIsKeptForAUidWithoutAName() throws Exception {
        Path state = stateDir().resolve("nameless.state");
        String name = System.getProperty("user.name");
        System.setProperty("user.name", "?"); // as the JDK names a uid without a passwd entry
        try (Supervisor supervisor = Supervisor.builder().stateFile(state).build()) {
            assertThat(supervisor.stateFile()).contains(state);
        } finally {
            System.setProperty("user.name", name);
        }
    }

    @Test
    void theStateFileIsRefusedInADirectoryOfAnotherUid() throws Exception {
        assumeTrue(RunAs.effectiveUid() == 0, "giving a directory to another uid needs root");
        Path theirs = tmp.resolve("theirs");
        Files.createDirectory(theirs, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.setAttribute(theirs, "unix:uid", 54321);
        try (Supervisor supervisor = Supervisor.builder().stateFile(theirs.resolve("app.state")).build()) {
            assertThat(supervisor.stateFile()).as("a directory of uid 54321").isEmpty();
        }
    }

    @Test
    void aSecondSupervisorTakesAnAlternateFileAndACleanShutdownEmptiesBoth() throws Exception {
        Path state = stateDir().resolve("twice.state");
        Supervisor first = Supervisor.builder().stateFile(state).build();
        Supervisor second = Supervisor.builder().stateFile(state).build();
        try {
            assertThat(first.stateFile()).contains(state);
            assertThat(second.stateFile()).contains(state.resolveSibling("twice.state.1"));
            WorkerProcess p = first.spawn(Workers.sh(Workers.newTag(), "exec sleep 100").build());
            assertThat(Files.readAllLines(state)).hasSize(2).last().asString().startsWith(p.pid() + " ");
            first.terminate(p, Duration.ofSeconds(5));
            assertThat(Files.readAllLines(state)).hasSize(1);
        } finally {
            first.close();
            second.close();
        }
        assertThat(state).isEmptyFile();
        assertThat(state.resolveSibling("twice.state.1")).isEmptyFile();
    }

    @Test
    void aSupervisorThatOpenedTheFileAsAnotherClosedItLocksTheFileAtItsPath() throws Exception {
        // Another instance (this stands for its JVM) opens the slot just before the owner's clean
        // close and locks it just after: what it then records must be in the file at the path,
        // where the next start looks, not in one the close unlinked.
        Path state = stateDir().resolve("race.state");
        Supervisor owner = Supervisor.builder().stateFile(state).build();
        assertThat(owner.stateFile()).contains(state);
        try (FileChannel racing = FileChannel.open(state, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            owner.close();
            try (FileLock lock = racing.tryLock()) {
                assertThat(lock).as("the slot is free after the close").isNotNull();
                racing.write(ByteBuffer.wrap("recorded by the racing instance\n".getBytes(StandardCharsets.US_ASCII)));
                assertThat(state).as("its record is where the next start reads")
                        .hasContent("recorded by the racing instance");
            }
        }
    }
}
