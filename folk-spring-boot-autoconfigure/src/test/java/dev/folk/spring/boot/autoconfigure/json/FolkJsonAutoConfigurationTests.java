package dev.folk.spring.boot.autoconfigure.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.folk.core.pool.InvalidParamsException;
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

    record Blob(String name, byte[] data) {
    }

    record Payment(String id, BigDecimal amount, Instant at) {
    }

    record Unreadable(String value) {
        @Override
        public String value() {
            throw new IllegalStateException("not today");
        }
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
    void aByteArrayFieldTakesAPhpStringsBytesAsTheyAreBinaryOrNot() {
        runner.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1").run(ctx -> {
            WorkerPool pool = ctx.getBean(WorkerPool.class);
            Blob binary = pool.call("echo", new Blob("b", new byte[] {1, 2, (byte) 0xff}), Blob.class);
            assertThat(binary.name()).isEqualTo("b");
            assertThat(binary.data()).containsExactly(1, 2, 0xff);
            // PHP gets the raw bytes, not base64: a handler sees its string as sent.
            assertThat(pool.call("echo", new Blob("t", "héllo".getBytes(StandardCharsets.UTF_8)), Map.class))
                    .isEqualTo(Map.of("name", "t", "data", "héllo"));
            // A PHP string that is valid UTF-8 (text, or bytes that happen to be) into a byte[] field: its bytes.
            assertThat(pool.call("echo", Map.of("name", "t", "data", "héllo"), Blob.class).data())
                    .isEqualTo("héllo".getBytes(StandardCharsets.UTF_8));
            assertThat(pool.call("echo", Map.of("name", "t", "data", "QUJD"), Blob.class).data())
                    .as("never base64-decoded").isEqualTo("QUJD".getBytes(StandardCharsets.UTF_8));
            // A String field still reads text; bytes that are not UTF-8 with U+FFFD, not as base64.
            Blob text = pool.call("echo", Map.of("name", new byte[] {'a', (byte) 0xff}, "data", new byte[0]), Blob.class);
            assertThat(text.name()).isEqualTo("a\ufffd");
            assertThat(text.data()).isEmpty();
            List<Blob> many = pool.call("echo", List.of(binary, binary), new ResultType<List<Blob>>() {});
            assertThat(many).hasSize(2).allSatisfy(b -> assertThat(b.data()).containsExactly(1, 2, 0xff));
        });
    }

    @Test
    void decimalsAndInstantsTravelAsStringsAndRoundTrip() {
        runner.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1").run(ctx -> {
            WorkerPool pool = ctx.getBean(WorkerPool.class);
            Instant at = Instant.parse("2024-05-06T07:08:09.123456789Z");
            Payment payment = new Payment("P-1", new BigDecimal("12.50"), at);
            assertThat(pool.call("echo", payment, Payment.class)).isEqualTo(payment);
            assertThat(pool.call("echo", payment, Map.class))
                    .isEqualTo(Map.of("id", "P-1", "amount", "12.50", "at", "2024-05-06T07:08:09.123456789Z"));
            assertThat(pool.call("echo", Map.of("amount", new BigDecimal("1E+3"), "at", at), Map.class))
                    .isEqualTo(Map.of("amount", "1000", "at", "2024-05-06T07:08:09.123456789Z"));
            assertThat(pool.call("echo", new BigDecimal("0.10"), BigDecimal.class)).isEqualTo(new BigDecimal("0.10"));
            // A number from PHP into a BigDecimal field.
            assertThat(pool.call("echo", Map.of("id", "P-2", "amount", 7.25, "at", at.toString()), Payment.class))
                    .isEqualTo(new Payment("P-2", new BigDecimal("7.25"), at));
            assertThat(pool.call("echo", Map.of("id", "P-3", "amount", 7, "at", at.toString()), Payment.class).amount())
                    .isEqualByComparingTo("7");
        });
    }

    @Test
    void aListThatHoldsItselfGetsTheEncodersClearError() {
        runner.withPropertyValues("folk.args=" + TestWorkers.ECHO, "folk.size=1").run(ctx -> {
            WorkerPool pool = ctx.getBean(WorkerPool.class);
            List<Object> cyclic = new ArrayList<>();
            cyclic.add(cyclic);
            assertThatThrownBy(() -> pool.call("echo", cyclic))
                    .isInstanceOf(InvalidParamsException.class)
                    .hasMessageContaining("nested deeper than 256 levels (a cycle?)").hasMessageContaining("'echo'");
            List<Object> withRecord = new ArrayList<>(Arrays.asList(new Line("pen", 1)));
            withRecord.add(withRecord);
            assertThatThrownBy(() -> pool.call("echo", withRecord))
                    .isInstanceOf(InvalidParamsException.class)
                    .hasMessageContaining("nested deeper than 256 levels (a cycle?)");
            assertThat(pool.call("echo", List.of(new Line("pen", 1)), new ResultType<List<Line>>() {}))
                    .containsExactly(new Line("pen", 1));
            // A value the JSON mapper cannot convert either: the same failure, in the future when async.
            assertThatThrownBy(() -> pool.call("echo", new Unreadable("x")))
                    .isInstanceOf(InvalidParamsException.class).hasMessageContaining("'echo'").hasMessageContaining("not today");
            assertThat(pool.callAsync("echo", new Unreadable("x"))).failsWithin(Duration.ofSeconds(5))
                    .withThrowableOfType(ExecutionException.class).withCauseInstanceOf(InvalidParamsException.class);
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
