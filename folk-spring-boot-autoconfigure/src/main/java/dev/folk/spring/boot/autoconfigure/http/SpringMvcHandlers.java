package dev.folk.spring.boot.autoconfigure.http;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import jakarta.servlet.http.HttpServletMapping;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.core.annotation.AnnotationAwareOrderComparator;
import org.springframework.core.io.ClassPathResource;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.web.servlet.DispatcherServlet;
import org.springframework.web.servlet.HandlerExecutionChain;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.handler.AbstractUrlHandlerMapping;
import org.springframework.web.servlet.resource.ResourceHttpRequestHandler;
import org.springframework.web.util.ServletRequestPathUtils;

import dev.folk.spring.boot.http.FallbackRouting;

/**
 * Whether the application serves a request, for {@link FallbackRouting}: true for a request the
 * servlet container maps to a servlet other than Spring MVC's, and for one that a handler of Spring
 * MVC's handler mappings takes, in their order, as its {@code DispatcherServlet} would find it: a
 * controller or functional route, an actuator endpoint on the application's port, a view
 * controller, the welcome page. A path that a handler maps for other methods or media types is
 * Spring MVC's too (it answers 405, 406, 415 there).
 *
 * <p>Handlers of every path ({@code /**}: Spring Boot's static resources by default, the
 * container's default servlet when forwarded to, a catch-all controller) do not count, except for
 * the files a static resource handler of every path has: what they would answer 404 is PHP's. The
 * files of its class path locations ({@code classpath:/static/} and the like) are listed once (a
 * class path does not change while the application runs; looking each request up in every jar
 * would cost more than the request); its other locations (the servlet context's root, a
 * {@code file:} directory) are asked at each request, as Spring MVC would ask them.
 *
 * <p>The lookup runs on a copy of the request's attributes, so that it leaves nothing behind for
 * Spring MVC's own. Its request parameters are the query string's only: a request whose body
 * PHP will read must not be parsed as a form here (a mapping with a {@code params} condition on a
 * form field of the body does not match in this lookup).
 */
final class SpringMvcHandlers implements Predicate<HttpServletRequest> {

    /** The pattern of handlers of every path. */
    private static final String EVERY_PATH = "/**";

    private final ListableBeanFactory beans;
    private final @Nullable ClassLoader classLoader;

    /** What the lookup needs, read from the context at the first request (every handler mapping is built by then). */
    private volatile @Nullable Known known;

    /**
     * @param mappings   Spring MVC's handler mappings, in order
     * @param catchAll   handlers of every path, by identity
     * @param files      the files of those that are static resource handlers
     * @param dispatcher the names of Spring MVC's servlets
     */
    private record Known(List<HandlerMapping> mappings, Set<Object> catchAll, Map<Object, StaticFiles> files,
                         Set<String> dispatcher) {
    }

    /**
     * The files of a static resource handler of every path: those of its class path locations by
     * their path below the location, and its other locations.
     */
    private record StaticFiles(Set<String> onClassPath, List<Resource> elsewhere) {

        boolean has(String path) {
            if (onClassPath.contains(path)) {
                return true;
            }
            for (Resource location : elsewhere) {
                try {
                    Resource file = location.createRelative(path);
                    if (file.isReadable()) {
                        return true;
                    }
                } catch (IOException | RuntimeException unreadable) {
                    // not there, as far as Spring MVC could tell either
                }
            }
            return false;
        }
    }

    SpringMvcHandlers(ListableBeanFactory beans, @Nullable ClassLoader classLoader) {
        this.beans = beans;
        this.classLoader = classLoader;
    }

    @Override
    public boolean test(HttpServletRequest request) {
        Known k = known();
        HttpServletMapping servlet = request.getHttpServletMapping();
        if (servlet == null || !k.dispatcher().contains(servlet.getServletName())) {
            return true; // a servlet of the application's own (or of the container's)
        }
        Probe probe = new Probe(request);
        try {
            ServletRequestPathUtils.parseAndCache(probe);
            for (HandlerMapping mapping : k.mappings()) {
                HandlerExecutionChain chain = mapping.getHandler(probe);
                if (chain == null) {
                    continue;
                }
                if (k.catchAll().contains(chain.getHandler())) {
                    StaticFiles files = k.files().get(chain.getHandler());
                    if (files != null && files.has(relativePath(probe))) {
                        return true;
                    }
                } else if (!EVERY_PATH.equals(probe.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE))) {
                    return true;
                }
            }
            return false;
        } catch (Exception matchedButRefused) {
            return true; // e.g. the path's handler takes other methods: Spring MVC answers 405
        }
    }

    private Known known() {
        Known k = known;
        if (k == null) {
            List<HandlerMapping> mappings = new ArrayList<>(
                    BeanFactoryUtils.beansOfTypeIncludingAncestors(beans, HandlerMapping.class, true, false).values());
            AnnotationAwareOrderComparator.sort(mappings);
            Set<Object> catchAll = Collections.newSetFromMap(new IdentityHashMap<>());
            Map<Object, StaticFiles> files = new IdentityHashMap<>();
            for (HandlerMapping mapping : mappings) {
                Object handler = mapping instanceof AbstractUrlHandlerMapping urls ? urls.getHandlerMap().get(EVERY_PATH) : null;
                if (handler != null) {
                    catchAll.add(handler);
                    if (handler instanceof ResourceHttpRequestHandler resources) {
                        files.put(handler, staticFiles(resources));
                    }
                }
            }
            Set<String> dispatcher = new HashSet<>(List.of(beans.getBeanNamesForType(DispatcherServlet.class, false, false)));
            for (ServletRegistrationBean<?> registration : beans.getBeansOfType(ServletRegistrationBean.class, false, false)
                    .values()) {
                if (registration.getServlet() instanceof DispatcherServlet) {
                    dispatcher.add(registration.getServletName());
                }
            }
            k = new Known(List.copyOf(mappings), catchAll, files, Set.copyOf(dispatcher));
            known = k;
        }
        return k;
    }

    /** The files of a static resource handler: its class path locations' listed now, its other locations kept. */
    private StaticFiles staticFiles(ResourceHttpRequestHandler handler) {
        Set<String> onClassPath = new HashSet<>();
        List<Resource> elsewhere = new ArrayList<>();
        PathMatchingResourcePatternResolver resolver = new PathMatchingResourcePatternResolver(classLoader);
        for (Resource location : handler.getLocations()) {
            if (!(location instanceof ClassPathResource classPath)) {
                elsewhere.add(location);
                continue;
            }
            String base = classPath.getPath().endsWith("/") ? classPath.getPath() : classPath.getPath() + "/";
            try {
                // Every root of that name on the class path (the application's, its jars'), and the files below each.
                List<String> roots = new ArrayList<>();
                for (Resource root : resolver.getResources("classpath*:" + base)) {
                    roots.add(root.getURL().toString());
                }
                for (Resource file : resolver.getResources("classpath*:" + base + "**")) {
                    String url = file.getURL().toString();
                    for (String root : roots) {
                        if (url.startsWith(root) && url.length() > root.length() && !url.endsWith("/")) {
                            onClassPath.add(pathDecoded(url.substring(root.length())));
                        }
                    }
                }
            } catch (IOException | RuntimeException unlisted) {
                elsewhere.add(location); // asked at each request instead
            }
        }
        return new StaticFiles(Set.copyOf(onClassPath), List.copyOf(elsewhere));
    }

    /**
     * The request's path below the application, decoded, as a static resource handler of every path
     * looks it up; "" for a path it would refuse (a parent segment, a backslash, a scheme), which no
     * file has.
     */
    private static String relativePath(HttpServletRequest probe) {
        String decoded = pathDecoded(ServletRequestPathUtils.getParsedRequestPath(probe).pathWithinApplication().value());
        while (decoded.startsWith("/")) {
            decoded = decoded.substring(1);
        }
        if (("/" + decoded + "/").contains("/../") || decoded.indexOf('\\') >= 0 || decoded.indexOf(':') >= 0 || decoded.endsWith("/")) {
            return "";
        }
        return decoded;
    }

    /** A URL's path percent-decoded as UTF-8 ('+' is no space in a path); "" if malformed. */
    private static String pathDecoded(String path) {
        try {
            return URLDecoder.decode(path.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
            return "";
        }
    }

    /** The request as the handler mappings see it: attributes of its own over the request's, parameters from the query. */
    private static final class Probe extends HttpServletRequestWrapper {

        private final Map<String, Object> attributes = new HashMap<>();
        private final Set<String> removed = new HashSet<>();
        private @Nullable Map<String, String[]> parameters;

        Probe(HttpServletRequest request) {
            super(request);
        }

        @Override
        public @Nullable Object getAttribute(String name) {
            Object value = attributes.get(name);
            return value != null || removed.contains(name) ? value : super.getAttribute(name);
        }

        @Override
        public Enumeration<String> getAttributeNames() {
            Set<String> names = new HashSet<>(Collections.list(super.getAttributeNames()));
            names.removeAll(removed);
            names.addAll(attributes.keySet());
            return Collections.enumeration(names);
        }

        @Override
        public void setAttribute(String name, @Nullable Object value) {
            if (value == null) {
                removeAttribute(name);
                return;
            }
            attributes.put(name, value);
            removed.remove(name);
        }

        @Override
        public void removeAttribute(String name) {
            attributes.remove(name);
            removed.add(name);
        }

        @Override
        public @Nullable String getParameter(String name) {
            String[] values = getParameterMap().get(name);
            return values == null ? null : values[0];
        }

        @Override
        public Enumeration<String> getParameterNames() {
            return Collections.enumeration(getParameterMap().keySet());
        }

        @Override
        public String @Nullable [] getParameterValues(String name) {
            String[] values = getParameterMap().get(name);
            return values == null ? null : values.clone();
        }

        @Override
        public Map<String, String[]> getParameterMap() {
            if (parameters == null) {
                parameters = Collections.unmodifiableMap(queryParameters(getQueryString()));
            }
            return parameters;
        }

        private static Map<String, String[]> queryParameters(@Nullable String query) {
            Map<String, List<String>> values = new LinkedHashMap<>();
            if (query != null) {
                for (String pair : query.split("&")) {
                    if (pair.isEmpty()) {
                        continue;
                    }
                    int eq = pair.indexOf('=');
                    values.computeIfAbsent(decoded(eq < 0 ? pair : pair.substring(0, eq)), n -> new ArrayList<>())
                            .add(eq < 0 ? "" : decoded(pair.substring(eq + 1)));
                }
            }
            Map<String, String[]> parameters = new LinkedHashMap<>();
            values.forEach((name, list) -> parameters.put(name, list.toArray(String[]::new)));
            return parameters;
        }

        private static String decoded(String s) {
            try {
                return URLDecoder.decode(s, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException malformed) {
                return s;
            }
        }
    }
}
