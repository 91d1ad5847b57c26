package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.jayway.jsonpath.JsonPath;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.ApplicationContext;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;

/**
 * Behind a proxy, with Spring Boot's ForwardedHeaderFilter ({@code server.forward-headers-strategy=framework},
 * a filter of order -2147483648) and the gateway as a filter ahead of every other
 * ({@code folk.http.filter-order=-2147483648}, as the sample app sets it): PHP is given the client's
 * address, scheme, host and port from the X-Forwarded-* headers, not the proxy's.
 */
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.pools.main.size=1",
    "folk.shutdown.signal-handler=false",
    "folk.http.mappings[0].path=/php/**",
    "folk.http.mappings[0].pool=main",
    "folk.http.filter-order=-2147483648",
    "server.forward-headers-strategy=framework"
})
@DirtiesContext
class ForwardedHeadersGatewayTest {

    private static final String TAG = Workers.newTag();

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        TestWorkers.use(registry, TestWorkers.HTTP, TAG);
    }

    @LocalServerPort
    int port;

    @Autowired
    ApplicationContext context;

    @Test
    void phpSeesTheClientTheProxyForwardsNotTheProxy() throws IOException {
        assertThat(context.getBean(FolkHttpAutoConfiguration.FILTER_BEAN_NAME, FilterRegistrationBean.class).getOrder())
                .as("the gateway's filter, right after the ForwardedHeaderFilter").isEqualTo(Integer.MIN_VALUE + 1);
        String json = get("GET /php/x HTTP/1.1\r\nHost: proxy.internal\r\nX-Forwarded-For: 203.0.113.7, 10.0.0.2\r\n"
                + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\nX-Forwarded-Port: 443\r\n");
        Map<String, String> server = JsonPath.read(json, "$.server");
        assertThat(server).containsEntry("REMOTE_ADDR", "203.0.113.7").containsEntry("HTTPS", "on")
                .containsEntry("REQUEST_SCHEME", "https").containsEntry("SERVER_NAME", "shop.example")
                .containsEntry("SERVER_PORT", "443");
        Map<String, String> direct = JsonPath.read(get("GET /php/x HTTP/1.1\r\nHost: h.example:8080\r\n"), "$.server");
        assertThat(direct).containsEntry("REMOTE_ADDR", "127.0.0.1").containsEntry("REQUEST_SCHEME", "http")
                .containsEntry("SERVER_PORT", "8080").doesNotContainKey("HTTPS");
    }

    /**
     * Spring's ForwardedHeaderFilter gives a forwarded IPv6 client in brackets ({@code [::1]}), which
     * PHP's filter_var(FILTER_VALIDATE_IP) refuses: nginx's realip gives PHP-FPM the address alone.
     */
    @Test
    void aForwardedIpv6ClientReachesPhpAsAnAddress() throws IOException {
        for (String[] c : new String[][] {{"::1", "::1"}, {"2001:db8::1", "2001:db8::1"},
                {"[2001:db8::7]", "2001:db8::7"}}) {
            Map<String, String> server = JsonPath.read(get("GET /php/x HTTP/1.1\r\nHost: proxy.internal\r\n"
                    + "X-Forwarded-For: " + c[0] + "\r\n"), "$.server");
            assertThat(server).as("X-Forwarded-For: %s", c[0]).containsEntry("REMOTE_ADDR", c[1]);
        }
    }

    private String get(String head) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write((head + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(response).startsWith("HTTP/1.1 200");
            return response.substring(response.indexOf("\r\n\r\n") + 4);
        }
    }
}
