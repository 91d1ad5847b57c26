package dev.folk.core.pool;

import static dev.folk.core.pool.FakeWorkers.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;


/**
 * What an operator alerts on (PHP-FPM's status page): busy workers and their maximum, the queue's
 * maximum, calls that found no free worker, and the recent maxima that fall back once the load has.
 */
class SaturationTest {

    private FakeWorkers fakes;
    private WorkerPool pool;

    private WorkerPool ready(PoolConfig.Builder config) {
        PoolConfig c = config.build();
        fakes = new FakeWorkers(c.maxFrameLength());
        pool = fakes.pool(c);
        pool.start();
        assertThat(pool.awaitReady(c.size(), Duration.ofSeconds(5))).isTrue();
        return pool;
    }

    @AfterEach
    void close() {
        if (pool != null) {
            pool.close(Duration.ofMillis(20));
            try {
                PoolLogicTest.assertClosedCleanly(pool, fakes, "");
            } finally {
                fakes.shutdown();
            }
        }
    }

    private PoolSnapshot.Saturation saturation() {
        return pool.snapshot().saturation();
    }

    @Test
    void busyWorkersQueueAndCallsWithoutAFreeWorkerAreCountedWithTheirMaxima() {
        ready(PoolLogicTest.config(2).maxQueue(3).execTimeout(Duration.ofHours(1)));
        for (long i = 0; i < 5; i++) {
            assertThat(pool.call("echo", i)).isEqualTo(i);
        }
        assertThat(saturation()).isEqualTo(new PoolSnapshot.Saturation(0, 1, 1, 0, 0, 0));

        List<CompletableFuture<Object>> calls = new ArrayList<>();
        calls.add(pool.callAsync("wait", null));
        calls.add(pool.callAsync("wait", null));
        await("2 busy", () -> saturation().busy() == 2);
        for (int i = 0; i < 3; i++) {
            calls.add(pool.callAsync("wait", null));
        }
        assertThat(pool.queueLength()).isEqualTo(3);
        assertThrows(QueueFullException.class, () -> pool.call("echo", "refused"));
        PoolSnapshot.Saturation s = saturation();
        assertThat(s.busy()).isEqualTo(2);
        assertThat(s.maxBusy()).isEqualTo(2);
        assertThat(s.maxQueueLength()).isEqualTo(3);
        assertThat(s.recentMaxQueueLength()).isEqualTo(3);
        assertThat(s.noFreeWorker()).as("3 queued, 1 refused").isEqualTo(4);

        ElasticSizeTest.answerAll(pool, fakes, calls);
        await("no call running", () -> saturation().busy() == 0);
        s = saturation();
        assertThat(s.maxBusy()).as("never more than the workers").isEqualTo(2);
        assertThat(s.maxQueueLength()).isEqualTo(3);
        assertThat(pool.queueLength()).isZero();
    }

    @Test
    void busyCountsEndForEveryOutcome() {
        ready(PoolLogicTest.config(1).execTimeout(Duration.ofSeconds(1)));
        assertThrows(WorkerCrashedException.class, () -> pool.call("crash", 1));
        assertThrows(WorkerErrorException.class, () -> pool.call("error", 1));
        assertThrows(WorkerProtocolException.class, () -> pool.call("bad-msgid", 1));
        CompletableFuture<Object> hang = pool.callAsync("hang", null);
        await("hang sent", () -> saturation().busy() == 1);
        fakes.clock.advance(Duration.ofSeconds(2));
        pool.tick();
        assertThat(hang).failsWithin(Duration.ofSeconds(5));
        await("no call running", () -> saturation().busy() == 0);
        assertThat(saturation().maxBusy()).isEqualTo(1);
    }

    @Test
    void recentMaximaFallBackAfterTwoWindows() {
        FakeWorkers.Clock clock = new FakeWorkers.Clock();
        RecentMax max = new RecentMax(clock, Duration.ofSeconds(60).toNanos());
        max.record(3);
        max.record(7);
        max.record(5);
        assertThat(max.get()).isEqualTo(7);
        clock.advance(Duration.ofSeconds(61));
        assertThat(max.get()).as("the previous window still counts").isEqualTo(7);
        max.record(2);
        clock.advance(Duration.ofSeconds(61));
        assertThat(max.get()).as("only the window before").isEqualTo(2);
        clock.advance(Duration.ofSeconds(200));
        assertThat(max.get()).as("nothing recent").isZero();
        max.record(4);
        assertThat(max.get()).isEqualTo(4);
    }
}
