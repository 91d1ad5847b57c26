package dev.folk.spring.boot.autoconfigure.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.core.env.Environment;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.RequestMappingInfoHandlerMapping;

import dev.folk.spring.boot.http.FolkHttpGateway;
import dev.folk.spring.boot.http.HttpRoute;

/**
 * Warns at start-up of Spring MVC's handlers (the application's controllers, and the actuator's
 * endpoints when they share the application's port) whose paths are under a gateway mapping: the
 * servlet container routes a path to the gateway's servlet before Spring MVC's, whose mapping is
 * only the default one ({@code /}), so those requests go to PHP and never reach Spring. A mapping of
 * every path ({@code /**}) would otherwise answer {@code /actuator/health} with PHP's page, and a
 * health probe would restart the application without a word in its log. Fallback mappings, where
 * Spring MVC answers first, are not checked.
 */
final class ShadowedHandlersCheck implements SmartInitializingSingleton {

    private static final Log logger = LogFactory.getLog(ShadowedHandlersCheck.class);

    /** Paths named in the warning, at most; the rest are counted. */
    private static final int SHOWN = 5;

    private final FolkHttpGateway gateway;
    private final ListableBeanFactory beans;
    private final Environment environment;

    ShadowedHandlersCheck(FolkHttpGateway gateway, ListableBeanFactory beans, Environment environment) {
        this.gateway = gateway;
        this.beans = beans;
        this.environment = environment;
    }

    @Override
    public void afterSingletonsInstantiated() {
        for (String warning : warnings()) {
            logger.warn(warning);
        }
    }

    /** One warning per route that covers paths of Spring MVC's handlers. */
    List<String> warnings() {
        List<Handler> handlers = handlers();
        String servletPath = servletPath();
        List<String> warnings = new ArrayList<>();
        for (HttpRoute route : gateway.routes()) {
            if (route.fallback()) {
                continue; // Spring MVC's handlers answer first there
            }
            if (!servletPath.isEmpty() && route.covers(servletPath)
                    && servletPath.length() > route.prefix().length()) {
                // Spring MVC's servlet path lies inside the mapping: the container gives the longer
                // pattern, and so every handler below it, to Spring MVC.
                continue;
            }
            Set<String> shadowed = new TreeSet<>();
            for (Handler h : handlers) {
                if (route.covers(h.path())) {
                    shadowed.add(h.label());
                }
            }
            if (!shadowed.isEmpty()) {
                // Named only when it is among them: with a management port of its own it is not.
                String health = environment.getProperty("management.endpoints.web.base-path", "/actuator") + "/health";
                warnings.add(warning(route, shadowed, shadowed.stream().anyMatch(label -> label.endsWith(" " + health)
                        || label.equals(health))));
            }
        }
        return warnings;
    }

    /** A path Spring MVC serves, as the servlet container sees it, and how the warning names it (with its methods). */
    private record Handler(String path, String label) {
    }

    /** The paths of every handler of Spring MVC's handler mappings in this context. */
    private List<Handler> handlers() {
        // Spring MVC's patterns are below its servlet's path (spring.mvc.servlet.path), as the gateway's prefixes are below the context's.
        String base = servletPath();
        List<Handler> handlers = new ArrayList<>();
        for (RequestMappingInfoHandlerMapping mapping : beans.getBeansOfType(RequestMappingInfoHandlerMapping.class,
                false, false).values()) {
            for (RequestMappingInfo info : mapping.getHandlerMethods().keySet()) {
                for (String pattern : info.getPatternValues()) {
                    String path = base + (pattern.startsWith("/") ? pattern : "/" + pattern);
                    handlers.add(new Handler(path, methods(info) + path));
                }
            }
        }
        return handlers;
    }

    /** Spring MVC's servlet path without its final slash: "" at the root. */
    private String servletPath() {
        String servletPath = environment.getProperty("spring.mvc.servlet.path", "/");
        return servletPath.endsWith("/") ? servletPath.substring(0, servletPath.length() - 1) : servletPath;
    }

    private static String methods(RequestMappingInfo info) {
        Set<RequestMethod> methods = info.getMethodsCondition().getMethods();
        if (methods.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (RequestMethod m : methods) {
            b.append(b.length() == 0 ? "" : ",").append(m.name());
        }
        return b.append(' ').toString();
    }

    private static String warning(HttpRoute route, Set<String> shadowed, boolean health) {
        String mapping = route.prefix().isEmpty() ? "/** (every path)" : route.prefix() + "/**";
        List<String> shown = shadowed.stream().limit(SHOWN).toList();
        return "The HTTP gateway's mapping " + mapping + " (pool '" + route.pool().name() + "') covers " + shadowed.size()
                + " path(s) of Spring MVC's handlers: " + String.join(", ", shown)
                + (shadowed.size() > SHOWN ? " and " + (shadowed.size() - SHOWN) + " more" : "")
                + ". The servlet container sends their requests to PHP,"
                + " so they never reach Spring MVC"
                + (health ? " (the actuator's health endpoint among them would answer with PHP's page)" : "")
                + ". Map only the prefixes PHP serves in folk.http.mappings, make it a fallback mapping"
                + " (fallback: true, Spring MVC's handlers answer first and PHP the rest), or move those handlers (the"
                + " actuator: management.endpoints.web.base-path, or management.server.port for a port of its own).";
    }
}
