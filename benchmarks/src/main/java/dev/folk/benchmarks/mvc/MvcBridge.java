package dev.folk.benchmarks.mvc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.protocol.Values;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * The HTTP comparison's same-run baseline for the gateway's JVM CPU: PHP served the way the sample
 * app served it before the gateway (its PhpBridge, the path the gateway issue measured at ~128 us
 * of JVM CPU per request): a Spring MVC controller behind Spring Boot's filters, a blocking
 * {@code call} per request, the answer as a {@code ResponseEntity<byte[]>}. Requests under
 * {@code /mvc/} go to the pool {@code default} with the same params the bridge sent (method, uri,
 * headers, body).
 *
 * <p>The same jar adds the comparison's floor, {@code /floor/hello} (see {@link ContainerFloor}).
 *
 * <p>Not part of the product: the benchmark puts this jar on the sample app's class path
 * ({@code loader.path}), where Spring Boot finds it as an auto-configuration.
 */
@AutoConfiguration
@Import(MvcBridge.Controller.class)
public class MvcBridge {

    /** {@code /floor/hello}, answered without PHP: see {@link ContainerFloor}. */
    @Bean
    FilterRegistrationBean<ContainerFloor> folkBenchmarkContainerFloor() {
        FilterRegistrationBean<ContainerFloor> floor = new FilterRegistrationBean<>(new ContainerFloor());
        floor.addUrlPatterns(ContainerFloor.PATH);
        floor.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return floor;
    }

    @RestController
    static class Controller {

        private final WorkerPool php;

        Controller(FolkPools pools) {
            this.php = pools.get("default");
        }

        @RequestMapping("/mvc/**")
        ResponseEntity<byte[]> forward(HttpServletRequest request) throws IOException {
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("method", request.getMethod());
            String query = request.getQueryString();
            params.put("uri", query == null ? request.getRequestURI() : request.getRequestURI() + '?' + query);
            Map<String, String> headers = new LinkedHashMap<>();
            for (String name : Collections.list(request.getHeaderNames())) {
                headers.put(name, String.join(", ", Collections.list(request.getHeaders(name))));
            }
            params.put("headers", headers);
            params.put("body", request.getContentLengthLong() > 0 ? request.getInputStream().readAllBytes()
                    : new byte[0]);
            Map<Object, Object> answer = Values.asMap(php.call("http.handle", params));
            Object status = answer.get("status");
            Object body = answer.get("body");
            HttpHeaders out = new HttpHeaders();
            Object rawHeaders = answer.get("headers");
            if (rawHeaders != null) {
                for (Map.Entry<Object, Object> e : Values.asMap(rawHeaders).entrySet()) {
                    String name = Values.asString(e.getKey());
                    List<?> values = e.getValue() instanceof List<?> l ? l : List.of(e.getValue());
                    for (Object v : values) {
                        out.add(name, v instanceof byte[] b ? new String(b, StandardCharsets.ISO_8859_1)
                                : String.valueOf(v));
                    }
                }
            }
            return ResponseEntity.status(status == null ? HttpStatus.OK.value() : Values.asInt(status)).headers(out)
                    .body(body == null ? new byte[0] : Values.asBytes(body));
        }
    }
}
