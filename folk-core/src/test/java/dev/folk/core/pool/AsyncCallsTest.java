package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Which thread runs an asynchronous call: a call handed over by an async thread runs next on that
 * thread (no wake-up of another), and one held up behind a blocked callback is passed to another
 * thread by the second {@link AsyncCalls#passOnHeldUp()} that finds it waiting. The housekeeper's
 * ticks are called here by hand, so nothing depends on timing.
 */
class AsyncCallsTest {

    private static final long WAIT_SECONDS = 10;

    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "async-calls-test");
        t.setDaemon(true);
        return t;
    });
    /** Counts the threads asked for: each execute is a wake-up the hand-over is meant to spare. */
    private final AtomicInteger executes = new AtomicInteger();
    private final AsyncCalls calls = new AsyncCalls(r -> {
        executes.incrementAndGet();
        pool.execute(r);
    });

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    @Test
    void aCallHandedOverByAnAsyncThreadRunsNextOnThatThreadWithoutAnotherOne() throws Exception {
        List<Thread> ranOn = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(2);
        Runnable second = () -> {
            ranOn.add(Thread.currentThread());
            done.countDown();
        };
        calls.runNew(() -> {
            ranOn.add(Thread.currentThread());
            calls.runHandedOver(second);
            done.countDown();
        });

        assertThat(done.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(ranOn).hasSize(2);
        assertThat(ranOn.get(1)).isSameAs(ranOn.get(0));
        assertThat(executes).hasValue(1);
    }

    @Test
    void aCallHandedOverByAnyOtherThreadGoesToAFreeAsyncThread() throws Exception {
        CompletableFuture<Thread> ranOn = new CompletableFuture<>();
        calls.runHandedOver(() -> ranOn.complete(Thread.currentThread()));

        assertThat(ranOn.get(WAIT_SECONDS, TimeUnit.SECONDS)).isNotSameAs(Thread.currentThread());
        assertThat(executes).hasValue(1);
    }

    @Test
    void aSecondCallHandedToTheSameThreadBeforeItRanTheFirstGoesToAnotherThread() throws Exception {
        CountDownLatch ran = new CountDownLatch(2);
        CompletableFuture<Thread> first = new CompletableFuture<>();
        CompletableFuture<Thread> second = new CompletableFuture<>();
        calls.runNew(() -> {
            calls.runHandedOver(() -> {
                first.complete(Thread.currentThread());
                ran.countDown();
            });
            calls.runHandedOver(() -> {
                second.complete(Thread.currentThread());
                ran.countDown();
            });
        });

        assertThat(ran.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(first.get()).isNotSameAs(second.get());
        assertThat(executes).hasValue(2);
    }

    @Test
    void aCallHeldUpBehindABlockedCallbackIsPassedOnByTheSecondTickThatSeesIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch handedOver = new CountDownLatch(1);
        CompletableFuture<Thread> blockedThread = new CompletableFuture<>();
        CompletableFuture<Thread> heldUp = new CompletableFuture<>();
        calls.runNew(() -> {
            blockedThread.complete(Thread.currentThread());
            calls.runHandedOver(() -> heldUp.complete(Thread.currentThread()));
            handedOver.countDown();
            await(release); // a callback that blocks, with a call handed to this thread
        });
        assertThat(handedOver.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

        calls.passOnHeldUp(); // first sight: it may be about to start
        assertThat(heldUp).isNotDone();
        assertThat(executes).hasValue(1);

        calls.passOnHeldUp(); // still waiting a tick later: another thread runs it
        Thread ranOn = heldUp.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertThat(ranOn).isNotSameAs(blockedThread.get());
        assertThat(executes).hasValue(2);
        release.countDown();
    }

    @Test
    void aCallStartedBetweenTwoTicksIsNotPassedOnAndRunsOnce() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch handedOver = new CountDownLatch(1);
        CountDownLatch nextStarted = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        calls.runNew(() -> {
            calls.runHandedOver(() -> {
                runs.incrementAndGet();
                nextStarted.countDown();
                await(finish);
            });
            handedOver.countDown();
            await(release);
        });
        assertThat(handedOver.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        calls.passOnHeldUp();
        release.countDown(); // the thread goes on to the call handed to it
        assertThat(nextStarted.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

        calls.passOnHeldUp();
        calls.passOnHeldUp();
        finish.countDown();

        assertThat(executes).hasValue(1);
        assertThat(runs).hasValue(1);
    }

    @Test
    void aCallThatCannotGetAThreadBecauseThePoolIsClosingRunsOnTheTickThatPassesItOn() throws Exception {
        AsyncCalls closing = new AsyncCalls(r -> {
            throw new RejectedExecutionException("closed");
        });
        assertThatThrownBy(() -> closing.runNew(() -> { })).isInstanceOf(RejectedExecutionException.class);

        // A held-up call whose pool closed meanwhile: passing it on fails, so the tick runs it (it ends with its failure).
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch handedOver = new CountDownLatch(1);
        CompletableFuture<Thread> heldUp = new CompletableFuture<>();
        AtomicInteger allowed = new AtomicInteger(1);
        AsyncCalls oneThread = new AsyncCalls(r -> {
            if (allowed.getAndDecrement() <= 0) {
                throw new RejectedExecutionException("closed");
            }
            pool.execute(r);
        });
        oneThread.runNew(() -> {
            oneThread.runHandedOver(() -> heldUp.complete(Thread.currentThread()));
            handedOver.countDown();
            await(release);
        });
        assertThat(handedOver.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        oneThread.passOnHeldUp();
        oneThread.passOnHeldUp();

        assertThat(heldUp).isDone();
        assertThat(heldUp.get()).isSameAs(Thread.currentThread());
        release.countDown();
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("not released within " + WAIT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
