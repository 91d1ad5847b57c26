package dev.folk.spring.boot.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;

import dev.folk.spring.boot.http.FolkHttpGateway;
import dev.folk.spring.boot.http.HttpRoute;

/**
 * Micrometer meters of the HTTP gateway: the heap it holds for clients (request bodies, which share
 * {@code folk.http.body-memory}, and streamed answers waiting for slow clients), and its answers by
 * status class.
 *
 * <table>
 *   <caption>Meters (Prometheus name in brackets)</caption>
 *   <tr><td>{@code folk.http.body.memory.used} (folk_http_body_memory_used_bytes)</td><td>gauge: heap
 *       that request bodies hold now, being read or waiting with their calls for a worker</td></tr>
 *   <tr><td>{@code folk.http.body.memory.max} (folk_http_body_memory_max_bytes)</td><td>gauge: the
 *       most they may hold ({@code folk.http.body-memory})</td></tr>
 *   <tr><td>{@code folk.http.body.memory.refused} (folk_http_body_memory_refused_total)</td><td>counter:
 *       requests answered 503 because their body found no room</td></tr>
 *   <tr><td>{@code folk.http.answer.memory.used} (folk_http_answer_memory_used_bytes)</td><td>gauge:
 *       heap that parts of streamed answers hold now, waiting for their clients (at most as much as
 *       request bodies may; past that, parts wait in temporary files)</td></tr>
 *   <tr><td>{@code folk.http.responses} (folk_http_responses_total)</td><td>counter, tags {@code pool},
 *       {@code mapping} and {@code status} (2xx, 3xx, 4xx, 5xx): requests the gateway answered, with
 *       PHP's answer, a public file or an answer of its own; the HTTP metrics of PHP's requests when
 *       the gateway serves them ahead of Spring Boot's observation filter</td></tr>
 * </table>
 */
public class FolkHttpMetrics implements MeterBinder {

    private final FolkHttpGateway gateway;

    public FolkHttpMetrics(FolkHttpGateway gateway) {
        this.gateway = gateway;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("folk.http.body.memory.used", gateway, FolkHttpGateway::bodyBytes)
                .description("Heap held by request bodies being read or waiting with their calls for a worker")
                .baseUnit(BaseUnits.BYTES).register(registry);
        Gauge.builder("folk.http.body.memory.max", gateway, g -> g.options().bodyMemory())
                .description("The most request bodies may hold (folk.http.body-memory)")
                .baseUnit(BaseUnits.BYTES).register(registry);
        FunctionCounter.builder("folk.http.body.memory.refused", gateway, FolkHttpGateway::bodiesRefused)
                .description("Requests answered 503 because their body found no room in folk.http.body-memory")
                .register(registry);
        Gauge.builder("folk.http.answer.memory.used", gateway, FolkHttpGateway::answerBytes)
                .description("Heap held by parts of streamed answers waiting for their clients")
                .baseUnit(BaseUnits.BYTES).register(registry);
        for (HttpRoute route : gateway.routes()) {
            for (String status : FolkHttpGateway.STATUS_CLASSES) {
                FunctionCounter.builder("folk.http.responses", gateway, g -> g.answered(route, status))
                        .description("Requests the HTTP gateway answered, by mapping and status class: PHP's answers,"
                                + " its public files and its own (413, 502, 503, 504...)")
                        .tag("pool", route.pool().name())
                        .tag("mapping", route.prefix() + "/**")
                        .tag("status", status)
                        .register(registry);
            }
        }
    }
}
