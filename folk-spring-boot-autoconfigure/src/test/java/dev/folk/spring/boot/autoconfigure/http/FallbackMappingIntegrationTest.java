package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import com.jayway.jsonpath.JsonPath;

import io.micrometer.core.instrument.MeterRegistry;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;

/**
 * A fallback mapping of every path, as a team puts a whole PHP application behind its Spring
 * application: Spring MVC's controllers, the actuator, Spring Boot's static files and the
 * application's own servlets answer first, and PHP answers the rest, bodies and uploads untouched by Spring's filters and multipart
 * parsing, including requests that wait for a worker. A plain mapping beside it stays PHP's.
 */
@SpringBootTest(classes = {WebTestApplication.class, FallbackMappingIntegrationTest.SpringSide.class},
        webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.pools.main.size=1",
    "folk.pools.main.acquire-timeout=10s",
    "folk.shutdown.signal-handler=false",
    "folk.http.mappings[0].path=/**",
    "folk.http.mappings[0].pool=main",
    "folk.http.mappings[0].fallback=true",
    "folk.http.mappings[1].path=/php",
    "folk.http.mappings[1].pool=main",
    "management.endpoints.web.exposure.include=health"
})
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FallbackMappingIntegrationTest {

    private static final String TAG = Workers.newTag();

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        TestWorkers.use(registry, TestWorkers.HTTP, TAG);
    }

    @LocalServerPort
    int port;

    @Autowired
    MeterRegistry registry;

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Configuration(proxyBeanMethods = false)
    static class SpringSide {

        @Bean
        Controllers controllers() {
            return new Controllers();
        }

        /** A servlet of the application's own, which the servlet container maps itself. */
        @Bean
        ServletRegistrationBean<HttpServlet> ownServlet() {
            return new ServletRegistrationBean<>(new HttpServlet() {
                @Override
                protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                    response.getWriter().write("own servlet");
                }
            }, "/own/*");
        }
    }

    @RestController
    static class Controllers {

        @GetMapping("/api/ping")
        String ping() {
            return "pong";
        }

        @PutMapping("/api/form")
        String form(@RequestParam String name) {
            return "form " + name;
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return client.send(request.timeout(Duration.ofSeconds(20)).build(), BodyHandlers.ofString());
    }

    private HttpRequest.Builder to(String target) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + target));
    }

    @Test
    void springAnswersWhatItServesAndPhpTheRest() throws Exception {
        HttpResponse<String> spring = send(to("/api/ping"));
        assertThat(spring.statusCode()).isEqualTo(200);
        assertThat(spring.body()).isEqualTo("pong");

        // Spring Boot's static resources are at /**: its files are Spring's, every other path PHP's.
        HttpResponse<String> file = send(to("/spring-style.css"));
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.body()).startsWith("/* served by Spring");
        assertThat(send(to("/assets/app%20one.js")).body()).startsWith("// served by Spring");
        assertThat((String) JsonPath.read(send(to("/assets/../spring-style.css")).body(), "$.uri"))
                .as("a path Spring MVC's resources would refuse").isEqualTo("/assets/../spring-style.css");
        HttpResponse<String> php = send(to("/legacy/page.html?x=1"));
        assertThat(php.statusCode()).isEqualTo(200);
        assertThat((String) JsonPath.read(php.body(), "$.uri")).isEqualTo("/legacy/page.html?x=1");
        assertThat((String) JsonPath.read(php.body(), "$.server.SCRIPT_NAME")).isEmpty();
        assertThat((String) JsonPath.read(php.body(), "$.server.PATH_INFO")).isEqualTo("/legacy/page.html");

        HttpResponse<String> root = send(to("/"));
        assertThat((String) JsonPath.read(root.body(), "$.uri")).isEqualTo("/");

        HttpResponse<String> health = send(to("/actuator/health"));
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\":\"UP\"");

        HttpResponse<String> own = send(to("/own/thing"));
        assertThat(own.body()).isEqualTo("own servlet");

        // A plain mapping inside the fallback's path stays PHP's, served by the gateway's servlet.
        HttpResponse<String> plain = send(to("/php/status?code=418"));
        assertThat(plain.statusCode()).isEqualTo(418);
    }

    /** A path Spring MVC maps for another method is Spring's: it answers 405, as it would without PHP. */
    @Test
    void aSpringPathAskedWithAnotherMethodIsAnsweredBySpring() throws Exception {
        HttpResponse<String> r = send(to("/api/ping").POST(BodyPublishers.ofString("x")));
        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.headers().allValues("Allow")).anySatisfy(allow -> assertThat(allow).contains("GET"));
    }

    /** Spring's form filter reads the PUT forms of Spring's handlers, and leaves PHP's bodies for PHP. */
    @Test
    void formBodiesGoToWhoeverServesThePath() throws Exception {
        HttpResponse<String> spring = send(to("/api/form").header("Content-Type", "application/x-www-form-urlencoded")
                .PUT(BodyPublishers.ofString("name=ada")));
        assertThat(spring.body()).isEqualTo("form ada");

        HttpResponse<String> php = send(to("/legacy/form").header("Content-Type", "application/x-www-form-urlencoded")
                .PUT(BodyPublishers.ofString("name=ada&x=%41")));
        assertThat(php.statusCode()).isEqualTo(200);
        assertThat((String) JsonPath.read(php.body(), "$.body")).isEqualTo("name=ada&x=%41");
        assertThat((String) JsonPath.read(php.body(), "$.server.CONTENT_LENGTH")).isEqualTo("14");
    }

    /** An upload reaches PHP as the client sent it: Spring MVC's multipart parsing never sees it. */
    @Test
    void anUploadReachesPhpWhole() throws Exception {
        String boundary = "b0undary";
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\nfile-content-123\r\n--" + boundary + "--\r\n";
        HttpResponse<String> php = send(to("/legacy/upload")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(BodyPublishers.ofString(body)));
        assertThat(php.statusCode()).isEqualTo(200);
        assertThat((String) JsonPath.read(php.body(), "$.body")).isEqualTo(body);
    }

    /** With the one worker busy, a fallback request waits for it without a container thread, and is answered. */
    @Test
    void aRequestThatWaitsForAWorkerIsAnswered() throws Exception {
        CompletableFuture<HttpResponse<String>> busy = client.sendAsync(to("/legacy/sleep?ms=700")
                .timeout(Duration.ofSeconds(20)).build(), BodyHandlers.ofString());
        CompletableFuture<HttpResponse<String>> waiting = client.sendAsync(to("/legacy/after?y=2")
                .timeout(Duration.ofSeconds(20)).build(), BodyHandlers.ofString());
        assertThat(busy.get().body()).isEqualTo("slept");
        assertThat((String) JsonPath.read(waiting.get().body(), "$.uri")).isEqualTo("/legacy/after?y=2");
        assertThat(send(to("/api/ping")).body()).isEqualTo("pong");
    }

    private double responses(String mapping, String status) {
        return registry.get("folk.http.responses").tag("mapping", mapping).tag("status", status).functionCounter().count();
    }

    /**
     * folk.http.responses counts what the gateway answered, by mapping and status class: on the
     * container thread or after the request went asynchronous (a body read first); Spring's requests
     * under the fallback are not the gateway's. First of the class: an asynchronous request of an
     * earlier test is counted just after its client has the answer, which could be after the counts
     * below are read (on a loaded machine, it was).
     */
    @Test
    @Order(1)
    void theGatewaysAnswersAreCountedByMappingAndStatusClass() throws Exception {
        double fallback2xx = responses("/**", "2xx");
        double plain2xx = responses("/php/**", "2xx");
        double plain4xx = responses("/php/**", "4xx");
        double plain5xx = responses("/php/**", "5xx");
        assertThat(send(to("/legacy/counted")).statusCode()).isEqualTo(200);
        assertThat(send(to("/legacy/counted").POST(BodyPublishers.ofString("a=b"))).statusCode()).isEqualTo(200);
        assertThat(send(to("/php/status?code=404")).statusCode()).isEqualTo(404);
        // Counted with its final status, not the 200 a response has before PHP's answer.
        assertThat(send(to("/php/status?code=404").POST(BodyPublishers.ofString("a=b"))).statusCode()).isEqualTo(404);
        assertThat(send(to("/php/status?code=503")).statusCode()).isEqualTo(503);
        assertThat(send(to("/api/ping")).statusCode()).isEqualTo(200);
        // An asynchronous request is counted when it completes, which may be just after its client has the answer.
        Procs.await(Duration.ofSeconds(10), "the two fallback answers counted",
                () -> responses("/**", "2xx") == fallback2xx + 2);
        Procs.await(Duration.ofSeconds(10), "the two 404s counted", () -> responses("/php/**", "4xx") == plain4xx + 2);
        assertThat(responses("/php/**", "2xx")).isEqualTo(plain2xx);
        assertThat(responses("/php/**", "5xx")).isEqualTo(plain5xx + 1);
        assertThat(send(to("/api/ping")).body()).isEqualTo("pong");
        assertThat(responses("/**", "2xx")).as("Spring's answers are not the gateway's").isEqualTo(fallback2xx + 2);
    }

    @Test
    void aFallbackMappingIsNoShadowOfSpringMvc(CapturedOutput output) {
        assertThat(output).doesNotContain("covers").doesNotContain(" ERROR ");
    }
}
