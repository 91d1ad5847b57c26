package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;

/**
 * A mapping of every path also covers the servlet container's error page ({@code /error}), where
 * the container sends a request it refused itself and one a filter ended with {@code sendError()}
 * (Spring Security's 401 and 403). Those are not requests for PHP: they keep their status and
 * headers, with a short text of the gateway's, where PHP would have answered a GET of the error
 * page with its 200.
 */
@SpringBootTest(classes = {WebTestApplication.class, ContainerErrorsIntegrationTest.Guard.class},
        webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.pools.main.size=1",
    "folk.shutdown.signal-handler=false",
    "folk.http.mappings[0].path=/**",
    "folk.http.mappings[0].pool=main"
})
@DirtiesContext
class ContainerErrorsIntegrationTest {

    private static final String TAG = Workers.newTag();

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        TestWorkers.use(registry, TestWorkers.HTTP, TAG);
    }

    /** A stand-in for an application's security: /guarded needs credentials, /forbidden is refused. */
    @Configuration(proxyBeanMethods = false)
    static class Guard {
        @Bean
        FilterRegistrationBean<Filter> guard() {
            FilterRegistrationBean<Filter> registration = new FilterRegistrationBean<>((request, response, chain) -> {
                String path = ((HttpServletRequest) request).getRequestURI();
                HttpServletResponse http = (HttpServletResponse) response;
                if (path.equals("/guarded")) {
                    http.setHeader("WWW-Authenticate", "Basic realm=\"folk\"");
                    http.sendError(401);
                } else if (path.equals("/forbidden")) {
                    http.sendError(403, "not for you");
                } else {
                    chain.doFilter(request, response);
                }
            });
            registration.setOrder(-100); // where Spring Security's chain runs
            return registration;
        }
    }

    @LocalServerPort
    int port;

    @Test
    void aRequestTheApplicationRefusedKeepsItsStatusAndIsNotPassedToPhp() throws IOException {
        // The control: any other path is PHP's (the test worker echoes what it was given, as JSON).
        String php = exchange("GET /page HTTP/1.1\r\nHost: h\r\n");
        assertThat(php).startsWith("HTTP/1.1 200").contains("\"uri\":\"\\/page\"");

        String unauthorized = exchange("GET /guarded HTTP/1.1\r\nHost: h\r\n");
        assertThat(unauthorized).startsWith("HTTP/1.1 401").contains("WWW-Authenticate: Basic realm=\"folk\"")
                .contains("Content-Type: text/plain").doesNotContain("\"uri\"");

        String forbidden = exchange("GET /forbidden HTTP/1.1\r\nHost: h\r\n");
        assertThat(forbidden).startsWith("HTTP/1.1 403").doesNotContain("\"uri\"").doesNotContain("not for you");
    }

    @Test
    void aRequestTheContainerRefusedKeepsItsStatusAndIsNotPassedToPhp() throws IOException {
        // Over Tomcat's maxCookieCount (200): refused with a 400 once the cookies are parsed.
        StringBuilder cookies = new StringBuilder("Cookie: c0=0");
        for (int i = 1; i < 300; i++) {
            cookies.append("; c").append(i).append('=').append(i);
        }
        String refused = exchange("GET /page HTTP/1.1\r\nHost: h\r\n" + cookies + "\r\n");
        assertThat(refused).startsWith("HTTP/1.1 400").doesNotContain("\"uri\"");
    }

    private String exchange(String head) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write((head + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
