package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.SharedSupervisor;
import dev.folk.core.testing.Workers;

/** {@link WorkerPool#tryCall}: a call on the caller's thread when a worker is idle, never a wait. */
class PoolTryCallTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    @Test
    void callsWhenAWorkerIsIdleAndReturnsAtOnceWhenNoneIs() throws Exception {
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("try",
                PhpWorkers.testWorker(Workers.newTag()).build()).size(1).build(), SUPERVISOR.get());
        try {
            assertThat(pool.tryCall("echo", "x", "GET /x")).isEqualTo("x");

            CompletableFuture<Object> slow = pool.callAsync("sleep", 1500L);
            Procs.await(Duration.ofSeconds(5), "the worker busy", () -> pool.snapshot().count(WorkerState.BUSY) == 1);
            long t0 = System.nanoTime();
            assertThat(pool.tryCall("echo", "y", "GET /y")).isSameAs(WorkerPool.NOT_CALLED);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("returned at once").isLessThan(100);
            assertThat(pool.queueLength()).as("nothing queued").isZero();

            assertThat(slow.get(5, TimeUnit.SECONDS)).isEqualTo(1500L);
            assertThat(pool.tryCall("echo", "z", "GET /z")).isEqualTo("z");
        } finally {
            pool.close();
        }
    }

    /** A call's CallParts is told the worker it went to, before the answer: its log lines can name it. */
    @Test
    void theCallsPartsAreToldItsWorker() throws Exception {
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("told",
                PhpWorkers.testWorker(Workers.newTag()).build()).size(1).build(), SUPERVISOR.get());
        try {
            int pid = pool.snapshot().workers().get(0).pid();
            java.util.concurrent.atomic.AtomicInteger told = new java.util.concurrent.atomic.AtomicInteger();
            CallParts parts = new CallParts() {
                @Override
                public void part(String method, Object params) {
                }

                @Override
                public void worker(int workerPid) {
                    told.set(workerPid);
                }
            };
            assertThat(pool.tryCall("echo", "x", "GET /x", parts)).isEqualTo("x");
            assertThat(told.get()).isEqualTo(pid);
        } finally {
            pool.close();
        }
    }
}
