package dev.folk.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Drives a call from several threads the way the C master drives its workers: every thread makes
 * {@code calls} calls one after another, timing each; the threads start together; the rate is all
 * calls over first start to last end.
 */
final class Load {

    /** One call, made from one thread. */
    @FunctionalInterface
    interface Call {
        void call(int thread, int i) throws Exception;
    }

    /** One side of a comparison: measures once and adds to its series. */
    @FunctionalInterface
    interface Side {
        void run() throws Exception;
    }

    /** Runs every side once, starting with side {@code round % sides.size()}. */
    static void rotate(java.util.List<Side> sides, int round) throws Exception {
        for (int k = 0; k < sides.size(); k++) {
            sides.get((k + round) % sides.size()).run();
        }
    }

    /** What a run measured. */
    record Result(long[] sortedNanos, double opsPerSecond, double callerCpuMicrosPerOp) {
        double p50Micros() {
            return Series.percentileMicros(sortedNanos, 50);
        }

        double p99Micros() {
            return Series.percentileMicros(sortedNanos, 99);
        }
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private Load() {
    }

    static Result run(int threads, int calls, Call body) {
        return run(r -> new Thread(r), threads, calls, body);
    }

    /** The same on threads from {@code factory} (e.g. virtual threads); caller CPU is 0 where unknown. */
    static Result run(java.util.concurrent.ThreadFactory factory, int threads, int calls, Call body) {
        long[][] samples = new long[threads][calls];
        long[] starts = new long[threads];
        long[] ends = new long[threads];
        long[] cpu = new long[threads];
        CyclicBarrier barrier = new CyclicBarrier(threads);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = factory.newThread(() -> {
                try {
                    barrier.await();
                    long cpu0 = cpuNanos();
                    long time = System.nanoTime();
                    starts[id] = time;
                    long[] mine = samples[id];
                    for (int i = 0; i < calls; i++) {
                        body.call(id, i);
                        long now = System.nanoTime();
                        mine[i] = now - time;
                        time = now;
                    }
                    ends[id] = time;
                    cpu[id] = cpuNanos() - cpu0;
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    barrier.reset();
                }
            });
            workers[t].setName("bench-caller-" + t);
            workers[t].start();
        }
        for (Thread w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a call failed: " + failure.get(), failure.get());
        }
        long first = Arrays.stream(starts).min().orElseThrow();
        long last = Arrays.stream(ends).max().orElseThrow();
        long[] all = new long[threads * calls];
        for (int t = 0; t < threads; t++) {
            System.arraycopy(samples[t], 0, all, t * calls, calls);
        }
        Arrays.sort(all);
        double seconds = (last - first) / 1e9;
        long cpuSum = Arrays.stream(cpu).sum();
        return new Result(all, all.length / seconds, cpuSum / 1000.0 / all.length);
    }

    /** This thread's CPU time; 0 where the JVM does not measure it (virtual threads). */
    private static long cpuNanos() {
        try {
            return Math.max(0, THREADS.getCurrentThreadCpuTime());
        } catch (UnsupportedOperationException e) {
            return 0;
        }
    }
}
