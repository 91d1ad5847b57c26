package dev.folk.spring.boot.autoconfigure.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Type;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.folk.core.pool.ResultType;
import dev.folk.core.pool.ValueMapper;
import dev.folk.core.pool.WorkerPool;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.NotStarted;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.json.JsonValueMapper;

/** Typed calls bind records with the application's JSON mapper, through a real PHP worker. */
class FolkJsonAutoConfigurationTests {

    record Line(String sku, int quantity) {
    }

    record Order(String id, List<Line> lines, boolean paid) {
    }

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class, FolkJsonAutoConfiguration.class,
                    FolkAutoConfiguration.class))
            .withPropertyValues("folk.shutdown.signal-handler=false");

    @Test
    void recordsGoToPhpAndComeBackAsRecordsSyncAndAsync() {
        Order order = new Order("A-7", List.of(new Line("pen", 3), new Line("ink", 1)), true);
        runner.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1").run(ctx -> {
            assertThat(ctx).hasNotFailed().hasSingleBean(JsonValueMapper.class);
            WorkerPool pool = ctx.getBean(WorkerPool.class);
            assertThat(pool.call("echo", order, Order.class)).isEqualTo(order);
            List<Order> both = pool.callAsync("echo", List.of(order, order), new ResultType<List<Order>>() {})
                    .get(10, TimeUnit.SECONDS);
            assertThat(both).containsExactly(order, order);
            assertThat(pool.callAsync("echo", "plain", String.class).get(10, TimeUnit.SECONDS)).isEqualTo("plain");
            // The protocol's own types keep their meaning, not JSON's: bytes are not base64.
            assertThat(pool.call("echo", new byte[] {1, 2, (byte) 0xff}, byte[].class))
                    .isEqualTo(new byte[] {1, 2, (byte) 0xff});
            assertThat(pool.call("echo", Map.of("n", 5), Map.class)).isEqualTo(Map.of("n", 5L));
        });
    }

    @Test
    void aResultThatDoesNotFitSaysWhatItIsAndWhatWasAsked() {
        runner.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1").run(ctx -> {
            WorkerPool pool = ctx.getBean(WorkerPool.class);
            assertThatThrownBy(() -> pool.call("echo", "not an order", Order.class))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Order").hasMessageContaining("echo");
        });
    }

    @Test
    void withoutJacksonRecordsNeedAMapperAndTheErrorSaysSo() {
        runner.withClassLoader(new FilteredClassLoader("tools.jackson"))
                .withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1").run(ctx -> {
                    assertThat(ctx).hasNotFailed().doesNotHaveBean(ValueMapper.class);
                    WorkerPool pool = ctx.getBean(WorkerPool.class);
                    assertThatThrownBy(() -> pool.call("echo", Map.of("id", "A-7"), Order.class))
                            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("value mapper");
                });
    }

    @Test
    void anApplicationValueMapperReplacesOurs() {
        runner.withUserConfiguration(NotStarted.class, OwnMapper.class).run(ctx -> {
            assertThat(ctx).hasNotFailed().hasSingleBean(ValueMapper.class);
            assertThat(ctx.getBean(ValueMapper.class)).isSameAs(OwnMapper.MAPPER);
            assertThat(ctx.getBean(WorkerPool.class).config().valueMapper()).isSameAs(OwnMapper.MAPPER);
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnMapper {
        static final ValueMapper MAPPER = (Object value, Type type) -> value;

        @Bean
        ValueMapper myMapper() {
            return MAPPER;
        }
    }
}
