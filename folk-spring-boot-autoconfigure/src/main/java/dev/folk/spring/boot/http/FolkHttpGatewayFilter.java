package dev.folk.spring.boot.http;

import java.io.IOException;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletMapping;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The gateway served from a servlet filter, so that the filters ordered after it do not run for
 * PHP's requests: a request the container mapped to the gateway's servlet is answered here, and
 * the rest of the chain (Spring Boot's observation, request context, character encoding and form
 * filters when ordered first; any filter after it) is skipped. Every other request goes on down
 * the chain untouched. Filters ordered before it (Spring Security's must be: the auto-configuration
 * refuses an order that would skip it) still run.
 */
public final class FolkHttpGatewayFilter implements Filter {

    private final FolkHttpGateway gateway;
    private final String servletName;

    /**
     * @param gateway     the gateway
     * @param servletName the name its servlet is registered under (the requests to answer here)
     */
    public FolkHttpGatewayFilter(FolkHttpGateway gateway, String servletName) {
        this.gateway = gateway;
        this.servletName = servletName;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request instanceof HttpServletRequest http && response instanceof HttpServletResponse httpResponse) {
            HttpServletMapping mapping = http.getHttpServletMapping();
            if (mapping != null && servletName.equals(mapping.getServletName())) {
                gateway.service(http, httpResponse);
                return;
            }
        }
        chain.doFilter(request, response);
    }
}
