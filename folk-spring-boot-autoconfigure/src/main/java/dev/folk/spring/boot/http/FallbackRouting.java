package dev.folk.spring.boot.http;

import java.util.function.Predicate;

import jakarta.servlet.http.HttpServletRequest;

import org.jspecify.annotations.Nullable;

/**
 * Which requests of the gateway's fallback routes PHP answers: those under a fallback route's
 * prefix that nothing of the application serves. The application decides first (with Spring MVC:
 * a handler of its controllers, functional routes or actuator endpoints, or a servlet of its own);
 * PHP gets what would otherwise be a 404. That is how an existing PHP application goes behind a
 * Spring service whole, and moves to Spring route by route.
 *
 * <p>The answer is kept on the request, so that the filters that must know it (the gateway's, and
 * the form filter that must leave PHP's bodies unread) look it up once.
 */
public final class FallbackRouting {

    /** Request attribute holding the decision: the route, or {@link #APPLICATIONS} when the application serves it. */
    private static final String DECISION = FallbackRouting.class.getName() + ".decision";

    /** The decision for a request the application serves (or no fallback route covers). */
    private static final Object APPLICATIONS = new Object();

    private final FolkHttpGateway gateway;
    private final Predicate<HttpServletRequest> applicationServes;

    /**
     * @param gateway           the gateway whose fallback routes these are
     * @param applicationServes whether the application serves a request (asked only for the requests
     *                          a fallback route covers)
     */
    public FallbackRouting(FolkHttpGateway gateway, Predicate<HttpServletRequest> applicationServes) {
        this.gateway = gateway;
        this.applicationServes = applicationServes;
    }

    /** The gateway. */
    public FolkHttpGateway gateway() {
        return gateway;
    }

    /** The fallback route that answers {@code request} with PHP, or null when the application serves it. */
    public @Nullable HttpRoute route(HttpServletRequest request) {
        Object decision = request.getAttribute(DECISION);
        if (decision == null) {
            HttpRoute route = gateway.fallbackRoute(request);
            decision = route == null || applicationServes.test(request) ? APPLICATIONS : route;
            request.setAttribute(DECISION, decision);
        }
        return decision instanceof HttpRoute route ? route : null;
    }

    /** Whether {@link #route} gave the request to PHP (read again at its asynchronous dispatches). */
    boolean gavePhp(HttpServletRequest request) {
        return request.getAttribute(DECISION) instanceof HttpRoute;
    }
}
