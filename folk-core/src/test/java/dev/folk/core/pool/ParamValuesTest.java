package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.WorkerSpec;
import dev.folk.core.testing.SharedSupervisor;
import dev.folk.core.testing.Workers;

/**
 * Params as PHP receives them, and params that cannot be sent, through real PHP workers: with
 * ext-msgpack and with {@code php -n} (our pure-PHP codec).
 */
class ParamValuesTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    private static WorkerPool pool(String codec) {
        List<String> args = codec.equals("pure") ? List.of("-n", PhpWorkers.TEST_WORKER.toString())
                : List.of(PhpWorkers.TEST_WORKER.toString());
        WorkerSpec spec = WorkerSpec.builder("php").name("php-test").args(args)
                .environment(Workers.RUN_TAG, Workers.newTag()).output(OutputPolicy.log()).build();
        return PoolTesting.ready(PoolConfig.builder("params-" + codec, spec).size(1).build(), SUPERVISOR.get());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ext", "pure"})
    void instantsAndDecimalsArriveAsExactStrings(String codec) {
        WorkerPool pool = pool(codec);
        try {
            int pid = PoolTesting.pids(pool).iterator().next();
            Instant at = Instant.parse("2024-05-06T07:08:09.123456789Z");
            assertThat(pool.call("describe", at)).isEqualTo(List.of("string", "2024-05-06T07:08:09.123456789Z"));
            assertThat(pool.call("describe", Map.of("at", at)))
                    .isEqualTo(List.of("array", Map.of("at", "2024-05-06T07:08:09.123456789Z")));
            assertThat(pool.call("describe", new BigDecimal("12.50"))).isEqualTo(List.of("string", "12.50"));
            assertThat(pool.call("describe", Map.of("amount", new BigDecimal("1E+3"))))
                    .isEqualTo(List.of("array", Map.of("amount", "1000")));
            assertThat(PoolTesting.pids(pool)).as("the same worker throughout").containsExactly(pid);
        } finally {
            pool.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ext", "pure"})
    void anEmptyMapAsParamsIsAnEmptyPhpArray(String codec) {
        WorkerPool pool = pool(codec);
        try {
            assertThat(pool.call("count", Map.of())).isEqualTo(0L);
            assertThat(pool.call("describe", new HashMap<>())).isEqualTo(List.of("array", List.of()));
            assertThat(pool.call("none", Map.of())).isEqualTo("none");
            assertThat(pool.call("none", null)).isEqualTo("none");
            assertThat(pool.call("describe", null)).isEqualTo(java.util.Arrays.asList("null", null));
        } finally {
            pool.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ext", "pure"})
    void paramsThatCannotBeSentFailTheCallNamingPoolMethodAndPathAndSendNothing(String codec) {
        WorkerPool pool = pool(codec);
        try {
            int pid = PoolTesting.pids(pool).iterator().next();
            assertThat(pool.call("seq", "first")).isEqualTo(List.of(1L, "first"));

            Map<Object, Object> nullKey = new HashMap<>();
            nullKey.put(null, "x");
            nullKey.put("a", 1);
            List<Object> cycle = new ArrayList<>();
            cycle.add(cycle);
            Map<String, Object> unsupported = Map.of("lines", List.of(Map.of("at", new Object())));
            for (Object params : List.of(unsupported, Map.of("items", List.of(nullKey)), cycle)) {
                assertThatThrownBy(() -> pool.call("seq", params))
                        .isInstanceOf(InvalidParamsException.class)
                        .hasMessageStartingWith("Call 'seq' on pool 'params-" + codec + "' rejected, nothing was sent: ")
                        .satisfies(e -> assertThat(((CallException) e).retryable()).isFalse());
                assertThat(pool.callAsync("seq", params)).failsWithin(java.time.Duration.ofSeconds(5))
                        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                        .withCauseInstanceOf(InvalidParamsException.class);
            }
            assertThatThrownBy(() -> pool.call("seq", unsupported))
                    .hasMessageContaining("params.lines[0].at: unsupported type java.lang.Object");
            assertThatThrownBy(() -> pool.call("seq", Map.of("items", List.of(nullKey))))
                    .hasMessageContaining("params.items[0]: a map with a null key");
            assertThatThrownBy(() -> pool.call("seq", cycle)).hasMessageContaining("nested deeper than 256 levels");

            assertThat(pool.snapshot().count(WorkerState.IDLE)).as("the worker is idle").isEqualTo(1);
            assertThat(pool.call("seq", "second")).as("nothing reached the worker").isEqualTo(List.of(2L, "second"));
            assertThat(PoolTesting.pids(pool)).containsExactly(pid);
        } finally {
            pool.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ext"})
    void nullForAPrimitiveResultTypeIsAClearError(String codec) {
        WorkerPool pool = pool(codec);
        try {
            assertThatThrownBy(() -> pool.call("echo", null, int.class))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("Result of 'echo' on pool 'params-ext' cannot be read as int: the worker returned null, "
                            + "which a primitive type cannot hold (ask for its box, e.g. Integer, to accept null)");
            assertThat(pool.callAsync("echo", null, long.class)).failsWithin(java.time.Duration.ofSeconds(5));
            assertThat(pool.call("echo", null, Integer.class)).isNull();
            assertThat(pool.call("echo", 7, int.class)).isEqualTo(7);
        } finally {
            pool.close();
        }
    }
}
