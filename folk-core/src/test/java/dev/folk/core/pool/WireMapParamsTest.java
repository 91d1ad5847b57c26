package dev.folk.core.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Type;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.folk.core.protocol.WireMap;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.testing.Workers;

/** A {@link WireMap} goes to the worker as it is, past the pool's value mapper; other params go through it. */
class WireMapParamsTest {

    private static Supervisor supervisor;

    @BeforeAll
    static void start() {
        supervisor = new Supervisor();
    }

    @AfterAll
    static void stop() {
        supervisor.close();
    }

    /** Marks what it maps, so the worker's echo shows whether the mapper saw the params. */
    private static final class MarkingMapper implements ValueMapper {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public @Nullable Object toWire(@Nullable Object params) {
            calls.incrementAndGet();
            return Map.of("mapped", true);
        }

        @Override
        public @Nullable Object fromWire(@Nullable Object value, Type type) {
            return ValueMapper.PROTOCOL.fromWire(value, type);
        }
    }

    @Test
    void aWireMapSkipsTheValueMapperOnEveryEntryPoint() throws Exception {
        MarkingMapper mapper = new MarkingMapper();
        WorkerPool pool = PoolTesting.ready(PoolConfig.builder("wire",
                PhpWorkers.testWorker(Workers.newTag()).build()).size(1).valueMapper(mapper).build(), supervisor);
        try {
            WireMap wire = new WireMap(2);
            wire.put("uri", "/php/hello");
            wire.put("body", new byte[] {(byte) 0xff, 2});

            assertThat(pool.call("echo", Map.of("uri", "/x"))).isEqualTo(Map.of("mapped", true));
            assertThat(mapper.calls).as("a plain map goes through the mapper").hasValue(1);

            assertThat(echoed(pool.call("echo", wire))).isEqualTo("/php/hello");
            assertThat(echoed(pool.callAsync("echo", wire, "GET /php/hello").get(5, TimeUnit.SECONDS)))
                    .isEqualTo("/php/hello");
            assertThat(echoed(pool.tryCall("echo", wire, "GET /php/hello"))).isEqualTo("/php/hello");
            assertThat(mapper.calls).as("a WireMap never does").hasValue(1);
        } finally {
            pool.close();
        }
    }

    private static @Nullable Object echoed(@Nullable Object result) {
        assertThat(result).isInstanceOf(Map.class);
        Map<?, ?> map = (Map<?, ?>) result;
        assertThat(map.get("body")).isEqualTo(new byte[] {(byte) 0xff, 2});
        return map.get("uri");
    }
}
