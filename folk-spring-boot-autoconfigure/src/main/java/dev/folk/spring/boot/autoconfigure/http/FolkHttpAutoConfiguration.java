package dev.folk.spring.boot.autoconfigure.http;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

import io.micrometer.observation.ObservationRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServletMapping;
import jakarta.servlet.http.HttpServletRequest;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.apache.coyote.ContinueResponseTiming;
import org.apache.coyote.http11.AbstractHttp11Protocol;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.tomcat.ConfigurableTomcatWebServerFactory;
import org.springframework.boot.web.server.WebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ResourceLoader;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.util.ClassUtils;
import org.springframework.util.unit.DataSize;
import org.springframework.web.filter.FormContentFilter;
import org.springframework.web.filter.ForwardedHeaderFilter;

import dev.folk.core.pool.WorkerPool;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.FolkConfigurationException;
import dev.folk.spring.boot.autoconfigure.FolkConfigurationException.Violation;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.http.FallbackFilter;
import dev.folk.spring.boot.http.FallbackRouting;
import dev.folk.spring.boot.http.FolkHttpGateway;
import dev.folk.spring.boot.http.FolkHttpGatewayFilter;
import dev.folk.spring.boot.http.GatewayOptions;
import dev.folk.spring.boot.http.HttpRoute;

/**
 * The HTTP gateway: in a servlet web application with at least one {@code folk.http.mappings}
 * entry, a {@link FolkHttpGateway} servlet registered (async) for the mapped paths, beside Spring
 * MVC, and with {@code folk.http.filter-order} a filter serving them ahead of the filters ordered
 * after it. Fallback mappings are served by a filter that lets Spring MVC answer first
 * ({@link FallbackConfiguration}). Each bean backs off when the application defines its own. Spring
 * MVC's form filter is replaced by one that leaves the gateway's requests alone
 * ({@link FormContentFilterConfiguration}).
 */
@AutoConfiguration(after = FolkAutoConfiguration.class,
        beforeName = "org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration")
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass({Servlet.class, ServletRegistrationBean.class})
@ConditionalOnProperty(prefix = "folk.http", name = "mappings[0].path")
@ConditionalOnBean(FolkPools.class)
@EnableConfigurationProperties(FolkHttpProperties.class)
public final class FolkHttpAutoConfiguration {

    /** Room left in a frame for the rest of the request when the body limit is derived from it. */
    static final int FRAME_HEADROOM = 64 * 1024;

    /** Bean name of the gateway's registration. */
    public static final String REGISTRATION_BEAN_NAME = "folkHttpGatewayRegistration";

    /** Bean name of the gateway's filter registration (with folk.http.filter-order). */
    public static final String FILTER_BEAN_NAME = "folkHttpGatewayFilterRegistration";

    /** Bean name of the registration of the filter that serves the fallback mappings. */
    public static final String FALLBACK_FILTER_BEAN_NAME = "folkHttpGatewayFallbackFilterRegistration";

    /** Spring MVC's servlet, which fallback mappings need. */
    static final String DISPATCHER_SERVLET = "org.springframework.web.servlet.DispatcherServlet";

    /** Bean name of the Tomcat customizer that answers Expect: 100-continue ({@link TomcatExpectContinueConfiguration}). */
    public static final String EXPECT_CONTINUE_BEAN_NAME = "folkHttpTomcatExpectContinue";

    /** Bean name of the customizer that makes the gateway before the web server ({@link #folkHttpGatewayBeforeWebServer}). */
    public static final String EARLY_GATEWAY_BEAN_NAME = "folkHttpGatewayBeforeWebServer";

    /** The gateway's servlet name. */
    static final String SERVLET_NAME = "folkHttpGateway";

    /** Spring Security's filter chain bean, and its filter's default order (spring.security.filter.order). */
    static final String SECURITY_FILTER = "springSecurityFilterChain";
    static final int SECURITY_ORDER = -100;

    /** Spring Boot's keys for Tomcat's and Jetty's limit of a response's status line and headers. */
    static final String TOMCAT_RESPONSE_HEADER_SIZE = "server.tomcat.max-http-response-header-size";
    static final String JETTY_RESPONSE_HEADER_SIZE = "server.jetty.max-http-response-header-size";

    private static final Log logger = LogFactory.getLog(FolkHttpAutoConfiguration.class);

    @Bean
    @ConditionalOnMissingBean
    public FolkHttpGateway folkHttpGateway(FolkHttpProperties properties, FolkPools pools, Environment environment,
                                           ResourceLoader resourceLoader, ObjectProvider<ObservationRegistry> observations,
                                           ListableBeanFactory beanFactory) {
        DataSize bodyMemory = properties.getBodyMemory();
        GatewayOptions options = new GatewayOptions(properties.getServerName(), properties.getDocumentRoot(),
                properties.getScriptFilename(), properties.getRetryAfter(), properties.getBodyTimeout(),
                maxResponseHeaderSize(environment, resourceLoader.getClassLoader()),
                bodyMemory == null ? 0 : bodyMemory.toBytes(),
                Objects.requireNonNullElse(properties.getServerSoftware(), GatewayOptions.SERVER_SOFTWARE));
        List<HttpRoute> routes = routes(properties, pools, environment::getProperty,
                ClassUtils.isPresent(DISPATCHER_SERVLET, resourceLoader.getClassLoader()));
        for (HttpRoute route : routes) {
            if (route.maxBodySize() > options.bodyMemory()) {
                logger.warn("The HTTP gateway's route " + route.prefix() + " takes bodies up to " + route.maxBodySize()
                        + " bytes (folk.http.max-body-size), more than the " + options.bodyMemory() + " bytes all bodies"
                        + " may hold (folk.http.body-memory, an eighth of the heap by default): larger bodies are answered"
                        + " 413. Give the JVM more heap, or set folk.http.body-memory or a smaller max-body-size.");
            }
        }
        logger.info("HTTP gateway: " + String.join("; ", routes.stream().map(HttpRoute::describe).toList())
                + (properties.getFilterOrder() != null && beanFactory.containsBeanDefinition(FILTER_BEAN_NAME)
                        ? "; served from a filter of order " + properties.getFilterOrder() : ""));
        return new FolkHttpGateway(routes, options, observations.getIfAvailable(() -> ObservationRegistry.NOOP));
    }

    /**
     * The gateway, and with it the pools, made before the web server: a pool or a mapping that cannot
     * be made then fails the start as any other bean does, reported by the failure analyzers alone.
     * Otherwise they would be made while Tomcat starts the web application (the gateway's
     * registrations need them), and a failure there comes first as Spring Boot's ERROR "Error starting
     * Tomcat context" with the whole chain of beans in one line. Customizers run when the web server's
     * factory is made, before any server starts. With Spring Security, a {@code filter-order} ahead
     * of its filters is refused here too, before the gateway says where it serves from.
     */
    @Bean(EARLY_GATEWAY_BEAN_NAME)
    @ConditionalOnMissingBean(name = EARLY_GATEWAY_BEAN_NAME)
    static WebServerFactoryCustomizer<WebServerFactory> folkHttpGatewayBeforeWebServer(
            ObjectProvider<FolkHttpGateway> gateway, FolkHttpProperties properties, ListableBeanFactory beans,
            Environment environment) {
        return factory -> {
            if (beans.containsBean(SECURITY_FILTER)) {
                filterOrder(properties, beans, environment, false);
            }
            try {
                gateway.getIfAvailable();
            } catch (RuntimeException e) {
                throw withGatewayProblems(e, properties, environment);
            }
        };
    }

    /**
     * A failure of the pools' settings, with the gateway's own problems beside them: one start
     * reports every problem, not the gateway's only once the pools' are fixed.
     */
    static RuntimeException withGatewayProblems(RuntimeException failure, FolkHttpProperties properties,
                                                Environment environment) {
        FolkConfigurationException pools = null;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof FolkConfigurationException c) {
                pools = c;
            }
        }
        if (pools == null || pools.violations().stream().anyMatch(v -> v.key().startsWith("folk.http."))) {
            return failure; // not the pools' settings, or the gateway's problems are in it already
        }
        try {
            routes(properties, null, environment::getProperty,
                    ClassUtils.isPresent(DISPATCHER_SERVLET, FolkHttpAutoConfiguration.class.getClassLoader()));
            return failure;
        } catch (FolkConfigurationException gateway) {
            List<Violation> all = new ArrayList<>(pools.violations());
            all.addAll(gateway.violations());
            FolkConfigurationException both = new FolkConfigurationException(all);
            both.initCause(failure);
            return both;
        }
    }

    /**
     * The limit Spring Boot gives the servlet container for a response's head, which PHP's headers
     * must fit in: {@code server.tomcat.max-http-response-header-size}, or on Jetty (Spring Boot's
     * choice when Tomcat is absent) {@code server.jetty.max-http-response-header-size}; the
     * containers' default (8KB, both) without it or for a value that is not positive.
     */
    static long maxResponseHeaderSize(Environment environment, @Nullable ClassLoader classLoader) {
        String key = responseHeaderSizeKey(ClassUtils.isPresent("org.apache.catalina.startup.Tomcat", classLoader),
                ClassUtils.isPresent("org.eclipse.jetty.server.Server", classLoader));
        long size = Binder.get(environment).bind(key, DataSize.class).map(DataSize::toBytes).orElse(0L);
        return size > 0 ? size : GatewayOptions.DEFAULT_MAX_RESPONSE_HEADER_SIZE;
    }

    /** Which container's key holds the limit: Tomcat's when it is there (Spring Boot's first choice), else Jetty's. */
    static String responseHeaderSizeKey(boolean tomcat, boolean jetty) {
        return !tomcat && jetty ? JETTY_RESPONSE_HEADER_SIZE : TOMCAT_RESPONSE_HEADER_SIZE;
    }

    @Bean(REGISTRATION_BEAN_NAME)
    @ConditionalOnMissingBean(name = REGISTRATION_BEAN_NAME)
    public ServletRegistrationBean<FolkHttpGateway> folkHttpGatewayRegistration(FolkHttpGateway gateway) {
        ServletRegistrationBean<FolkHttpGateway> registration = new ServletRegistrationBean<>(gateway,
                gateway.servletPatterns());
        registration.setName(SERVLET_NAME);
        registration.setAsyncSupported(true);
        registration.setLoadOnStartup(1);
        // Only fallback mappings: no path is the servlet's (without patterns it would be given every path).
        registration.setEnabled(gateway.servletPatterns().length > 0);
        return registration;
    }

    /**
     * With {@code folk.http.filter-order}: the gateway also as a filter of that order for its paths,
     * so that the filters after it do not run for PHP's requests. Refused when it would run ahead
     * of Spring Security's filter chain (a bean {@value #SECURITY_FILTER}). Placed right after a
     * {@link ForwardedHeaderFilter} it would run ahead of (Spring Boot's, of order
     * {@code -2147483648}, with {@code server.forward-headers-strategy=framework}): PHP must see
     * the client's address, scheme and host, not the proxy's.
     */
    @Bean(FILTER_BEAN_NAME)
    @ConditionalOnProperty(prefix = "folk.http", name = "filter-order")
    @ConditionalOnMissingBean(name = FILTER_BEAN_NAME)
    public FilterRegistrationBean<FolkHttpGatewayFilter> folkHttpGatewayFilterRegistration(FolkHttpGateway gateway,
            FolkHttpProperties properties, ListableBeanFactory beans, Environment environment) {
        FilterRegistrationBean<FolkHttpGatewayFilter> registration = new FilterRegistrationBean<>(
                new FolkHttpGatewayFilter(gateway, SERVLET_NAME));
        registration.setName("folkHttpGatewayFilter");
        String[] patterns = gateway.servletPatterns();
        Integer order = filterOrder(properties, beans, environment, patterns.length > 0);
        if (order == null || patterns.length == 0) {
            // Set empty (e.g. --folk.http.filter-order= over a file's value), or only fallback mappings.
            registration.setEnabled(false);
            return registration;
        }
        registration.addUrlPatterns(patterns);
        registration.setDispatcherTypes(DispatcherType.REQUEST);
        registration.setAsyncSupported(true);
        registration.setOrder(order);
        return registration;
    }

    /**
     * The order of the gateway's filters, from {@code folk.http.filter-order}: null without it; right
     * after a {@link ForwardedHeaderFilter} it would run ahead of (logged when {@code tell}); refused
     * ahead of Spring Security's filters.
     */
    static @Nullable Integer filterOrder(FolkHttpProperties properties, ListableBeanFactory beans,
                                         Environment environment, boolean tell) {
        if (properties.getFilterOrder() == null) {
            return null;
        }
        int order = properties.getFilterOrder();
        Integer forwarded = forwardedHeaderFilterOrder(beans);
        if (forwarded != null && order <= forwarded && forwarded < Integer.MAX_VALUE) {
            if (tell) {
                logger.info("folk.http.filter-order " + order + " would run the HTTP gateway ahead of the"
                        + " ForwardedHeaderFilter (order " + forwarded + ", server.forward-headers-strategy=framework):"
                        + " the gateway's filter runs right after it, at " + (forwarded + 1) + ", so that PHP sees the"
                        + " client's address and scheme");
            }
            order = forwarded + 1;
        }
        if (beans.containsBean(SECURITY_FILTER)) {
            int security = environment.getProperty("spring.security.filter.order", Integer.class, SECURITY_ORDER);
            if (order <= security) {
                throw new FolkConfigurationException(List.of(new Violation("folk.http.filter-order", order,
                        "the gateway would run ahead of Spring Security's filters (order " + security
                                + "), and PHP's requests would skip them",
                        "Set it above " + security + ", or remove it to serve PHP behind every filter.")));
            }
        }
        return order;
    }

    /** The highest order of the enabled {@link ForwardedHeaderFilter} registrations, or null without one. */
    private static @Nullable Integer forwardedHeaderFilterOrder(ListableBeanFactory beans) {
        Integer order = null;
        for (String name : beans.getBeanNamesForType(FilterRegistrationBean.class, false, false)) {
            if (name.equals(FILTER_BEAN_NAME) || name.equals(FALLBACK_FILTER_BEAN_NAME)) {
                continue; // the gateway's own
            }
            FilterRegistrationBean<?> registration = beans.getBean(name, FilterRegistrationBean.class);
            if (registration.isEnabled() && registration.getFilter() instanceof ForwardedHeaderFilter) {
                order = order == null ? registration.getOrder() : Math.max(order, registration.getOrder());
            }
        }
        return order;
    }

    /** With Spring MVC: a warning at start-up for its handlers under a gateway mapping, which PHP would answer. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.web.servlet.mvc.method.RequestMappingInfoHandlerMapping")
    static class ShadowedHandlersConfiguration {

        @Bean
        ShadowedHandlersCheck folkHttpShadowedHandlersCheck(FolkHttpGateway gateway, ListableBeanFactory beans,
                                                            Environment environment) {
            return new ShadowedHandlersCheck(gateway, beans, environment);
        }
    }

    /**
     * With Spring MVC: the filter that serves the fallback mappings (registered for their prefixes,
     * for requests and asynchronous dispatches). It asks Spring MVC's handler mappings first
     * ({@link SpringMvcHandlers}) and answers with PHP only what they do not take. Its order is
     * {@code folk.http.filter-order}'s, as the gateway's own filter; without it, after every other
     * filter, as the gateway's servlet is. Not made without fallback mappings.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = DISPATCHER_SERVLET)
    static class FallbackConfiguration {

        @Bean
        @ConditionalOnMissingBean
        FallbackRouting folkHttpFallbackRouting(FolkHttpGateway gateway, ListableBeanFactory beans,
                                                ResourceLoader resourceLoader) {
            return new FallbackRouting(gateway, new SpringMvcHandlers(beans, resourceLoader.getClassLoader()));
        }

        @Bean(FALLBACK_FILTER_BEAN_NAME)
        @ConditionalOnMissingBean(name = FALLBACK_FILTER_BEAN_NAME)
        @Conditional(OnFallbackMapping.class) // else Spring Boot logs its "was not registered (disabled)" at every start
        FilterRegistrationBean<FallbackFilter> folkHttpGatewayFallbackFilterRegistration(FallbackRouting routing,
                FolkHttpProperties properties, ListableBeanFactory beans, Environment environment) {
            FolkHttpGateway gateway = routing.gateway();
            FilterRegistrationBean<FallbackFilter> registration = new FilterRegistrationBean<>(new FallbackFilter(routing));
            registration.setName("folkHttpGatewayFallbackFilter");
            List<HttpRoute> fallbacks = gateway.fallbackRoutes();
            if (fallbacks.isEmpty()) {
                registration.setEnabled(false);
                return registration;
            }
            Integer order = filterOrder(properties, beans, environment, gateway.servletPatterns().length == 0);
            registration.addUrlPatterns(fallbacks.stream().map(HttpRoute::servletPattern).toArray(String[]::new));
            registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC);
            registration.setAsyncSupported(true);
            registration.setOrder(order != null ? order : Ordered.LOWEST_PRECEDENCE);
            return registration;
        }
    }

    /** Matches when a {@code folk.http.mappings} entry is a fallback mapping. */
    static final class OnFallbackMapping extends SpringBootCondition {

        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            boolean any = Binder.get(context.getEnvironment())
                    .bind("folk.http.mappings", Bindable.listOf(FolkHttpProperties.Mapping.class))
                    .map(mappings -> mappings.stream().anyMatch(FolkHttpProperties.Mapping::isFallback)).orElse(false);
            return any ? ConditionOutcome.match("a folk.http.mappings entry is a fallback")
                    : ConditionOutcome.noMatch("no folk.http.mappings entry is a fallback");
        }
    }

    /**
     * Spring MVC's {@link FormContentFilter}, except for the gateway's requests. Spring Boot's reads
     * the body of every PUT, PATCH and DELETE form ({@code application/x-www-form-urlencoded}) to offer
     * its fields as request parameters, before any servlet runs: PHP then got an empty body and
     * {@code CONTENT_LENGTH} 0, where nginx hands PHP-FPM the body and PHP parses it itself. This one
     * takes the place of Spring Boot's (whose bean backs off for any {@code FormContentFilter}; this
     * auto-configuration runs before Spring MVC's), with the same order and switch
     * ({@code spring.mvc.formcontent.filter.enabled}).
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.web.filter.FormContentFilter")
    @ConditionalOnProperty(name = "spring.mvc.formcontent.filter.enabled", havingValue = "true", matchIfMissing = true)
    static class FormContentFilterConfiguration {

        @Bean
        @ConditionalOnMissingBean(FormContentFilter.class)
        FormContentFilter folkFormContentFilter(ObjectProvider<FallbackRouting> fallback) {
            return new GatewayBodiesFormContentFilter(fallback.getIfAvailable());
        }
    }

    /**
     * A {@link FormContentFilter} that does not read the bodies of requests for the gateway's servlet,
     * nor of those its fallback mappings give PHP.
     */
    static final class GatewayBodiesFormContentFilter extends FormContentFilter implements Ordered {

        /** Spring Boot's OrderedFormContentFilter.DEFAULT_ORDER. */
        static final int ORDER = -9900;

        private final @Nullable FallbackRouting fallback;

        GatewayBodiesFormContentFilter(@Nullable FallbackRouting fallback) {
            this.fallback = fallback == null || fallback.gateway().fallbackRoutes().isEmpty() ? null : fallback;
        }

        @Override
        protected boolean shouldNotFilter(HttpServletRequest request) {
            HttpServletMapping mapping = request.getHttpServletMapping();
            if (mapping != null && SERVLET_NAME.equals(mapping.getServletName())) {
                return true;
            }
            // Only a form body is read here: the other requests need not wait for a lookup of Spring MVC's handlers.
            return fallback != null && isForm(request) && fallback.route(request) != null;
        }

        private static boolean isForm(HttpServletRequest request) {
            String type = request.getContentType();
            return type != null && type.regionMatches(true, 0, "application/x-www-form-urlencoded", 0, 33);
        }

        @Override
        public int getOrder() {
            return ORDER;
        }
    }

    /**
     * On Tomcat, {@code Expect: 100-continue} answered as nginx answers it: no {@code 100 Continue}
     * to a request whose body the gateway refuses unread, so that its client gets the 413 without
     * sending the body first ({@code curl} expects a 100 before any upload over 1MB). Every other
     * request that expects one gets it before it goes on, as with Tomcat's default
     * ({@link ExpectContinueValve}). A bean of this name replaces it.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"org.apache.catalina.valves.ValveBase",
            "org.springframework.boot.tomcat.ConfigurableTomcatWebServerFactory"})
    static class TomcatExpectContinueConfiguration {

        @Bean(EXPECT_CONTINUE_BEAN_NAME)
        @ConditionalOnMissingBean(name = EXPECT_CONTINUE_BEAN_NAME)
        WebServerFactoryCustomizer<ConfigurableTomcatWebServerFactory> folkHttpTomcatExpectContinue(
                ObjectProvider<FolkHttpGateway> gateway) {
            return factory -> {
                factory.addProtocolHandlerCustomizers(protocol -> {
                    if (protocol instanceof AbstractHttp11Protocol<?> http) { // HTTP/2's streams follow it
                        http.setContinueResponseTiming(ContinueResponseTiming.ON_REQUEST_BODY_READ.toString());
                    }
                });
                factory.addEngineValves(new ExpectContinueValve(gateway));
            };
        }
    }

    /**
     * The mappings as routes; every wrong one, and every gateway setting out of range, is reported at
     * once, before anything starts (a value out of range is not quietly replaced by the default).
     * Without {@code pools} (their settings are wrong too) it checks what it can without them, and
     * returns no route.
     */
    static List<HttpRoute> routes(FolkHttpProperties properties, @Nullable FolkPools pools,
                                  Function<String, @Nullable String> configuredValues, boolean springMvc) {
        List<HttpRoute> routes = new ArrayList<>();
        List<Violation> violations = new ArrayList<>();
        DataSize bodyMemory = properties.getBodyMemory();
        if (bodyMemory != null && bodyMemory.toBytes() <= 0) {
            violations.add(new Violation("folk.http.body-memory",
                    shown(configuredValues, "folk.http.body-memory", bodyMemory), "must be positive",
                    "Set a size such as 256MB, or remove it for an eighth of the heap."));
        }
        Duration bodyTimeout = properties.getBodyTimeout();
        if (bodyTimeout != null && (bodyTimeout.isNegative() || bodyTimeout.isZero())) {
            violations.add(new Violation("folk.http.body-timeout",
                    shown(configuredValues, "folk.http.body-timeout", bodyTimeout), "must be positive",
                    "Set a duration such as 60s (how long a client may take to send its body)."));
        }
        Duration retryAfter = properties.getRetryAfter();
        if (retryAfter != null && retryAfter.isNegative()) {
            violations.add(new Violation("folk.http.retry-after",
                    shown(configuredValues, "folk.http.retry-after", retryAfter), "must not be negative",
                    "Set a duration such as 1s, or 0s to tell clients they may retry at once."));
        }
        DataSize maxBodySize = properties.getMaxBodySize();
        if (maxBodySize != null && maxBodySize.toBytes() <= 0) {
            violations.add(new Violation("folk.http.max-body-size",
                    shown(configuredValues, "folk.http.max-body-size", maxBodySize), maxBodySize.toBytes() == 0
                            ? "0 would answer every request with a body 413 (nginx's client_max_body_size 0 means no"
                                    + " limit; here a body can never be larger than the pool's max-frame-length)"
                            : "must not be negative",
                    "Set a size such as 8MB, or remove it to follow the pools' max-frame-length."));
        }
        List<FolkHttpProperties.Mapping> mappings = properties.getMappings();
        Set<String> prefixes = new HashSet<>();
        String servletPath = configuredValues.apply("spring.mvc.servlet.path"); // Spring MVC's, which fallback mappings need at '/'
        for (int i = 0; i < mappings.size(); i++) {
            // Every problem of a mapping is reported at once: a fix must not reveal the next one.
            FolkHttpProperties.Mapping m = mappings.get(i);
            String key = "folk.http.mappings[" + i + "]";
            int before = violations.size();
            String prefix = null;
            if (m.getPath() == null) {
                // Typically a mapping's pool given in a source that outranks application.yml: a list from
                // one property source replaces the other's whole list, so its paths are gone.
                violations.add(new Violation(key + ".path", null, "missing: every mapping needs a path",
                        "Set it to a path prefix such as /php/**. Where one property source (command line, "
                                + "environment) sets a mapping, it replaces the mappings of application.yml as a "
                                + "whole: give each mapping's path and pool in the same source."));
            } else {
                try {
                    prefix = HttpRoute.prefixOf(m.getPath());
                } catch (IllegalArgumentException e) {
                    violations.add(new Violation(key + ".path", m.getPath(), String.valueOf(e.getMessage()),
                            "Set it to a path prefix such as /php or /php/**."));
                }
            }
            if (prefix != null && !prefixes.add(prefix)) {
                violations.add(new Violation(key + ".path", m.getPath(), "another mapping has the same prefix",
                        "Map each prefix once."));
            } else if (prefix != null && !prefix.isEmpty() && springMvc && servletPath != null
                    && prefix.equals(servletPath.endsWith("/") ? servletPath.substring(0, servletPath.length() - 1) : servletPath)) {
                // Two servlets on one pattern: the container gives its requests to one of them, Spring MVC's.
                violations.add(new Violation(key + ".path", m.getPath(), "it is the path of Spring MVC's servlet"
                        + " (spring.mvc.servlet.path is '" + servletPath + "'): the servlet container gives the"
                        + " requests under it to Spring MVC, and PHP would get none",
                        "Map PHP's paths below it (such as " + prefix + "/php/**) or beside it, or change spring.mvc.servlet.path."));
            }
            // Without the pools (their own settings failed), what can be checked without them still is.
            WorkerPool pool = pools == null ? null : pools.find(m.getPool()).orElse(null);
            if (pool == null && pools != null) {
                violations.add(new Violation(key + ".pool", m.getPool(), "there is no pool of that name",
                        "Name one of the configured pools: " + pools.names() + "."));
            }
            if (m.isFallback() && !springMvc) {
                violations.add(new Violation(key + ".fallback", true, "a fallback mapping needs Spring MVC, whose"
                        + " handlers answer first, and it is not on the class path",
                        "Add spring-boot-starter-webmvc, or remove 'fallback' to send every request under the path to PHP."));
            } else if (m.isFallback() && servletPath != null && !servletPath.isEmpty() && !servletPath.equals("/")) {
                violations.add(new Violation(key + ".fallback", true, "a fallback mapping needs Spring MVC's servlet"
                        + " at '/', and spring.mvc.servlet.path is '" + servletPath + "': the requests outside it never"
                        + " reach Spring MVC, nor the fallback", "Remove spring.mvc.servlet.path, or map PHP's"
                        + " paths without 'fallback'."));
            }
            Path publicDir = m.getPublicDir();
            String publicDirAction = "Set it to the application's public directory (the one nginx's 'root' names, "
                    + "e.g. /srv/app/public), or remove it to send every request to PHP.";
            if (publicDir != null && !Files.isDirectory(publicDir)) {
                violations.add(new Violation(key + ".public-dir", publicDir,
                        Files.exists(publicDir) ? "not a directory" : "no such directory", publicDirAction));
            }
            if (violations.size() > before || prefix == null || pool == null || (maxBodySize != null
                    && maxBodySize.toBytes() <= 0)) {
                continue;
            }
            long frame = pool.config().maxFrameLength();
            // A frame too small to leave the headroom (a pool set to 64KB, say) gets half of it, not 0.
            long fromFrame = frame > 2L * FRAME_HEADROOM ? frame - FRAME_HEADROOM : frame / 2;
            long limit = maxBodySize == null ? fromFrame : maxBodySize.toBytes();
            if (limit > fromFrame) {
                // A larger body could never reach PHP: refused before it is read, not after (as too large for a frame).
                logger.warn("The HTTP gateway's route " + prefix + ": folk.http.max-body-size (" + limit + " bytes) is more"
                        + " than pool '" + pool.name() + "' can carry in a frame (max-frame-length " + frame + " bytes, less"
                        + " room for the rest of the request): bodies over " + fromFrame + " bytes are answered 413. Raise"
                        + " folk.pools." + pool.name() + ".max-frame-length (or folk.max-frame-length) to take larger ones.");
                limit = fromFrame;
            }
            try {
                routes.add(new HttpRoute(prefix, pool, m.isStripPrefix(), limit, publicDir, m.getDocumentRoot(),
                        m.getScriptFilename(), m.isFallback(), m.getPublicDirLinks()));
            } catch (IllegalArgumentException unreadable) {
                violations.add(new Violation(key + ".public-dir", publicDir, String.valueOf(unreadable.getMessage()),
                        publicDirAction));
            }
        }
        if (!violations.isEmpty()) {
            throw new FolkConfigurationException(violations);
        }
        return routes;
    }

    /** A setting's value as the application wrote it ("-5MB", not "-5242880B"), else as bound. */
    private static @Nullable Object shown(Function<String, @Nullable String> configuredValues, String key,
                                          @Nullable Object bound) {
        String configured = configuredValues.apply(key);
        return configured != null ? configured : bound;
    }
}
