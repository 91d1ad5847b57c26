package dev.folk.spring.boot.http;

import java.io.IOException;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Serves the gateway's fallback routes: registered for their prefixes (for requests and
 * asynchronous dispatches), it answers with PHP the requests {@link FallbackRouting} gives PHP, and
 * passes every other one on down the chain, to the application. The filters ordered after it do not
 * run for PHP's requests, as with the gateway's own filter.
 *
 * <p>Its requests are mapped by the servlet container to Spring MVC's servlet, not the gateway's, so
 * the asynchronous dispatches of the requests it answered come back here, to the gateway.
 */
public final class FallbackFilter implements Filter {

    private final FallbackRouting routing;

    public FallbackFilter(FallbackRouting routing) {
        this.routing = routing;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request instanceof HttpServletRequest http && response instanceof HttpServletResponse httpResponse) {
            if (request.getDispatcherType() == DispatcherType.ASYNC) {
                if (routing.gavePhp(http)) {
                    routing.gateway().service(http, httpResponse);
                    return;
                }
            } else {
                HttpRoute route = routing.route(http);
                if (route != null) {
                    routing.gateway().serve(http, httpResponse, route);
                    return;
                }
            }
        }
        chain.doFilter(request, response);
    }
}
