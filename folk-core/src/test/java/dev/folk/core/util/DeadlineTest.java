package dev.folk.core.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class DeadlineTest {

    @Test
    void pausesDoubleFromTheFirstUpToTheCap() {
        Deadline d = Deadline.at(System.nanoTime() + TimeUnit.SECONDS.toNanos(30), 1_000, 8_000);
        List<Long> schedule = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            schedule.add(d.nextPauseNanos());
            assertThat(d.pause()).isTrue();
        }
        assertThat(schedule).containsExactly(1_000L, 2_000L, 4_000L, 8_000L, 8_000L, 8_000L);
    }

    @Test
    void aFixedPauseStaysTheSame() {
        Deadline d = Deadline.at(System.nanoTime() + TimeUnit.SECONDS.toNanos(30), 5_000);
        for (int i = 0; i < 3; i++) {
            assertThat(d.nextPauseNanos()).isEqualTo(5_000L);
            assertThat(d.pause()).isTrue();
        }
    }

    @Test
    void aPassedDeadlineRefusesToPauseAndDoesNotPark() {
        Deadline d = Deadline.at(System.nanoTime() - 1, TimeUnit.SECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(10));
        long start = System.nanoTime();
        assertThat(d.passed()).isTrue();
        assertThat(d.nanosLeft()).isLessThanOrEqualTo(0);
        assertThat(d.pause()).isFalse();
        assertThat(d.nextPauseNanos()).as("a refused pause does not lengthen the next").isEqualTo(TimeUnit.SECONDS.toNanos(10));
        // A 10 s park would have happened here had it not refused; 2 s leaves room for a busy machine.
        assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(2));
    }

    @Test
    void theLastPauseEndsAtTheDeadlineNotAfterIt() {
        long at = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        Deadline d = Deadline.at(at, TimeUnit.SECONDS.toNanos(30), TimeUnit.SECONDS.toNanos(30));
        long start = System.nanoTime();
        int pauses = 0;
        while (d.pause()) {
            pauses++;
        }
        long end = System.nanoTime();
        assertThat(pauses).isGreaterThanOrEqualTo(1);
        assertThat(end - at).as("stopped only once the deadline had come").isGreaterThanOrEqualTo(0);
        assertThat(d.passed()).isTrue();
        // A 30 s pause cut to the 50 ms left; 10 s leaves room for a busy machine and still fails uncut pauses.
        assertThat(end - start).isLessThan(TimeUnit.SECONDS.toNanos(10));
    }

    @Test
    void badPausesAreRefused() {
        long at = System.nanoTime();
        assertThatThrownBy(() -> Deadline.at(at, 0, 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Deadline.at(at, 10, 5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cap");
    }
}
