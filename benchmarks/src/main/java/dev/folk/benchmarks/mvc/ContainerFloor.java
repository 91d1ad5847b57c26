package dev.folk.benchmarks.mvc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The HTTP comparison's floor: {@code /floor/hello} answered by a filter ahead of all others with
 * the bytes PHP's hello answers ("Hello from PHP\n", text/html), without PHP or the pool. What the
 * JVM spends on it is the container's own cost of a keep-alive request (Tomcat's parsing, its
 * poller and executor, the socket reads and writes), which no gateway inside that container can go
 * below.
 */
final class ContainerFloor implements Filter {

    static final String PATH = "/floor/hello";
    private static final byte[] BODY = "Hello from PHP\n".getBytes(StandardCharsets.US_ASCII);

    /** Registered for {@link #PATH} only: every request it sees is answered here. */
    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException {
        HttpServletResponse response = (HttpServletResponse) res;
        response.setStatus(200);
        response.setContentType("text/html; charset=UTF-8");
        response.setContentLength(BODY.length);
        response.getOutputStream().write(BODY);
    }
}
