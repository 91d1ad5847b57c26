package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The back-off arithmetic, with time and randomness passed in: no process, no clock. */
class BootBackoffTest {

    private static final long MS = 1_000_000;

    private final BootBackoff backoff = new BootBackoff(Duration.ofMillis(100), Duration.ofSeconds(10), 5,
            Duration.ofSeconds(60));

    @Test
    void aFailingSpawnDoublesItsDelayUpToTheCapWithJitterInTheUpperHalf() {
        long now = 0;
        long[] expectedBase = {100, 200, 400, 800};
        for (int attempt = 1; attempt <= 4; attempt++) {
            long low = backoff.failed(now, attempt, 0.0);
            long high = backoff.failed(now, attempt, 0.999999);
            assertThat(low).isEqualTo(expectedBase[attempt - 1] * MS / 2);
            assertThat(high).isBetween(expectedBase[attempt - 1] * MS * 99 / 100, expectedBase[attempt - 1] * MS);
            now += 600_000 * MS; // far apart: never BROKEN here
        }
        assertThat(backoff.failed(now, 40, 0.999999)).as("capped, no overflow").isBetween(9_900 * MS, 10_000 * MS);
    }

    @Test
    void theDelayBelongsToTheFailingSpawnNotToThePool() {
        BootBackoff lenient = new BootBackoff(Duration.ofMillis(100), Duration.ofSeconds(10), 10,
                Duration.ofSeconds(60));
        long now = 0;
        // Slot A has failed 4 times in a row; slot B fails for the first time: B waits 100 ms, not 800.
        for (int i = 1; i <= 3; i++) {
            lenient.failed(now, i, 0.5);
        }
        long a = lenient.failed(now, 4, 0.999);
        long b = lenient.failed(now + MS, 1, 0.999);
        assertThat(a).isGreaterThan(700 * MS);
        assertThat(b).isLessThanOrEqualTo(100 * MS);
    }

    @Test
    void thresholdFailuresWithinTheWindowMakeItBrokenAndRetriesWaitTheCap() {
        long now = 0;
        for (int i = 0; i < 4; i++) {
            backoff.failed(now + i * MS, 1, 0.5);
            assertThat(backoff.broken(now + i * MS)).isFalse();
        }
        long delay = backoff.failed(now + 4 * MS, 1, 0.0);
        assertThat(backoff.broken(now + 4 * MS)).isTrue();
        assertThat(delay).as("while BROKEN even a first failure waits half the cap or more").isEqualTo(5_000 * MS);
        assertThat(backoff.broken(now + 61_000 * MS)).as("failures age out of the window").isFalse();
        assertThat(backoff.recentFailures(now + 61_000 * MS)).isZero();
    }

    @Test
    void randomSchedulesNeverGiveANegativeOrOverCapDelay() {
        Random random = new Random(42);
        long now = 0;
        for (int i = 0; i < 100_000; i++) {
            now += random.nextInt(5_000) * MS;
            long delay = backoff.failed(now, 1 + random.nextInt(64), random.nextDouble());
            assertThat(delay).isBetween(50 * MS / 1, 10_000 * MS);
        }
    }
}
