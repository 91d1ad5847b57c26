package dev.folk.spring.boot.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import org.junit.jupiter.api.Test;

import dev.folk.core.pool.ExitReason;
import dev.folk.core.pool.ExitRecord;

/** {@code folk.worker.calls}: the calls of the workers that served, not of the boots that failed. */
class WorkerMetersTest {

    @Test
    void aWorkerThatNeverBootedIsNoWorkerThatServedNoCalls() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        FolkMetrics.WorkerMeters meters = new FolkMetrics.WorkerMeters(registry, Tags.of("pool", "p"));
        meters.workerExited(null, new ExitRecord(1, ExitReason.BOOT_FAILURE, "exit 255", 0, Instant.now()));
        meters.workerExited(null, new ExitRecord(2, ExitReason.BOOT_FAILURE, "exit 255", 0, Instant.now()));
        meters.workerExited(null, new ExitRecord(3, ExitReason.MAX_JOBS, "exit 0", 500, Instant.now()));
        meters.workerExited(null, new ExitRecord(4, ExitReason.CRASH, "signal 9", 0, Instant.now()));
        DistributionSummary calls = registry.get("folk.worker.calls").summary();
        assertThat(calls.count()).as("the two that booted (one crashed before its first call)").isEqualTo(2);
        assertThat(calls.totalAmount()).isEqualTo(500);
    }
}
