package dev.folk.spring.boot.autoconfigure.observation;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.jayway.jsonpath.JsonPath;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import io.micrometer.tracing.test.simple.SimpleSpan;
import io.micrometer.tracing.test.simple.SimpleTracer;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration;
import org.springframework.boot.micrometer.tracing.autoconfigure.MicrometerTracingAutoConfiguration;
import org.springframework.boot.tomcat.autoconfigure.servlet.TomcatServletWebServerAutoConfiguration;
import org.springframework.boot.webmvc.autoconfigure.WebMvcObservationAutoConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.http.FolkHttpAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.metrics.FolkMetricsAutoConfiguration;

/**
 * Traces across the boundary in a real web application with Spring Boot's tracing
 * auto-configuration and Micrometer's test tracer: the folk.call span is a child of the caller's,
 * PHP (our library) receives a traceparent of the same trace whose parent is that span, through the
 * HTTP gateway as a header and for a plain method as the call's context; and a worker that declared
 * no feature (a raw base-protocol script) gets exactly the 4-element request.
 */
@SpringBootTest(classes = FolkTracingIntegrationTest.TracedWebApp.class,
        webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
            "folk.pools.main.size=1",
            "folk.pools.base.size=1",
            "folk.shutdown.signal-handler=false",
            "folk.http.mappings[0].path=/php/**",
            "folk.http.mappings[0].pool=main"
        })
@DirtiesContext
class FolkTracingIntegrationTest {

    private static final String TAG = Workers.newTag();
    private static final String CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CLIENT_SPAN = "00f067aa0ba902b7";

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        registry.add("folk.pools.main.args",
                () -> Path.of("src/test/php/trace-worker.php").toAbsolutePath().toString());
        registry.add("folk.pools.base.args[0]",
                () -> Path.of("../folk-core/src/test/resources/workers/raw-worker.php").toAbsolutePath().normalize()
                        .toString());
        registry.add("folk.pools.base.args[1]", () -> "request");
        registry.add("folk.env.FOLK_TEST_RUN", () -> TAG);
    }

    /**
     * Only what the test needs (Tomcat, Spring Boot's observation, tracing, server observation
     * filter and metrics, and ours): a context that starts in a fraction of a full application's time.
     */
    @SpringBootConfiguration(proxyBeanMethods = false)
    @ImportAutoConfiguration({TomcatServletWebServerAutoConfiguration.class, ObservationAutoConfiguration.class,
        MicrometerTracingAutoConfiguration.class, WebMvcObservationAutoConfiguration.class,
        MetricsAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class,
        SimpleMetricsExportAutoConfiguration.class, FolkAutoConfiguration.class, FolkHttpAutoConfiguration.class,
        FolkMetricsAutoConfiguration.class, FolkObservationAutoConfiguration.class})
    static class TracedWebApp {
        @Bean
        SimpleTracer simpleTracer() {
            return new SimpleTracer();
        }

        @Bean
        Propagator w3cPropagator(Tracer tracer) {
            return new W3cTestPropagator(tracer);
        }
    }

    @LocalServerPort
    int port;

    @Autowired
    SimpleTracer tracer;

    @Autowired
    ObservationRegistry observations;

    @Autowired
    MeterRegistry meters;

    @Autowired
    @Qualifier("main")
    WorkerPool main;

    @Autowired
    @Qualifier("base")
    WorkerPool base;

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void clearSpans() {
        tracer.getSpans().clear();
    }

    private SimpleSpan span(String name) {
        Procs.await(Duration.ofSeconds(10), "a span " + name, () -> tracer.getSpans().stream()
                .anyMatch(s -> name.equals(s.getName()) && s.getEndTimestamp().toEpochMilli() > 0));
        return tracer.getSpans().stream().filter(s -> name.equals(s.getName())).findFirst().orElseThrow();
    }

    private String get(String path, String... headers) throws Exception {
        return send("GET", path, headers);
    }

    /** A GET, or a POST with a small body (which the gateway reads, then calls PHP from another thread). */
    private String send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).method(method, method.equals("POST")
                        ? HttpRequest.BodyPublishers.ofString("a=b") : HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return response.body();
    }

    @Test
    void aPlainMethodCallIsAChildSpanAndPhpGetsItsTraceparentAsTheCallsContext() {
        long timed = count("folk.call");
        long executed = count("folk.call.execution");
        Observation parent = Observation.start("test.parent", observations);
        Object seen;
        try (Observation.Scope scope = parent.openScope()) {
            seen = main.call("context", null);
        } finally {
            parent.stop();
        }
        SimpleSpan call = span("main context");
        SimpleSpan caller = span("test.parent");
        assertThat(call.getTraceId()).isEqualTo(caller.getTraceId());
        assertThat(call.getParentId()).isEqualTo(caller.getSpanId());
        assertThat(call.getTags()).containsEntry("pool", "main").containsEntry("outcome", "success")
                .containsEntry("method", "context").containsKey("worker.pid");
        assertThat(seen).isEqualTo(Map.of("traceparent", "00-" + call.getTraceId() + '-' + call.getSpanId() + "-01",
                "tracestate", "folk=test"));
        // Spring Boot's meter handler times the whole call under its own name, beside the wait/execution timers.
        assertThat(count("folk.call")).isEqualTo(timed + 1);
        assertThat(count("folk.call.execution")).isEqualTo(executed + 1);
    }

    private long count(String timer) {
        var t = meters.find(timer).tags("pool", "main", "outcome", "success").timer();
        return t == null ? 0 : t.count();
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "POST"})
    void throughTheGatewayPhpSeesATraceparentContinuingTheClientsTrace(String method) throws Exception {
        String clientParent = "00-" + CLIENT_TRACE + '-' + CLIENT_SPAN + "-01";
        String body = send(method, "/php/trace", "traceparent", clientParent, "tracestate", "client=1");
        SimpleSpan call = span("main http.handle");
        assertThat(call.getTraceId()).as("Spring Boot's server observation continued the client's trace")
                .isEqualTo(CLIENT_TRACE);
        String ours = "00-" + CLIENT_TRACE + '-' + call.getSpanId() + "-01";
        assertThat((String) JsonPath.read(body, "$.traceparent")).isEqualTo(ours);
        assertThat((String) JsonPath.read(body, "$.tracestate")).as("the client's tracestate went with its traceparent")
                .isEqualTo("folk=test");
        assertThat((String) JsonPath.read(body, "$.context.traceparent")).isEqualTo(ours);
        assertThat(call.getTags()).containsEntry("label", method + " /php/trace");
        SimpleSpan server = tracer.getSpans().stream().filter(s -> s.getSpanId().equals(call.getParentId()))
                .findFirst().orElseThrow();
        assertThat(server.getParentId()).as("the server span's parent is the client's").isEqualTo(CLIENT_SPAN);

        tracer.getSpans().clear();
        String fresh = send(method, "/php/trace");
        SimpleSpan second = span("main http.handle");
        assertThat((String) JsonPath.read(fresh, "$.traceparent"))
                .isEqualTo("00-" + second.getTraceId() + '-' + second.getSpanId() + "-01");
    }

    @Test
    void aWorkerThatDeclaredNoFeatureGetsTheFourElementRequest() {
        Observation parent = Observation.start("test.parent", observations);
        try (Observation.Scope scope = parent.openScope()) {
            assertThat(base.call("m", "p")).isEqualTo(List.of(0L, 1L, "m", "p"));
        } finally {
            parent.stop();
        }
        assertThat(span("base m").getTags()).containsEntry("outcome", "success");
    }
}
