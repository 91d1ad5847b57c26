package dev.folk.spring.boot.autoconfigure.http;

import java.util.ArrayList;
import java.util.List;

import jakarta.servlet.Servlet;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;

import dev.folk.core.pool.WorkerPool;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.autoconfigure.FolkConfigurationException;
import dev.folk.spring.boot.autoconfigure.FolkConfigurationException.Violation;
import dev.folk.spring.boot.autoconfigure.FolkPools;
import dev.folk.spring.boot.http.FolkHttpGateway;
import dev.folk.spring.boot.http.GatewayOptions;
import dev.folk.spring.boot.http.HttpRoute;

/**
 * The HTTP gateway: in a servlet web application with at least one {@code folk.http.mappings}
 * entry, a {@link FolkHttpGateway} servlet registered (async) for the mapped paths, beside Spring
 * MVC. Each bean backs off when the application defines its own.
 */
@AutoConfiguration(after = FolkAutoConfiguration.class)
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

    @Bean
    @ConditionalOnMissingBean
    public FolkHttpGateway folkHttpGateway(FolkHttpProperties properties, FolkPools pools) {
        return new FolkHttpGateway(routes(properties, pools), new GatewayOptions(properties.getServerName(),
                properties.getDocumentRoot(), properties.getScriptFilename(), properties.getRetryAfter(),
                properties.getBodyTimeout()));
    }

    @Bean(REGISTRATION_BEAN_NAME)
    @ConditionalOnMissingBean(name = REGISTRATION_BEAN_NAME)
    public ServletRegistrationBean<FolkHttpGateway> folkHttpGatewayRegistration(FolkHttpGateway gateway) {
        ServletRegistrationBean<FolkHttpGateway> registration = new ServletRegistrationBean<>(gateway,
                gateway.servletPatterns());
        registration.setName("folkHttpGateway");
        registration.setAsyncSupported(true);
        registration.setLoadOnStartup(1);
        return registration;
    }

    /** The mappings as routes; every wrong one is reported at once, before anything starts. */
    static List<HttpRoute> routes(FolkHttpProperties properties, FolkPools pools) {
        List<HttpRoute> routes = new ArrayList<>();
        List<Violation> violations = new ArrayList<>();
        List<FolkHttpProperties.Mapping> mappings = properties.getMappings();
        for (int i = 0; i < mappings.size(); i++) {
            FolkHttpProperties.Mapping m = mappings.get(i);
            String key = "folk.http.mappings[" + i + "]";
            String prefix;
            try {
                prefix = HttpRoute.prefixOf(m.getPath());
            } catch (IllegalArgumentException e) {
                violations.add(new Violation(key + ".path", m.getPath(), e.getMessage(),
                        "Set it to a path prefix such as /php or /php/**."));
                continue;
            }
            WorkerPool pool = pools.find(m.getPool()).orElse(null);
            if (pool == null) {
                violations.add(new Violation(key + ".pool", m.getPool(), "there is no pool of that name",
                        "Name one of the configured pools: " + pools.names() + "."));
                continue;
            }
            if (routes.stream().anyMatch(r -> r.prefix().equals(prefix))) {
                violations.add(new Violation(key + ".path", m.getPath(), "another mapping has the same prefix",
                        "Map each prefix once."));
                continue;
            }
            long fromFrame = Math.max(0, pool.config().maxFrameLength() - FRAME_HEADROOM);
            long limit = properties.getMaxBodySize() == null ? fromFrame : properties.getMaxBodySize().toBytes();
            if (limit < 0) {
                violations.add(new Violation("folk.http.max-body-size", properties.getMaxBodySize(), "negative",
                        "Set a size such as 8MB, or remove it to follow the pools' max-frame-length."));
                break;
            }
            routes.add(new HttpRoute(prefix, pool, m.isStripPrefix(), limit));
        }
        if (!violations.isEmpty()) {
            throw new FolkConfigurationException(violations);
        }
        return routes;
    }
}
