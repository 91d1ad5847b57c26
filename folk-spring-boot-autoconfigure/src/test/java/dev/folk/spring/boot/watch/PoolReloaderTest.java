package dev.folk.spring.boot.watch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

/** The reload rules, driven with explicit times: debounce, one reset at a time, a reset after every change. */
class PoolReloaderTest {

    private static final long MS = 1_000_000;
    private static final long DEBOUNCE = 100 * MS;
    private static final long T0 = 5_000_000_000L;

    private final FakePool pool = new FakePool();
    private final List<PoolReloader.Changes> refreshed = new ArrayList<>();
    private final PoolReloader reloader = new PoolReloader(pool, DEBOUNCE, refreshed::add);

    @Test
    void aBurstOfChangesIsOneResetOnceTheBurstIsOver() {
        // A git checkout: 300 events on 60 files, 1 ms apart.
        for (int i = 0; i < 300; i++) {
            reloader.changed(file("src/F" + (i % 60) + ".php"), T0 + i * MS);
        }
        long last = T0 + 299 * MS;
        assertThat(reloader.fireIfDue(last + DEBOUNCE - 1)).isFalse();
        assertThat(reloader.nanosUntilDue(last + 50 * MS)).isEqualTo(50 * MS);
        assertThat(pool.resets).isEmpty();

        assertThat(reloader.fireIfDue(last + DEBOUNCE)).isTrue();
        assertThat(pool.resets).hasSize(1);
        assertThat(refreshed).hasSize(1);
        assertThat(refreshed.get(0).files()).hasSize(60).first().isEqualTo(file("src/F0.php"));
        assertThat(refreshed.get(0).describe()).endsWith("F2.php and 57 more");

        // Nothing more changed: nothing more happens, before or after the reset completes.
        assertThat(reloader.fireIfDue(last + 10 * DEBOUNCE)).isFalse();
        pool.complete(0);
        assertThat(reloader.busy()).isFalse();
        assertThat(reloader.nanosUntilDue(last + 20 * DEBOUNCE)).isEqualTo(-1);
        assertThat(reloader.fireIfDue(last + 20 * DEBOUNCE)).isFalse();
        assertThat(pool.resets).hasSize(1);
        assertThat(reloader.reloads()).isEqualTo(1);
    }

    /** A save raises several events for one file: beyond the files remembered, each is still counted once. */
    @Test
    void filesBeyondThoseRememberedAreEachCountedOnce() {
        int files = PoolReloader.MAX_TRACKED + 200;
        for (int round = 0; round < 2; round++) { // written, then its metadata: two events each
            for (int i = 0; i < files; i++) {
                reloader.changed(file("vendor/F" + i + ".php"), T0 + round * MS);
            }
        }
        assertThat(reloader.fireIfDue(T0 + MS + DEBOUNCE)).isTrue();
        assertThat(refreshed.get(0).files()).hasSize(PoolReloader.MAX_TRACKED);
        assertThat(refreshed.get(0).more()).isEqualTo(200);
        assertThat(refreshed.get(0).describe()).endsWith("F2.php and " + (files - 3) + " more");
    }

    @Test
    void aChangeDuringAResetIsFollowedByExactlyOneMoreResetAfterItNeverTwoAtOnce() {
        reloader.changed(file("app.php"), T0);
        assertThat(reloader.fireIfDue(T0 + DEBOUNCE)).isTrue();
        long during = T0 + 2 * DEBOUNCE;
        reloader.changed(file("app.php"), during);
        reloader.changed(file("lib.php"), during + MS);

        // Still resetting: no second reset at once, however long it takes (the changes only retry
        // its failed boots, once: see the next test).
        assertThat(reloader.fireIfDue(during + 50 * DEBOUNCE)).isFalse();
        assertThat(reloader.nanosUntilDue(during + 50 * DEBOUNCE)).isEqualTo(-1);
        assertThat(reloader.fireIfDue(during + 50 * DEBOUNCE)).isFalse();
        assertThat(pool.resets).hasSize(1);

        pool.complete(0);
        assertThat(reloader.fireIfDue(during + 50 * DEBOUNCE)).isTrue();
        assertThat(pool.resets).hasSize(2);
        assertThat(refreshed.get(2).files()).containsExactly(file("app.php"), file("lib.php"));
        pool.complete(1);
        assertThat(reloader.fireIfDue(during + 100 * DEBOUNCE)).isFalse();
        assertThat(pool.resets).hasSize(2);
    }

    /**
     * A save with a syntax error, then the fix, both while the reset for the first runs: the fix
     * must not wait for the back-off of the boots that failed on the broken save. Once its burst is
     * over, the extracted copies are refreshed and failed boots retried, once; its reload still
     * follows the running reset.
     */
    @Test
    void aChangeDuringAResetRetriesItsFailedBootsOnceTheBurstIsOver() {
        reloader.changed(file("app.php"), T0);
        assertThat(reloader.fireIfDue(T0 + DEBOUNCE)).isTrue();
        long fix = T0 + 5 * DEBOUNCE;
        reloader.changed(file("app.php"), fix);
        assertThat(reloader.fireIfDue(fix + DEBOUNCE - 1)).isFalse();
        assertThat(pool.retries).isZero();
        assertThat(reloader.nanosUntilDue(fix + DEBOUNCE / 2)).isEqualTo(DEBOUNCE / 2);

        assertThat(reloader.fireIfDue(fix + DEBOUNCE)).as("no reset while one runs").isFalse();
        assertThat(pool.retries).isEqualTo(1);
        assertThat(refreshed).hasSize(2);
        assertThat(refreshed.get(1).files()).containsExactly(file("app.php"));
        assertThat(reloader.nanosUntilDue(fix + 2 * DEBOUNCE)).as("retried once: nothing due until the reset ends")
                .isEqualTo(-1);
        assertThat(reloader.fireIfDue(fix + 20 * DEBOUNCE)).isFalse();
        assertThat(pool.retries).isEqualTo(1);
        assertThat(pool.resets).hasSize(1);

        pool.complete(0);
        assertThat(reloader.fireIfDue(fix + 20 * DEBOUNCE)).as("the fix's own reload, after the reset").isTrue();
        assertThat(pool.resets).hasSize(2);
        assertThat(pool.retries).isEqualTo(1);
    }

    @Test
    void changesThatNeverStopStillReloadAfterTenDebounceTimes() {
        long t = T0;
        for (; t < T0 + PoolReloader.MAX_DELAY_FACTOR * DEBOUNCE; t += 10 * MS) {
            reloader.changed(file("log.php"), t);
            assertThat(reloader.fireIfDue(t)).isFalse();
        }
        reloader.changed(file("log.php"), t);
        assertThat(reloader.fireIfDue(t)).isTrue();
    }

    @Test
    void aJoinedResetThatLeftAnOlderWorkerIsFollowedByOneMoreReset() {
        pool.olderWorkerLeft = true; // e.g. a reset started from the actuator was already running
        reloader.changed(file("app.php"), T0);
        reloader.fireIfDue(T0 + DEBOUNCE);
        pool.complete(0);
        assertThat(pool.resets).hasSize(2);
        assertThat(reloader.busy()).isTrue();
        pool.complete(1); // once more at most: no loop on a pool that cannot be renewed
        assertThat(pool.resets).hasSize(2);
        assertThat(reloader.busy()).isFalse();
    }

    @Test
    void aFailedResetEndsTheReloadAndTheNextChangeReloadsAgain() {
        reloader.changed(file("app.php"), T0);
        reloader.fireIfDue(T0 + DEBOUNCE);
        pool.resets.get(0).completeExceptionally(new IllegalStateException("no replacement became ready"));
        assertThat(reloader.busy()).isFalse();
        reloader.changed(file("app.php"), T0 + 5 * DEBOUNCE);
        assertThat(reloader.fireIfDue(T0 + 6 * DEBOUNCE)).isTrue();
        assertThat(pool.resets).hasSize(2);
    }

    @Test
    void lostEventsReloadTooAndSaySo() {
        reloader.lost(T0);
        assertThat(reloader.fireIfDue(T0 + DEBOUNCE)).isTrue();
        assertThat(refreshed.get(0).lost()).isTrue();
        assertThat(refreshed.get(0).describe()).contains("could not list");
    }

    @Test
    void theChangesUnderADirectoryThatWentAreForgottenTheOthersStillReload() {
        reloader.changed(file("classes/php/app.php"), T0);
        reloader.changed(file("src/a.php"), T0 + MS);
        reloader.forget(file("classes/php"));
        assertThat(reloader.fireIfDue(T0 + MS + DEBOUNCE)).isTrue();
        assertThat(refreshed.get(0).files()).containsExactly(file("src/a.php"));
        pool.complete(0);

        reloader.changed(file("classes/php/app.php"), T0 + 10 * DEBOUNCE);
        reloader.forget(file("classes/php"));
        assertThat(reloader.nanosUntilDue(T0 + 20 * DEBOUNCE)).as("nothing left to reload for").isEqualTo(-1);
        assertThat(reloader.fireIfDue(T0 + 20 * DEBOUNCE)).isFalse();
        assertThat(pool.resets).hasSize(1);
    }

    @Test
    void aStoppedReloaderStartsNoReset() {
        reloader.changed(file("app.php"), T0);
        reloader.stop();
        assertThat(reloader.fireIfDue(T0 + DEBOUNCE)).isFalse();
        assertThat(pool.resets).isEmpty();
    }

    @Test
    void theLogNamesAFewFilesThenCountsTheRest() {
        assertThat(new PoolReloader.Changes(List.of(Path.of("/x/a.php")), 0, false).describe()).isEqualTo("/x/a.php");
        assertThat(new PoolReloader.Changes(List.of(Path.of("/x/a.php"), Path.of("/x/b.php"), Path.of("/x/c.php"),
                Path.of("/x/d.php")), 2, false).describe()).isEqualTo("/x/a.php, /x/b.php, /x/c.php and 3 more");
        assertThat(new PoolReloader.Changes(List.of(file("src/a.php")), 0, false).describe())
                .isEqualTo(Path.of("src", "a.php").toString());
    }

    private static Path file(String relative) {
        return Path.of("").toAbsolutePath().resolve(relative);
    }

    /** A pool whose resets complete when the test says. */
    private static final class FakePool implements PoolReloader.Target {
        final List<CompletableFuture<Void>> resets = new ArrayList<>();
        boolean olderWorkerLeft;
        int retries;

        @Override
        public void retryFailedBoots() {
            retries++;
        }

        @Override
        public String name() {
            return "web";
        }

        @Override
        public CompletableFuture<Void> reset() {
            CompletableFuture<Void> f = new CompletableFuture<>();
            resets.add(f);
            return f;
        }

        @Override
        public boolean hasWorkerStartedBefore(Instant instant) {
            return olderWorkerLeft;
        }

        void complete(int reset) {
            resets.get(reset).complete(null);
        }
    }
}
