package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** The lock-free registry under concurrent writers and a snapshot reader. */
class RegistryTest {

    private static final int WRITERS = 8;
    private static final int OPS = 10_000;
    /**
     * Adds per writer in the test that keeps every entry: each add copies the array, so its work
     * grows with the square of the total (10 000 each took 7.7 s, 2 000 about a twentieth of it).
     */
    private static final int ADDS = 2_000;

    /** An entry that knows which writer owns it. */
    private record Entry(int writer, int seq) {
    }

    @Test
    void eightWritersTimesTenThousandRegisterUnregisterLoseNothingAndEverySnapshotIsConsistent() throws Exception {
        Registry<Entry> registry = new Registry<>(Entry[]::new);
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicReference<String> readerFailure = new AtomicReference<>();
        CountDownLatch go = new CountDownLatch(1);
        long[] snapshots = new long[1];

        // Each writer keeps at most two of its entries registered at once: add a, add b, remove a, ...
        // so any snapshot holds at most 2 entries per writer, never duplicates.
        Thread reader = new Thread(() -> {
            while (writing.get()) {
                List<Entry> snap = registry.snapshot();
                snapshots[0]++;
                IdentityHashMap<Entry, Boolean> seen = new IdentityHashMap<>();
                int[] perWriter = new int[WRITERS];
                for (Entry e : snap) {
                    if (e == null || seen.put(e, Boolean.TRUE) != null || ++perWriter[e.writer()] > 2) {
                        readerFailure.compareAndSet(null, "inconsistent snapshot: " + snap);
                    }
                }
            }
        });
        List<Thread> writers = new ArrayList<>();
        List<Boolean> removals = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            writers.add(new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                Entry previous = null;
                boolean allRemoved = true;
                for (int i = 0; i < OPS; i++) {
                    Entry e = new Entry(writer, i);
                    registry.add(e);
                    if (previous != null) {
                        allRemoved &= registry.remove(previous);
                    }
                    previous = e;
                }
                allRemoved &= registry.remove(previous);
                removals.add(allRemoved);
            }));
        }
        reader.start();
        writers.forEach(Thread::start);
        go.countDown();
        for (Thread t : writers) {
            t.join();
        }
        writing.set(false);
        reader.join();

        assertThat(readerFailure.get()).isNull();
        assertThat(snapshots[0]).isPositive();
        assertThat(removals).hasSize(WRITERS).containsOnly(true);
        assertThat(registry.snapshot()).isEmpty();
    }

    @Test
    void concurrentAddsAreAllKept() throws Exception {
        Registry<Entry> registry = new Registry<>(Entry[]::new);
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            writers.add(new Thread(() -> {
                for (int i = 0; i < ADDS; i++) {
                    registry.add(new Entry(writer, i));
                }
            }));
        }
        writers.forEach(Thread::start);
        for (Thread t : writers) {
            t.join();
        }
        List<Entry> all = registry.snapshot();
        assertThat(all).hasSize(WRITERS * ADDS).doesNotHaveDuplicates();
        assertThat(registry.remove(new Entry(0, 0))).as("removal is by identity").isFalse();
    }
}
