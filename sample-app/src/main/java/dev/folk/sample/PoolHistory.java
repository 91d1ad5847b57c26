package dev.folk.sample;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.folk.core.pool.PoolSnapshot;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * The last minutes of each pool, for the live page's chart: once a second, the calls completed so
 * far, the queue and the busy workers. The page draws rates from the differences, so a reload of
 * the page does not lose the history. Memory is fixed: {@value #SAMPLES} samples per pool.
 */
@RestController
public class PoolHistory implements DisposableBean {

    static final int SAMPLES = 300;

    /** One second of a pool; {@code calls} is cumulative. */
    public record Sample(long at, long calls, int queued, int busy, int workers) {
    }

    /** One pool's samples: the last {@value #SAMPLES}, in a ring; {@code count} is all ever taken. */
    private static final class Ring {
        final Sample[] samples = new Sample[SAMPLES];
        int count;
    }

    private final FolkPools pools;
    /** Guarded by this. */
    private final Map<String, Ring> rings = new LinkedHashMap<>();
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sample-pool-history");
        t.setDaemon(true);
        return t;
    });

    public PoolHistory(FolkPools pools) {
        this.pools = pools;
        sampler.scheduleAtFixedRate(this::sampleAll, 0, 1, TimeUnit.SECONDS);
    }

    private void sampleAll() {
        try {
            for (WorkerPool pool : pools.all()) {
                record(pool.name(), sample(pool.snapshot()));
            }
        } catch (RuntimeException e) {
            // A closing pool may refuse a snapshot; the next second tries again.
        }
    }

    static Sample sample(PoolSnapshot s) {
        long calls = 0;
        for (long n : s.calls().values()) {
            calls += n;
        }
        return new Sample(s.takenAt().toEpochMilli(), calls, s.queueLength(), (int) s.count(WorkerState.BUSY),
                s.workers().size());
    }

    private synchronized void record(String pool, Sample sample) {
        Ring ring = rings.computeIfAbsent(pool, k -> new Ring());
        ring.samples[ring.count++ % SAMPLES] = sample;
    }

    /** Each pool's samples, oldest first. */
    @GetMapping("/sample/history")
    public synchronized Map<String, List<Sample>> history() {
        Map<String, List<Sample>> out = new LinkedHashMap<>();
        rings.forEach((pool, ring) -> {
            List<Sample> samples = new ArrayList<>(Math.min(ring.count, SAMPLES));
            for (int i = Math.max(0, ring.count - SAMPLES); i < ring.count; i++) {
                samples.add(ring.samples[i % SAMPLES]);
            }
            out.put(pool, samples);
        });
        return out;
    }

    @Override
    public void destroy() {
        sampler.shutdownNow();
    }
}
