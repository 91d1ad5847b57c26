package dev.folk.spring.boot.observation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;

import io.micrometer.common.KeyValue;
import io.micrometer.common.KeyValues;
import org.junit.jupiter.api.Test;

import dev.folk.core.pool.CallOutcome;
import dev.folk.spring.boot.metrics.MethodTags;

/** The key values of {@code folk.call}: right for each call, the low-cardinality ones built once per kind of call. */
class DefaultFolkCallObservationConventionTest {

    @Test
    void lowCardinalityValuesPerPoolAndOutcomeAreBuiltOnce() {
        DefaultFolkCallObservationConvention convention = new DefaultFolkCallObservationConvention(false);
        FolkCallContext running = new FolkCallContext("default", "http.handle", "GET /php/hello");
        assertThat(convention.getLowCardinalityKeyValues(running))
                .containsExactly(KeyValue.of("outcome", "unknown"), KeyValue.of("pool", "default"));

        FolkCallContext ok = ended("default", "http.handle", CallOutcome.SUCCESS);
        KeyValues first = convention.getLowCardinalityKeyValues(ok);
        assertThat(first).containsExactly(KeyValue.of("outcome", "success"), KeyValue.of("pool", "default"));
        assertThat(convention.getLowCardinalityKeyValues(ended("default", "echo", CallOutcome.SUCCESS)))
                .as("the same pool and outcome, another method (not a tag)").isSameAs(first);

        assertThat(convention.getLowCardinalityKeyValues(ended("default", "http.handle", CallOutcome.EXEC_TIMEOUT)))
                .containsExactly(KeyValue.of("outcome", "exec-timeout"), KeyValue.of("pool", "default"));
        assertThat(convention.getLowCardinalityKeyValues(ended("slim", "http.handle", CallOutcome.SUCCESS)))
                .containsExactly(KeyValue.of("outcome", "success"), KeyValue.of("pool", "slim"));
    }

    @Test
    void withTheMethodTagEachMethodHasItsOwnValues() {
        DefaultFolkCallObservationConvention convention = new DefaultFolkCallObservationConvention(true);
        KeyValues hello = convention.getLowCardinalityKeyValues(ended("default", "http.handle", CallOutcome.SUCCESS));
        assertThat(hello).containsExactly(KeyValue.of("method", "http.handle"), KeyValue.of("outcome", "success"),
                KeyValue.of("pool", "default"));
        assertThat(convention.getLowCardinalityKeyValues(ended("default", "echo", CallOutcome.SUCCESS)))
                .containsExactly(KeyValue.of("method", "echo"), KeyValue.of("outcome", "success"),
                        KeyValue.of("pool", "default"));
        assertThat(convention.getLowCardinalityKeyValues(ended("default", "http.handle", CallOutcome.SUCCESS)))
                .isSameAs(hello);
    }

    @Test
    void withTheMethodTagMethodsPastTheLimitShareOneValue() {
        DefaultFolkCallObservationConvention convention = new DefaultFolkCallObservationConvention(true);
        Set<String> tagged = new HashSet<>();
        for (int i = 0; i < MethodTags.MAX_PER_POOL + 20; i++) {
            KeyValues values = convention.getLowCardinalityKeyValues(ended("default", "m" + i, CallOutcome.SUCCESS));
            tagged.add(values.stream().filter(v -> v.getKey().equals("method")).findFirst().orElseThrow().getValue());
        }
        assertThat(tagged).hasSize(MethodTags.MAX_PER_POOL + 1).contains("m0", MethodTags.OTHER);
        assertThat(convention.getLowCardinalityKeyValues(ended("other-pool", "m150", CallOutcome.SUCCESS)))
                .as("each pool has its own limit").contains(KeyValue.of("method", "m150"));
    }

    @Test
    void highCardinalityValuesNameTheMethodWorkerAndLabelWhenKnown() {
        DefaultFolkCallObservationConvention convention = new DefaultFolkCallObservationConvention(false);
        FolkCallContext context = new FolkCallContext("default", "http.handle", "GET /php/hello");
        assertThat(convention.getHighCardinalityKeyValues(context))
                .containsExactly(KeyValue.of("label", "GET /php/hello"), KeyValue.of("method", "http.handle"));
        context.pid(4242);
        assertThat(convention.getHighCardinalityKeyValues(context)).containsExactly(
                KeyValue.of("label", "GET /php/hello"), KeyValue.of("method", "http.handle"),
                KeyValue.of("worker.pid", "4242"));

        DefaultFolkCallObservationConvention tagged = new DefaultFolkCallObservationConvention(true);
        assertThat(tagged.getHighCardinalityKeyValues(new FolkCallContext("default", "echo", null))).isEmpty();
    }

    private static FolkCallContext ended(String pool, String method, CallOutcome outcome) {
        FolkCallContext context = new FolkCallContext(pool, method, null);
        context.outcome(outcome);
        return context;
    }
}
