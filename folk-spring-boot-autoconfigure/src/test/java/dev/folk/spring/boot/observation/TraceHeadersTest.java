package dev.folk.spring.boot.observation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The trace context as http.handle headers: added, replacing a client's only when asked, never in place. */
class TraceHeadersTest {

    private static final Map<String, String> OURS = Map.of("traceparent", "00-aaaa-bbbb-01");

    private static Map<String, Object> params(String... headerPairs) {
        Map<String, Object> headers = new LinkedHashMap<>();
        List<Object> lines = new ArrayList<>();
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.put(headerPairs[i], headerPairs[i + 1]);
            lines.add(List.of(headerPairs[i], headerPairs[i + 1]));
        }
        Map<String, Object> params = new HashMap<>();
        params.put("method", "GET");
        params.put("headers", headers);
        params.put("header_list", lines);
        return params;
    }

    @Test
    void ourTraceparentIsAddedWhenTheClientSentNone() {
        Map<String, Object> params = params("Host", "x");
        Object sent = TraceHeaders.withTraceContext(params, OURS, false);
        assertThat(sent).extracting("headers").isEqualTo(Map.of("Host", "x", "traceparent", "00-aaaa-bbbb-01"));
        assertThat(sent).extracting("header_list")
                .isEqualTo(List.of(List.of("Host", "x"), List.of("traceparent", "00-aaaa-bbbb-01")));
        assertThat(params).as("not changed in place").isEqualTo(params("Host", "x"));
    }

    @Test
    void aClientsTraceContextIsReplacedWholeWithACurrentTraceAndKeptWithout() {
        Map<String, Object> params = params("Traceparent", "00-cccc-dddd-01", "tracestate", "c=1", "Host", "x");
        assertThat(TraceHeaders.withTraceContext(params, OURS, false)).as("no current trace").isSameAs(params);
        Object sent = TraceHeaders.withTraceContext(params, OURS, true);
        assertThat(sent).extracting("headers").isEqualTo(Map.of("Host", "x", "traceparent", "00-aaaa-bbbb-01"));
        assertThat(sent).extracting("header_list")
                .isEqualTo(List.of(List.of("Host", "x"), List.of("traceparent", "00-aaaa-bbbb-01")));
    }

    @Test
    void withoutATraceContextOrHeadersNothingChanges() {
        Map<String, Object> params = params("traceparent", "00-cccc-dddd-01");
        assertThat(TraceHeaders.withTraceContext(params, Map.of(), true)).isSameAs(params);
        assertThat(TraceHeaders.withTraceContext("not a map", OURS, true)).isEqualTo("not a map");
    }
}
