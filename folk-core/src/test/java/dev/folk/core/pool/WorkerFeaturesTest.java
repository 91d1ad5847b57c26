package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class WorkerFeaturesTest {

    @Test
    void aWorkerDeclaresItsFeaturesInItsReadyParams() {
        WorkerFeatures f = WorkerFeatures.of(Map.of("pid", 42, "features", List.of("backtrace", "context", "context")));
        assertThat(f.has("backtrace")).isTrue();
        assertThat(f.has("context")).isTrue();
        assertThat(f.has("other")).isFalse();
    }

    @Test
    void aWorkerThatSaysNothingOrSomethingElseDeclaresNothing() {
        assertThat(WorkerFeatures.of(Map.of("pid", 42))).isSameAs(WorkerFeatures.NONE);
        assertThat(WorkerFeatures.of(null)).isSameAs(WorkerFeatures.NONE);
        assertThat(WorkerFeatures.of(List.of())).isSameAs(WorkerFeatures.NONE);
        assertThat(WorkerFeatures.of(Map.of("features", "backtrace"))).isSameAs(WorkerFeatures.NONE);
        assertThat(WorkerFeatures.of(Map.of("features", Arrays.asList(1, null)))).isSameAs(WorkerFeatures.NONE);
    }
}
