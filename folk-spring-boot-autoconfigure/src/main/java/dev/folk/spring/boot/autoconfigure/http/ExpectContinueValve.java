package dev.folk.spring.boot.autoconfigure.http;

import java.io.IOException;

import jakarta.servlet.ServletException;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.ContinueResponseTiming;
import org.springframework.beans.factory.ObjectProvider;

import dev.folk.spring.boot.http.FolkHttpGateway;

/**
 * Answers {@code Expect: 100-continue} on Tomcat as nginx does: {@code 100 Continue} before the
 * request goes on, unless the HTTP gateway will refuse its body unread (a Content-Length over the
 * limit): that client gets the 413 without having been told to send its body. Tomcat's own answer
 * comes before any valve, filter or servlet sees the request, so the connector is set to answer only
 * when the body is read ({@code continueResponseTiming="onRead"}), and this valve answers the
 * others at once. Without it, that setting alone would leave a body read without blocking (the
 * gateway's) waiting for the client to give up waiting for the 100 (curl: one second).
 */
final class ExpectContinueValve extends ValveBase {

    /** Looked up at the first request that expects a 100: the web server is made before the gateway. */
    private final ObjectProvider<FolkHttpGateway> gateway;

    ExpectContinueValve(ObjectProvider<FolkHttpGateway> gateway) {
        super(true);
        this.gateway = gateway;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (request.getCoyoteRequest().hasExpectation()) {
            FolkHttpGateway g = gateway.getIfAvailable();
            if (g != null && g.refusesUnread(request)) {
                request.setAttribute(FolkHttpGateway.CONTINUE_WITHHELD, Boolean.TRUE);
            } else {
                response.sendAcknowledgement(ContinueResponseTiming.ALWAYS);
                // Met: Tomcat's HTTP/2 stream, unlike its HTTP/1.1 processor, would send another 100
                // when the body is first read (the connector's timing, above).
                request.getCoyoteRequest().setExpectation(false);
            }
        }
        getNext().invoke(request, response);
    }
}
