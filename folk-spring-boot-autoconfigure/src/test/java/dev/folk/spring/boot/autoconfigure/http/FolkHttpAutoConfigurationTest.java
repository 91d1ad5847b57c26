package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.apache.coyote.ProtocolHandler;
import org.apache.coyote.http11.Http11NioProtocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.servlet.filter.OrderedFormContentFilter;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.tomcat.ConfigurableTomcatWebServerFactory;
import org.springframework.boot.tomcat.TomcatProtocolHandlerCustomizer;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.filter.FormContentFilter;

import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.FolkConfigurationException;
import dev.folk.spring.boot.autoconfigure.FolkConfigurationFailureAnalyzer;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.http.FallbackFilter;
import dev.folk.spring.boot.http.FolkHttpGateway;
import dev.folk.spring.boot.http.FolkHttpGatewayFilter;
import dev.folk.spring.boot.http.GatewayOptions;
import dev.folk.spring.boot.http.HttpRoute;
import dev.folk.spring.boot.http.PublicLinks;
import dev.folk.spring.boot.autoconfigure.NotStarted;

/** Conditions, binding, validation and back-off of the HTTP gateway's auto-configuration. */
@ExtendWith(OutputCaptureExtension.class)
class FolkHttpAutoConfigurationTest {

    private static final AutoConfigurations CONFIGS = AutoConfigurations.of(FolkAutoConfiguration.class,
            FolkHttpAutoConfiguration.class, FolkHttpUnavailableAutoConfiguration.class);

    /** Pools that are never started: no process is spawned. */
    private final WebApplicationContextRunner web = new WebApplicationContextRunner()
            .withConfiguration(CONFIGS)
            .withUserConfiguration(NotStarted.class)
            .withPropertyValues("folk.shutdown.signal-handler=false", "folk.args=worker.php");

    @Test
    void offUnlessAMappingIsConfigured() {
        web.run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(FolkHttpGateway.class)
                .doesNotHaveBean(FolkHttpAutoConfiguration.REGISTRATION_BEAN_NAME));
    }

    @Test
    void aMappingRegistersTheGatewayAsAnAsyncServletForThePrefixes() {
        web.withPropertyValues("folk.pools.default.size=1", "folk.pools.admin.size=1",
                "folk.http.mappings[0].path=/php/**", "folk.http.mappings[1].path=/admin/",
                "folk.http.mappings[1].pool=admin", "folk.http.mappings[1].strip-prefix=true").run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    FolkHttpGateway gateway = ctx.getBean(FolkHttpGateway.class);
                    assertThat(gateway.routes()).extracting(HttpRoute::prefix).containsExactlyInAnyOrder("/php", "/admin");
                    HttpRoute admin = gateway.routes().stream().filter(r -> r.prefix().equals("/admin")).findFirst()
                            .orElseThrow();
                    assertThat(admin.pool().name()).isEqualTo("admin");
                    assertThat(admin.stripPrefix()).isTrue();
                    ServletRegistrationBean<?> registration = ctx.getBean(
                            FolkHttpAutoConfiguration.REGISTRATION_BEAN_NAME, ServletRegistrationBean.class);
                    assertThat(registration.getUrlMappings()).containsExactlyInAnyOrder("/php/*", "/admin/*");
                    assertThat(registration.isAsyncSupported()).isTrue();
                    assertThat(registration.getServletName()).isEqualTo("folkHttpGateway");
                });
    }

    /**
     * A mapping that covers paths of Spring MVC's handlers takes their requests (the servlet
     * container routes to the gateway first): said at start-up, naming them, and not said for a
     * mapping beside them. Below Spring MVC's servlet path, its handlers' paths are that long.
     */
    @Test
    void aMappingOverSpringMvcsHandlersIsWarnedOfAtStartUp(CapturedOutput output) {
        WebApplicationContextRunner mvc = web.withConfiguration(AutoConfigurations.of(WebMvcAutoConfiguration.class))
                .withUserConfiguration(PingController.class);
        mvc.withPropertyValues("folk.http.mappings[0].path=/**").run(ctx -> assertThat(ctx).hasNotFailed());
        assertThat(output).contains("The HTTP gateway's mapping /** (every path) (pool 'default') covers 1 path(s) of"
                + " Spring MVC's handlers: GET /api/ping. The servlet container sends their requests to PHP,"
                + " so they never reach Spring MVC. Map only"); // no actuator here: its health endpoint is not named
        mvc.withPropertyValues("folk.http.mappings[0].path=/api/**", "spring.mvc.servlet.path=/spring")
                .run(ctx -> assertThat(ctx).hasNotFailed());
        mvc.withPropertyValues("folk.http.mappings[0].path=/php/**").run(ctx -> assertThat(ctx).hasNotFailed());
        assertThat(output.toString().split("covers ", -1)).as("one warning: the first context's").hasSize(2);
        mvc.withPropertyValues("folk.http.mappings[0].path=/spring/api", "spring.mvc.servlet.path=/spring")
                .run(ctx -> assertThat(ctx).hasNotFailed());
        assertThat(output).contains("mapping /spring/api/** (pool 'default') covers 1 path(s) of Spring MVC's"
                + " handlers: GET /spring/api/ping.");
        // Spring MVC's servlet inside the mapping: the container gives it the longer pattern, no handler is PHP's.
        mvc.withPropertyValues("folk.http.mappings[0].path=/spring/**", "spring.mvc.servlet.path=/spring/v1")
                .run(ctx -> assertThat(ctx).hasNotFailed());
        assertThat(output).doesNotContain("/spring/v1/api/ping");
    }

    @RestController
    static class PingController {

        @GetMapping("/api/ping")
        String ping() {
            return "pong";
        }
    }

    /** The application's stop (or a test framework's pause) reaches the gateway: it sums up its repeated warnings then. */
    @Test
    void theGatewayRunsWithTheApplicationAndStopsWithIt() {
        web.withPropertyValues("folk.http.mappings[0].path=/php").run(ctx -> {
            FolkHttpGateway gateway = ctx.getBean(FolkHttpGateway.class);
            assertThat(gateway.isRunning()).isTrue();
            ctx.stop();
            assertThat(gateway.isRunning()).isFalse();
        });
    }

    @Test
    void springMvcsFormFilterIsReplacedByOneThatLeavesTheGatewaysBodiesAloneUnlessTheApplicationHasItsOwn() {
        WebApplicationContextRunner mvc = web.withConfiguration(AutoConfigurations.of(WebMvcAutoConfiguration.class))
                .withPropertyValues("folk.http.mappings[0].path=/php");
        mvc.run(ctx -> {
            assertThat(ctx).hasNotFailed().getBeans(FormContentFilter.class).hasSize(1);
            FormContentFilter filter = ctx.getBean(FormContentFilter.class);
            assertThat(filter).isInstanceOf(FolkHttpAutoConfiguration.GatewayBodiesFormContentFilter.class);
            assertThat(((Ordered) filter).getOrder()).isEqualTo(OrderedFormContentFilter.DEFAULT_ORDER);
        });
        mvc.withBean("ownFormFilter", FormContentFilter.class, FormContentFilter::new).run(ctx ->
                assertThat(ctx.getBeansOfType(FormContentFilter.class)).containsOnlyKeys("ownFormFilter"));
        mvc.withPropertyValues("spring.mvc.formcontent.filter.enabled=false").run(ctx ->
                assertThat(ctx).doesNotHaveBean(FormContentFilter.class));
        // Without the gateway, Spring Boot's own.
        web.withConfiguration(AutoConfigurations.of(WebMvcAutoConfiguration.class)).run(ctx ->
                assertThat(ctx.getBean(FormContentFilter.class)).isInstanceOf(OrderedFormContentFilter.class));
    }

    /**
     * On Tomcat, the connector answers {@code Expect: 100-continue} only when a body is read, and the
     * gateway's valve answers it for every request whose body is not refused unread
     * (ExpectContinueTest); an application's bean of that name replaces both, and without Tomcat
     * there is none.
     */
    @Test
    @SuppressWarnings("unchecked")
    void onTomcatTheGatewayAnswersExpectContinueUnlessTheApplicationDoes() {
        WebApplicationContextRunner gateway = web.withPropertyValues("folk.http.mappings[0].path=/php");
        gateway.run(ctx -> {
            assertThat(ctx).hasNotFailed();
            TomcatServletWebServerFactory factory = new TomcatServletWebServerFactory();
            ctx.getBean(FolkHttpAutoConfiguration.EXPECT_CONTINUE_BEAN_NAME, WebServerFactoryCustomizer.class)
                    .customize(factory);
            assertThat(factory.getEngineValves()).hasExactlyElementsOfTypes(ExpectContinueValve.class);
            Http11NioProtocol protocol = new Http11NioProtocol();
            assertThat(protocol.getContinueResponseTiming()).isEqualTo("immediately"); // Tomcat's default
            factory.getProtocolHandlerCustomizers()
                    .forEach(c -> ((TomcatProtocolHandlerCustomizer<ProtocolHandler>) c).customize(protocol));
            assertThat(protocol.getContinueResponseTiming()).isEqualTo("onRead");
        });
        WebServerFactoryCustomizer<ConfigurableTomcatWebServerFactory> own = factory -> { };
        gateway.withBean(FolkHttpAutoConfiguration.EXPECT_CONTINUE_BEAN_NAME, WebServerFactoryCustomizer.class, () -> own)
                .run(ctx -> assertThat(ctx.getBean(FolkHttpAutoConfiguration.EXPECT_CONTINUE_BEAN_NAME)).isSameAs(own));
        gateway.withClassLoader(new FilteredClassLoader("org.apache.catalina")).run(ctx ->
                assertThat(ctx).hasNotFailed().doesNotHaveBean(FolkHttpAutoConfiguration.EXPECT_CONTINUE_BEAN_NAME));
    }

    /** A body limit over the memory all bodies may hold is said at start-up: bodies past that memory are 413s. */
    @Test
    void aBodyLimitOverTheMemoryForBodiesIsWarnedOf(CapturedOutput output) {
        web.withPropertyValues("folk.http.mappings[0].path=/php", "folk.http.max-body-size=1MB",
                "folk.http.body-memory=100KB").run(ctx -> assertThat(ctx).hasNotFailed());
        assertThat(output.getOut()).contains("route /php takes bodies up to 1048576 bytes (folk.http.max-body-size), more"
                + " than the 102400 bytes all bodies may hold (folk.http.body-memory");
        web.withPropertyValues("folk.http.mappings[0].path=/other", "folk.http.max-body-size=100KB",
                "folk.http.body-memory=100KB").run(ctx -> assertThat(ctx).hasNotFailed());
        assertThat(output.getOut()).doesNotContain("route /other takes bodies");
    }

    /** PHP's headers must fit in what Spring Boot gives Tomcat for a response's head; its default without a value. */
    @Test
    void theLimitForPhpsHeadersIsTomcats() {
        web.withPropertyValues("folk.http.mappings[0].path=/php").run(ctx ->
                assertThat(ctx.getBean(FolkHttpGateway.class).options().maxResponseHeaderSize()).isEqualTo(8192));
        web.withPropertyValues("folk.http.mappings[0].path=/php", "server.tomcat.max-http-response-header-size=32KB")
                .run(ctx -> assertThat(ctx.getBean(FolkHttpGateway.class).options().maxResponseHeaderSize())
                        .isEqualTo(32 * 1024));
        web.withPropertyValues("folk.http.mappings[0].path=/php", "server.tomcat.max-http-response-header-size=-1")
                .run(ctx -> assertThat(ctx.getBean(FolkHttpGateway.class).options().maxResponseHeaderSize())
                        .as("Spring Boot leaves Tomcat's default then").isEqualTo(8192));
        // Jetty's key on Jetty (Spring Boot serves with Jetty when Tomcat is absent), not Tomcat's.
        assertThat(FolkHttpAutoConfiguration.responseHeaderSizeKey(false, true))
                .isEqualTo("server.jetty.max-http-response-header-size");
        assertThat(FolkHttpAutoConfiguration.responseHeaderSizeKey(true, true))
                .isEqualTo("server.tomcat.max-http-response-header-size");
        assertThat(FolkHttpAutoConfiguration.responseHeaderSizeKey(false, false))
                .isEqualTo("server.tomcat.max-http-response-header-size");
    }

    /**
     * A body limit over what the pool's frame can carry is lowered to it, and said at start-up: such a
     * body was read whole, then answered 413 as too large for the protocol.
     */
    @Test
    void aBodyLimitOverThePoolsFrameIsLoweredToItAndWarnedOf(CapturedOutput output) {
        web.withPropertyValues("folk.max-frame-length=1MB", "folk.http.mappings[0].path=/php",
                "folk.http.max-body-size=100MB").run(ctx -> assertThat(ctx.getBean(FolkHttpGateway.class).routes()
                        .get(0).maxBodySize()).isEqualTo(1024 * 1024 - FolkHttpAutoConfiguration.FRAME_HEADROOM));
        assertThat(output.getOut()).contains("route /php: folk.http.max-body-size (104857600 bytes) is more than pool"
                + " 'default' can carry in a frame", "Raise folk.pools.default.max-frame-length");
    }

    @Test
    void theBodyLimitFollowsThePoolsFrameLengthUnlessSet() {
        web.withPropertyValues("folk.max-frame-length=1MB", "folk.http.mappings[0].path=/php").run(ctx ->
                assertThat(ctx.getBean(FolkHttpGateway.class).routes().get(0).maxBodySize())
                        .isEqualTo(1024 * 1024 - FolkHttpAutoConfiguration.FRAME_HEADROOM));
        // A frame too small for the headroom: half of it, where frame minus headroom refused every body.
        web.withPropertyValues("folk.max-frame-length=64KB", "folk.http.mappings[0].path=/php").run(ctx ->
                assertThat(ctx.getBean(FolkHttpGateway.class).routes().get(0).maxBodySize()).isEqualTo(32 * 1024));
        web.withPropertyValues("folk.http.mappings[0].path=/php", "folk.http.max-body-size=2MB",
                "folk.http.retry-after=1500ms", "folk.http.body-timeout=5s").run(ctx -> {
                    FolkHttpGateway gateway = ctx.getBean(FolkHttpGateway.class);
                    assertThat(gateway.routes().get(0).maxBodySize()).isEqualTo(2 * 1024 * 1024);
                    assertThat(gateway.options().retryAfter()).isEqualTo(Duration.ofMillis(1500));
                    assertThat(gateway.options().bodyTimeout()).isEqualTo(Duration.ofSeconds(5));
                });
    }

    @Test
    void phpIsToldTheServerSoftwareFolkUnlessSet() {
        web.withPropertyValues("folk.http.mappings[0].path=/php").run(ctx ->
                assertThat(ctx.getBean(FolkHttpGateway.class).options().serverSoftware()).isEqualTo("Folk"));
        web.withPropertyValues("folk.http.mappings[0].path=/php", "folk.http.server-software=nginx").run(ctx ->
                assertThat(ctx.getBean(FolkHttpGateway.class).options().serverSoftware()).isEqualTo("nginx"));
    }

    @Test
    void anUnknownPoolOrAPathThatIsNoPrefixOrNoneFailsStartupNamingTheKey() {
        web.withPropertyValues("folk.http.mappings[0].path=/php/**", "folk.http.mappings[0].pool=nope",
                "folk.http.mappings[1].path=/a/*/b", "folk.http.mappings[2].pool=default").run(ctx -> {
                    assertThat(ctx).hasFailed();
                    assertThat(ctx.getStartupFailure()).rootCause().isInstanceOf(FolkConfigurationException.class);
                    FolkConfigurationException e = (FolkConfigurationException) org.springframework.core
                            .NestedExceptionUtils.getRootCause(ctx.getStartupFailure());
                    assertThat(e.violations()).extracting(FolkConfigurationException.Violation::key)
                            .containsExactly("folk.http.mappings[0].pool", "folk.http.mappings[1].path",
                                    "folk.http.mappings[2].path");
                    assertThat(e.getMessage()).contains("no pool of that name").contains("no other wildcard")
                            .contains("missing: every mapping needs a path");
                    assertThat(new FolkConfigurationFailureAnalyzer(null).analyze(ctx.getStartupFailure()).getDescription())
                            .contains("Property: folk.http.mappings[2].path\n    Value:    (not set)\n");
                    assertThat(e.violations().get(0).action()).contains("[default]");
                });
    }

    /**
     * A fallback mapping is no servlet pattern of the gateway's (its requests reach Spring MVC's
     * servlet): a filter for its prefix serves it, for requests and asynchronous dispatches, after
     * every other filter or at {@code folk.http.filter-order}. Without one, that filter is not made.
     */
    @Test
    void aFallbackMappingIsServedByAFilterNotByTheGatewaysServlet() {
        WebApplicationContextRunner mvc = web.withConfiguration(AutoConfigurations.of(WebMvcAutoConfiguration.class));
        mvc.withPropertyValues("folk.http.mappings[0].path=/**", "folk.http.mappings[0].fallback=true").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBean(FolkHttpAutoConfiguration.REGISTRATION_BEAN_NAME, ServletRegistrationBean.class)
                    .isEnabled()).as("no servlet pattern: the servlet would be given every path").isFalse();
            FilterRegistrationBean<?> fallback = ctx.getBean(FolkHttpAutoConfiguration.FALLBACK_FILTER_BEAN_NAME,
                    FilterRegistrationBean.class);
            assertThat(fallback.isEnabled()).isTrue();
            assertThat(fallback.getFilter()).isInstanceOf(FallbackFilter.class);
            assertThat(fallback.getUrlPatterns()).containsExactly("/*");
            assertThat(fallback.getOrder()).isEqualTo(Ordered.LOWEST_PRECEDENCE);
            assertThat(fallback.isAsyncSupported()).isTrue();
        });
        mvc.withPropertyValues("folk.http.mappings[0].path=/legacy", "folk.http.mappings[0].fallback=true",
                "folk.http.mappings[1].path=/php", "folk.http.filter-order=-2147483648").run(ctx -> {
                    assertThat(ctx.getBean(FolkHttpAutoConfiguration.REGISTRATION_BEAN_NAME, ServletRegistrationBean.class)
                            .getUrlMappings()).containsExactly("/php/*");
                    FilterRegistrationBean<?> fallback = ctx.getBean(FolkHttpAutoConfiguration.FALLBACK_FILTER_BEAN_NAME,
                            FilterRegistrationBean.class);
                    assertThat(fallback.getUrlPatterns()).containsExactly("/legacy/*");
                    assertThat(fallback.getOrder()).isEqualTo(Integer.MIN_VALUE);
                    assertThat(ctx.getBean(FolkHttpAutoConfiguration.FILTER_BEAN_NAME, FilterRegistrationBean.class)
                            .getUrlPatterns()).containsExactly("/php/*");
                });
        mvc.withPropertyValues("folk.http.mappings[0].path=/php").run(ctx -> assertThat(ctx).as("no registration,"
                + " which Spring Boot would log as 'not registered (disabled)' at every start")
                .doesNotHaveBean(FolkHttpAutoConfiguration.FALLBACK_FILTER_BEAN_NAME));
    }

    /** Start-up says what goes to PHP, and how, in one line. */
    @Test
    void startupLogsTheMappings(CapturedOutput output) {
        web.withConfiguration(AutoConfigurations.of(WebMvcAutoConfiguration.class)).withPropertyValues(
                "folk.http.mappings[0].path=/php", "folk.http.mappings[1].path=/**", "folk.http.mappings[1].fallback=true",
                "folk.http.mappings[2].path=/shop/", "folk.http.mappings[2].strip-prefix=true",
                "folk.http.filter-order=0").run(ctx -> assertThat(ctx).hasNotFailed());
        assertThat(output).contains("HTTP gateway: /php/** -> pool 'default'; /** -> pool 'default' (fallback: after"
                + " Spring MVC's handlers); /shop/** -> pool 'default' (prefix stripped); served from a filter of order 0");
    }

    /**
     * A mapping on the very path of Spring MVC's servlet (spring.mvc.servlet.path) fails start-up:
     * the container gives that pattern's requests to Spring MVC, and PHP would get none, while the
     * start-up warning said Spring MVC's handlers there were PHP's.
     */
    @Test
    void aMappingOnSpringMvcsServletPathFailsStartup() {
        WebApplicationContextRunner mvc = web.withConfiguration(AutoConfigurations.of(WebMvcAutoConfiguration.class));
        for (String servletPath : new String[] {"/api", "/api/"}) {
            mvc.withPropertyValues("folk.http.mappings[0].path=/api/**", "spring.mvc.servlet.path=" + servletPath)
                    .run(ctx -> {
                        assertThat(ctx).hasFailed();
                        FolkConfigurationException e = (FolkConfigurationException) org.springframework.core
                                .NestedExceptionUtils.getRootCause(ctx.getStartupFailure());
                        assertThat(e.violations()).extracting(FolkConfigurationException.Violation::key)
                                .containsExactly("folk.http.mappings[0].path");
                        FolkConfigurationException.Violation v = e.violations().get(0);
                        assertThat(v.problem()).contains("the path of Spring MVC's servlet",
                                "spring.mvc.servlet.path is '" + servletPath + "'");
                        assertThat(v.action()).contains("/api/php/**");
                    });
        }
        mvc.withPropertyValues("folk.http.mappings[0].path=/api/php/**", "spring.mvc.servlet.path=/api")
                .run(ctx -> assertThat(ctx).hasNotFailed());
    }

    /** A fallback mapping without Spring MVC, or with its servlet below a path, fails start-up saying why. */
    @Test
    void aFallbackMappingWithoutSpringMvcAtTheRootFailsStartup() {
        web.withPropertyValues("folk.http.mappings[0].path=/**", "folk.http.mappings[0].fallback=true",
                "spring.mvc.servlet.path=/spring").run(ctx -> {
                    assertThat(ctx).hasFailed();
                    FolkConfigurationException e = (FolkConfigurationException) org.springframework.core
                            .NestedExceptionUtils.getRootCause(ctx.getStartupFailure());
                    assertThat(e.violations()).extracting(FolkConfigurationException.Violation::key)
                            .containsExactly("folk.http.mappings[0].fallback");
                    assertThat(e.getMessage()).contains("Spring MVC's servlet at '/'")
                            .contains("spring.mvc.servlet.path is '/spring'");
                });
        web.withClassLoader(new FilteredClassLoader("org.springframework.web.servlet"))
                .withPropertyValues("folk.http.mappings[0].path=/**", "folk.http.mappings[0].fallback=true").run(ctx -> {
                    assertThat(ctx).hasFailed();
                    FolkConfigurationException e = (FolkConfigurationException) org.springframework.core
                            .NestedExceptionUtils.getRootCause(ctx.getStartupFailure());
                    assertThat(e).hasMessageContaining("a fallback mapping needs Spring MVC");
                    assertThat(e.violations().get(0).action()).contains("spring-boot-starter-webmvc");
                });
    }

    /**
     * Settings out of range fail start-up with the mappings' problems, rather than quietly becoming
     * the defaults; every problem of a mapping is reported at once, not one per start. A body limit
     * of 0 is refused: under nginx it means no limit, here it would refuse every body.
     */
    @Test
    void gatewaySettingsOutOfRangeFailStartupNamingTheKey() {
        web.withPropertyValues("folk.http.mappings[0].path=/php", "folk.http.body-memory=-5MB",
                "folk.http.body-timeout=0s", "folk.http.retry-after=-1s", "folk.http.max-body-size=0",
                "folk.http.mappings[1].path=/x", "folk.http.mappings[1].pool=nope",
                "folk.http.mappings[1].public-dir=/nonexistent-public-dir", "folk.http.mappings[2].path=/php/**",
                "folk.http.mappings[2].pool=nope").run(ctx -> {
                    assertThat(ctx).hasFailed();
                    FolkConfigurationException e = (FolkConfigurationException) org.springframework.core
                            .NestedExceptionUtils.getRootCause(ctx.getStartupFailure());
                    assertThat(e.violations()).extracting(FolkConfigurationException.Violation::key)
                            .containsExactly("folk.http.body-memory", "folk.http.body-timeout", "folk.http.retry-after",
                                    "folk.http.max-body-size", "folk.http.mappings[1].pool",
                                    "folk.http.mappings[1].public-dir", "folk.http.mappings[2].path",
                                    "folk.http.mappings[2].pool");
                    assertThat(e.getMessage()).contains("must be positive").contains("must not be negative")
                            .contains("0 would answer every request with a body 413", "no such directory",
                                    "another mapping has the same prefix");
                    assertThat(e.violations()).extracting(FolkConfigurationException.Violation::value).as("as written")
                            .startsWith("-5MB", "0s", "-1s", "0");
                });
        web.withPropertyValues("folk.http.mappings[0].path=/php", "folk.http.max-body-size=-1").run(ctx ->
                assertThat(ctx.getStartupFailure()).rootCause().hasMessageContaining("folk.http.max-body-size=-1")
                        .hasMessageContaining("must not be negative"));
        web.withPropertyValues("folk.http.mappings[0].path=/php", "folk.http.retry-after=0s").run(ctx ->
                assertThat(ctx.getBean(FolkHttpGateway.class).options().retryAfter()).isZero());
    }

    @Test
    void aPublicDirThatIsNoDirectoryFailsStartupNamingTheKey(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("file.txt"), "x");
        web.withPropertyValues("folk.http.mappings[0].path=/a", "folk.http.mappings[0].public-dir=" + dir.resolve("none"),
                "folk.http.mappings[1].path=/b", "folk.http.mappings[1].public-dir=" + file,
                "folk.http.mappings[2].path=/c", "folk.http.mappings[2].public-dir=" + dir).run(ctx -> {
                    assertThat(ctx).hasFailed();
                    FolkConfigurationException e = (FolkConfigurationException) org.springframework.core
                            .NestedExceptionUtils.getRootCause(ctx.getStartupFailure());
                    assertThat(e.violations()).extracting(FolkConfigurationException.Violation::key)
                            .containsExactly("folk.http.mappings[0].public-dir", "folk.http.mappings[1].public-dir");
                    assertThat(e.getMessage()).contains("no such directory").contains("not a directory");
                    assertThat(e.violations().get(0).action()).contains("public directory");
                });
        web.withPropertyValues("folk.http.mappings[0].path=/c", "folk.http.mappings[0].public-dir=" + dir)
                .run(ctx -> assertThat(ctx.getBean(FolkHttpGateway.class).routes().get(0).publicDir())
                        .isEqualTo(dir.toAbsolutePath().normalize())); // as configured: a release link is followed per request
    }

    @Test
    void publicDirLinksAreFollowedUnlessKeptInside(@TempDir Path dir, CapturedOutput output) {
        web.withPropertyValues("folk.http.mappings[0].path=/a", "folk.http.mappings[0].public-dir=" + dir,
                "folk.http.mappings[1].path=/b", "folk.http.mappings[1].public-dir=" + dir,
                "folk.http.mappings[1].public-dir-links=inside").run(ctx -> {
                    assertThat(ctx.getBean(FolkHttpGateway.class).routes()).extracting(HttpRoute::publicLinks)
                            .containsExactly(PublicLinks.FOLLOW, PublicLinks.INSIDE);
                    assertThat(output).contains("/b/** -> pool 'default' (files of " + dir.toAbsolutePath().normalize()
                            + ", no links out of it)");
                });
        web.withPropertyValues("folk.http.mappings[0].path=/a", "folk.http.mappings[0].public-dir=" + dir,
                "folk.http.mappings[0].public-dir-links=outside").run(ctx -> assertThat(ctx).hasFailed());
    }

    @Test
    void notInANonWebApplicationNorWithoutTheServletApi(CapturedOutput output) {
        String warning = "folk.http.mappings is set (/php, ...), but the HTTP gateway only runs in a servlet web application";
        new ApplicationContextRunner().withConfiguration(CONFIGS).withUserConfiguration(NotStarted.class)
                .withPropertyValues("folk.shutdown.signal-handler=false", "folk.args=worker.php",
                        "folk.http.mappings[0].path=/php")
                .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(FolkHttpGateway.class));
        assertThat(output).as("said, not left to a 404").contains(warning);
        int said = output.getOut().split(java.util.regex.Pattern.quote(warning), -1).length;
        new ReactiveWebApplicationContextRunner().withConfiguration(CONFIGS).withUserConfiguration(NotStarted.class)
                .withPropertyValues("folk.shutdown.signal-handler=false", "folk.args=worker.php",
                        "folk.http.mappings[0].path=/php")
                .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(FolkHttpGateway.class));
        web.withPropertyValues("folk.http.mappings[0].path=/php").run(ctx -> assertThat(ctx).hasBean(
                FolkHttpAutoConfiguration.REGISTRATION_BEAN_NAME));
        assertThat(output.getOut().split(java.util.regex.Pattern.quote(warning), -1).length)
                .as("once more, for the reactive application only").isEqualTo(said + 1);
        web.withClassLoader(new FilteredClassLoader(jakarta.servlet.Servlet.class))
                .withPropertyValues("folk.http.mappings[0].path=/php")
                .run(ctx -> assertThat(ctx).doesNotHaveBean(FolkHttpGateway.class));
    }

    @Test
    void theApplicationsOwnGatewayAndRegistrationWin() {
        web.withPropertyValues("folk.http.mappings[0].path=/php").withUserConfiguration(OwnGateway.class)
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    assertThat(ctx.getBean(FolkHttpGateway.class).routes()).extracting(HttpRoute::prefix)
                            .containsExactly("/mine");
                    assertThat(ctx.getBean(FolkHttpAutoConfiguration.REGISTRATION_BEAN_NAME,
                            ServletRegistrationBean.class).getUrlMappings()).containsExactly("/mine/*");
                });
        web.withPropertyValues("folk.http.mappings[0].path=/php").withUserConfiguration(OwnRegistration.class)
                .run(ctx -> assertThat(ctx.getBean(FolkHttpAutoConfiguration.REGISTRATION_BEAN_NAME,
                        ServletRegistrationBean.class).getUrlMappings()).containsExactly("/custom/*"));
    }

    @Test
    void withAFilterOrderTheGatewayIsAlsoAnAsyncFilterOfThatOrderForItsPaths() {
        web.withPropertyValues("folk.http.mappings[0].path=/php").run(ctx -> assertThat(ctx).hasNotFailed()
                .doesNotHaveBean(FolkHttpAutoConfiguration.FILTER_BEAN_NAME));
        web.withPropertyValues("folk.http.mappings[0].path=/php", "folk.http.filter-order=-2147483648").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            FilterRegistrationBean<?> filter = ctx.getBean(FolkHttpAutoConfiguration.FILTER_BEAN_NAME,
                    FilterRegistrationBean.class);
            assertThat(filter.getFilter()).isInstanceOf(FolkHttpGatewayFilter.class);
            assertThat(filter.getOrder()).isEqualTo(Integer.MIN_VALUE);
            assertThat(filter.getUrlPatterns()).containsExactly("/php/*");
            assertThat(filter.isAsyncSupported()).isTrue();
        });
    }

    @Test
    void aFilterOrderAheadOfSpringSecurityFailsStartupAndOneAfterItIsAccepted() {
        web.withPropertyValues("folk.http.mappings[0].path=/php", "folk.http.filter-order=-2147483648")
                .withUserConfiguration(SecurityChain.class).run(ctx -> {
                    assertThat(ctx).hasFailed();
                    FolkConfigurationException e = (FolkConfigurationException) org.springframework.core
                            .NestedExceptionUtils.getRootCause(ctx.getStartupFailure());
                    assertThat(e.violations()).extracting(FolkConfigurationException.Violation::key)
                            .containsExactly("folk.http.filter-order");
                    assertThat(e.getMessage()).contains("Spring Security").contains("-100");
                });
        web.withPropertyValues("folk.http.mappings[0].path=/php", "folk.http.filter-order=-99")
                .withUserConfiguration(SecurityChain.class)
                .run(ctx -> assertThat(ctx).hasNotFailed().hasBean(FolkHttpAutoConfiguration.FILTER_BEAN_NAME));
        web.withPropertyValues("folk.http.mappings[0].path=/php", "folk.http.filter-order=-99",
                "spring.security.filter.order=0").withUserConfiguration(SecurityChain.class)
                .run(ctx -> assertThat(ctx).hasFailed());
    }

    @Test
    void aFilterOrderAheadOfAForwardedHeaderFilterIsPlacedRightAfterIt() {
        web.withPropertyValues("folk.http.mappings[0].path=/php", "folk.http.filter-order=-2147483648")
                .withUserConfiguration(ForwardedHeaders.class).run(ctx -> assertThat(ctx.getBean(
                        FolkHttpAutoConfiguration.FILTER_BEAN_NAME, FilterRegistrationBean.class).getOrder())
                        .isEqualTo(Integer.MIN_VALUE + 1));
        web.withPropertyValues("folk.http.mappings[0].path=/php", "folk.http.filter-order=-50")
                .withUserConfiguration(ForwardedHeaders.class).run(ctx -> assertThat(ctx.getBean(
                        FolkHttpAutoConfiguration.FILTER_BEAN_NAME, FilterRegistrationBean.class).getOrder())
                        .isEqualTo(-50));
    }

    /** Spring Boot's registration with server.forward-headers-strategy=framework. */
    @Configuration(proxyBeanMethods = false)
    static class ForwardedHeaders {
        @Bean
        FilterRegistrationBean<org.springframework.web.filter.ForwardedHeaderFilter> forwardedHeaderFilter() {
            FilterRegistrationBean<org.springframework.web.filter.ForwardedHeaderFilter> registration =
                    new FilterRegistrationBean<>(new org.springframework.web.filter.ForwardedHeaderFilter());
            registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
            return registration;
        }
    }

    /** Stands for Spring Security's filter chain: what the auto-configuration looks for is its bean name. */
    @Configuration(proxyBeanMethods = false)
    static class SecurityChain {
        @Bean(FolkHttpAutoConfiguration.SECURITY_FILTER)
        jakarta.servlet.Filter springSecurityFilterChain() {
            return (request, response, chain) -> chain.doFilter(request, response);
        }
    }


    @Configuration(proxyBeanMethods = false)
    static class OwnGateway {
        @Bean
        FolkHttpGateway myGateway(FolkPools pools) {
            return new FolkHttpGateway(List.of(new HttpRoute("/mine", pools.get("default"), false, 10)),
                    GatewayOptions.defaults());
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnRegistration {
        @Bean(FolkHttpAutoConfiguration.REGISTRATION_BEAN_NAME)
        ServletRegistrationBean<FolkHttpGateway> registration(FolkHttpGateway gateway) {
            return new ServletRegistrationBean<>(gateway, "/custom/*");
        }
    }
}
