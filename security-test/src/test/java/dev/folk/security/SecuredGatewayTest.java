package dev.folk.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.folk.core.testing.Workers;

/**
 * A Spring application that puts every path behind PHP (a mapping of {@code /**}) and protects
 * them with Spring Security: HTTP Basic, {@code /public/**} open, {@code /admin/**} for admins.
 * Security answers for PHP where it refuses (401 with its challenge, 403), PHP answers the rest
 * and is told who signed in ({@code REMOTE_USER}, as nginx's {@code $remote_user}), on the direct
 * path and on the one that reads a body first.
 */
@SpringBootTest(classes = SecuredGatewayTest.App.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.size=1",
    "folk.shutdown.signal-handler=false",
    "folk.http.mappings[0].path=/**",
})
@DirtiesContext
class SecuredGatewayTest {

    private static final String TAG = Workers.newTag();

    /** The autoconfigure module's HTTP worker: its default answer is what PHP was given, as JSON. */
    private static final Path WORKER = Path.of("../folk-spring-boot-autoconfigure/src/test/php/http-worker.php")
            .toAbsolutePath().normalize();

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {

        @Bean
        SecurityFilterChain security(HttpSecurity http) throws Exception {
            http.authorizeHttpRequests(requests -> requests
                            .requestMatchers("/public/**").permitAll()
                            .requestMatchers("/admin/**").hasRole("ADMIN")
                            .anyRequest().authenticated())
                    .httpBasic(Customizer.withDefaults())
                    .csrf(csrf -> csrf.disable()); // the PHP application's forms carry its own tokens
            return http.build();
        }

        @Bean
        UserDetailsService users() {
            return new InMemoryUserDetailsManager(User.withUsername("ada").password("{noop}secret").roles("USER").build());
        }
    }

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        assertThat(Files.isRegularFile(WORKER)).as("%s (run the tests from the module directory)", WORKER).isTrue();
        registry.add("folk.args", WORKER::toString);
        registry.add("folk.env.FOLK_TEST_RUN", () -> TAG);
    }

    @LocalServerPort
    int port;

    @Test
    void anOpenPathIsPhpsWithoutAUser() throws IOException {
        String answer = exchange("GET /public/page HTTP/1.1\r\nHost: h\r\n", "");
        assertThat(answer).startsWith("HTTP/1.1 200").contains("\"uri\":\"\\/public\\/page\"")
                .doesNotContain("REMOTE_USER");
    }

    @Test
    void withoutCredentialsSecurityAnswersWithItsChallengeNotPhp() throws IOException {
        for (String head : new String[] {"GET /page HTTP/1.1\r\nHost: h\r\n",
            "GET /page HTTP/1.1\r\nHost: h\r\nAuthorization: " + basic("ada", "wrong") + "\r\n"}) {
            String answer = exchange(head, "");
            assertThat(answer).startsWith("HTTP/1.1 401").contains("WWW-Authenticate: Basic realm=\"Realm\"")
                    .doesNotContain("\"uri\"");
        }
    }

    @Test
    void aSignedInUserReachesPhpAsRemoteUserWithAndWithoutABody() throws IOException {
        String get = exchange("GET /page?x=1 HTTP/1.1\r\nHost: h\r\nAuthorization: " + basic("ada", "secret") + "\r\n", "");
        assertThat(get).startsWith("HTTP/1.1 200").contains("\"uri\":\"\\/page?x=1\"").contains("\"REMOTE_USER\":\"ada\"");
        String post = exchange("POST /form HTTP/1.1\r\nHost: h\r\nAuthorization: " + basic("ada", "secret")
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n", "a=1&b=2");
        assertThat(post).startsWith("HTTP/1.1 200").contains("\"REMOTE_USER\":\"ada\"").contains("\"body\":\"a=1&b=2\"");
    }

    @Test
    void aUserWithoutTheRoleIsForbiddenBySecurityNotPhp() throws IOException {
        String answer = exchange("GET /admin/users HTTP/1.1\r\nHost: h\r\nAuthorization: " + basic("ada", "secret") + "\r\n", "");
        assertThat(answer).startsWith("HTTP/1.1 403").doesNotContain("\"uri\"");
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ':' + password).getBytes(StandardCharsets.UTF_8));
    }

    private String exchange(String head, String body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write((head + "Connection: close\r\n\r\n" + body).getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
