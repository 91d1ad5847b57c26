package dev.folk.spring.boot.http;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.LongAdder;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletMapping;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;

import dev.folk.core.pool.PoolConfig;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.util.DaemonThreads;

/**
 * Serves HTTP requests with PHP: each request under a route's prefix becomes one
 * {@code http.handle} call on the route's pool, and PHP's answer becomes the response, as a
 * FastCGI server and a reverse proxy would do it.
 *
 * <p>A plain servlet, registered beside Spring MVC's {@code DispatcherServlet} for the routes'
 * prefixes (it must be registered with async support): no handler mapping, no message
 * converter, nothing between the container and the pool but this class. No container thread is
 * held while a body arrives or while a call waits for a free worker: a request with a body goes
 * asynchronous and is read without blocking, and a request that finds no idle worker waits with
 * {@code callAsync} (see {@link GatewayExchange}). When a worker is idle, the call runs on the
 * container thread (at most one thread per worker, while PHP works), which spares the hand-offs
 * between threads that cost more than the rest of the gateway.
 *
 * <p>Answers of its own, never a 500: 413 for a body over the route's limit, 502 when PHP
 * crashed, failed or answered something that is no HTTP response (1xx included), 503 with
 * {@code Retry-After} when no worker is free, 504 when PHP did not answer in time, 400 for a body
 * that breaks HTTP's framing (a malformed chunk), 408 when the client did not send its body in
 * time.
 */
public class FolkHttpGateway extends HttpServlet implements SmartLifecycle, DisposableBean {

    private static final long serialVersionUID = 1L;

    /** Beyond the pool's own timeouts, so that the pool, not an exchange's deadline, times a call out. */
    private static final Duration TIMEOUT_MARGIN = Duration.ofSeconds(10);

    /**
     * Request attribute a container integration sets on a request that expects {@code 100 Continue}
     * when it does not send one because {@link #refusesUnread} said so: the client sends no body, so
     * the refusal ends at once instead of reading and dropping the body that would come after a 100.
     */
    public static final String CONTINUE_WITHHELD = FolkHttpGateway.class.getName() + ".continueWithheld";

    /**
     * An answer up to this size is written on the container thread with a plain write: it fits in
     * the socket's send buffer, so the write does not wait for the client. Larger ones are written
     * without blocking, asynchronously.
     */
    private static final int DIRECT_WRITE_MAX = 32 * 1024;

    private final transient List<HttpRoute> routes;
    /** The fallback routes, longest prefix first: served from {@link FallbackFilter}, not from this servlet's patterns. */
    private final transient List<HttpRoute> fallbackRoutes;
    private final transient Map<String, HttpRoute> byPattern;
    private final transient Map<HttpRoute, Long> timeouts;
    private final transient GatewayOptions options;

    /**
     * Times out asynchronous requests: bodies that do not arrive, calls past the pool's timeouts,
     * clients that stop reading a streamed answer. Idle (and its thread gone) while none is pending.
     */
    final transient ScheduledThreadPoolExecutor timer;

    /** Sums up the 503s of an overloaded pool, and what PHP gets wrong on every request, instead of a line each. */
    final transient RepeatedWarnings warnings;

    /** Heap bytes the request bodies being read or waiting for their call hold together (up to options' bodyMemory). */
    private final transient HeldBytes bodyBytes;

    /**
     * Heap bytes the parts of streamed answers waiting for their clients hold together: as much as
     * request bodies may. Each answer holds up to {@link PartSpool#MEMORY_BYTES}, and past this,
     * parts wait in the answer's file, so that many slow clients cannot fill the heap.
     */
    final transient HeldBytes answerBytes;

    /** Requests answered 503 because their body found no room in the body memory. */
    private final transient LongAdder bodiesRefused = new LongAdder();

    /** Each route's answers by status class ({@link #STATUS_CLASSES}), counted as they end. */
    private final transient Map<HttpRoute, Answers> answers;

    /** The status classes counted: 2xx to 5xx (a 1xx is never a final answer of the gateway's). */
    public static final List<String> STATUS_CLASSES = List.of("2xx", "3xx", "4xx", "5xx");

    /** Between the application's start and stop (see {@link #stop()}). */
    private transient volatile boolean running;

    /** Where the request's observation is current while the filter chain runs (Spring Boot's server observation). */
    private final transient ObservationRegistry observations;

    /**
     * @param routes  the routes (distinct prefixes); a request goes to the longest prefix that matches
     * @param options what PHP is told about the server, and how clients are treated
     */
    public FolkHttpGateway(List<HttpRoute> routes, GatewayOptions options) {
        this(routes, options, ObservationRegistry.NOOP);
    }

    /**
     * @param routes       the routes (distinct prefixes); a request goes to the longest prefix that matches
     * @param options      what PHP is told about the server, and how clients are treated
     * @param observations the application's observations: a call made after the request's body was
     *                     read, on another thread, is observed as a child of the request's observation,
     *                     as a call made while the filter chain runs is
     */
    public FolkHttpGateway(List<HttpRoute> routes, GatewayOptions options, ObservationRegistry observations) {
        this.observations = observations;
        if (routes.isEmpty()) {
            throw new IllegalArgumentException("The HTTP gateway needs at least one route");
        }
        this.routes = new ArrayList<>(routes);
        this.routes.sort(Comparator.comparingInt((HttpRoute r) -> r.prefix().length()).reversed());
        this.byPattern = new HashMap<>();
        this.timeouts = new IdentityHashMap<>(); // a record's hashCode would hash every field per request
        for (HttpRoute r : this.routes) {
            if (byPattern.putIfAbsent(r.servletPattern(), r) != null) {
                throw new IllegalArgumentException("Two routes have the prefix '" + r.prefix() + "'");
            }
            if (r.fallback()) {
                byPattern.remove(r.servletPattern()); // the container never maps a request to it for this route
            }
            PoolConfig c = r.pool().config();
            timeouts.put(r, options.bodyTimeout().plus(c.acquireTimeout()).plus(c.execTimeout())
                    .plus(TIMEOUT_MARGIN).toMillis());
        }
        this.fallbackRoutes = this.routes.stream().filter(HttpRoute::fallback).toList();
        this.answers = new IdentityHashMap<>();
        for (HttpRoute r : this.routes) {
            answers.put(r, new Answers());
        }
        this.options = options;
        this.bodyBytes = new HeldBytes(options.bodyMemory());
        this.answerBytes = new HeldBytes(options.bodyMemory());
        this.timer = new ScheduledThreadPoolExecutor(1, DaemonThreads.named("folk-http-timer"));
        timer.setRemoveOnCancelPolicy(true);
        // Its one thread starts now and stays: every request's deadline is scheduled here, after the
        // request went asynchronous, and a thread that could not be started then (the limit on the
        // JVM's threads and processes reached) would leave that request with no end.
        timer.prestartCoreThread();
        this.warnings = new RepeatedWarnings(timer, RepeatedWarnings.DEFAULT_INTERVAL);
    }

    /** The routes, longest prefix first. */
    public List<HttpRoute> routes() {
        return List.copyOf(routes);
    }

    public GatewayOptions options() {
        return options;
    }

    /**
     * The servlet URL patterns to register this servlet for: one per route, fallback routes excepted
     * (their requests reach Spring MVC's servlet, and {@link FallbackFilter} answers PHP's of them).
     */
    public String[] servletPatterns() {
        return routes.stream().filter(r -> !r.fallback()).map(HttpRoute::servletPattern).toArray(String[]::new);
    }

    /** The fallback routes, longest prefix first (none unless configured). */
    public List<HttpRoute> fallbackRoutes() {
        return fallbackRoutes;
    }

    /** The fallback route whose prefix is the longest to cover the request's path, or null. */
    @Nullable HttpRoute fallbackRoute(HttpServletRequest request) {
        return fallbackRoutes.isEmpty() ? null : covering(fallbackRoutes, path(request));
    }

    /**
     * Whether the gateway refuses this request's body before reading a byte of it: a request mapped
     * to it whose Content-Length is over its route's max-body-size or over all the memory for bodies
     * (413). A container that answers {@code Expect: 100-continue} itself should not tell such a
     * client to send its body (nginx does not), and then sets {@link #CONTINUE_WITHHELD}; false for
     * a request that is not the gateway's.
     */
    public boolean refusesUnread(HttpServletRequest request) {
        HttpServletMapping mapping = request.getHttpServletMapping();
        HttpRoute route = mapping == null ? null : byPattern.get(mapping.getPattern());
        long length = request.getContentLengthLong();
        return route != null && (length > route.maxBodySize() || length > options.bodyMemory());
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (request.getDispatcherType() == DispatcherType.ASYNC) {
            // Only a streamed answer that failed dispatches: thrown, the container cuts the connection.
            if (request.getAttribute(DirectStream.CUT) instanceof IOException cut) {
                throw cut;
            }
            return;
        }
        if (request.getDispatcherType() == DispatcherType.ERROR) {
            containerError(response);
            return;
        }
        serve(request, response, route(request));
    }

    /**
     * The servlet container's error page, which a mapping of every path covers ({@code server.error.path},
     * {@code /error}): the container sends there a request it refused itself (more cookies than it takes)
     * and one a filter ended with {@code sendError()} (Spring Security's 401 and 403). Not a request for
     * PHP, which would answer a GET of the error page, with its 200, in place of the error: the status
     * and the headers set for it stay (WWW-Authenticate), with a short text, as the gateway's own
     * answers have.
     */
    private static void containerError(HttpServletResponse response) throws IOException {
        if (response.isCommitted()) {
            return;
        }
        int status = response.getStatus();
        GatewayReply reply = GatewayReply.text(status, "The request was refused (" + status + ").");
        GatewayExchange.head(response, reply);
        response.getOutputStream().write(reply.body());
    }

    /** Answers a request (not an asynchronous dispatch) of {@code route}, and counts its answer. */
    void serve(HttpServletRequest request, HttpServletResponse response, HttpRoute route) throws IOException {
        try {
            answer(request, response, route);
        } finally {
            Answers counted = answers.get(route);
            if (counted != null) { // every route of this gateway's has its counts (constructor)
                counted.countWhenEnded(request, response);
            }
        }
    }

    private void answer(HttpServletRequest request, HttpServletResponse response, HttpRoute route) throws IOException {
        if (StaticFiles.serve(request, response, route)) {
            return; // a file of the application's public directory, as nginx would have answered it
        }
        long length = request.getContentLengthLong();
        String uri = PhpRequest.uri(request);
        String line = request.getMethod() + ' ' + uri;
        String label = line.length() > 300 ? line.substring(0, 300) + "..." : line;
        if (length > route.maxBodySize()) {
            // Known before a byte of the body is read: answered now, what the client sends of it dropped.
            new GatewayExchange(request, response, route, this, uri, label).refuseTooLarge(length);
            return;
        }
        if (PhpRequest.hasBody(request, length)) {
            new GatewayExchange(request, response, route, this, uri, label).readBody(length);
            return;
        }
        Object params = PhpRequest.params(request, route, options, uri, null, PhpRequest.SignedIn.of(request));
        if (request.getProtocol().startsWith("HTTP/2")) {
            // Through the exchange's non-blocking writes, on a pool thread, as a request that waits for a
            // worker: a streamed answer's blocking writes from a writer thread (DirectStream), when the
            // client reset the stream (a cancelled download), left Tomcat 11 a buffered write whose failed
            // flush it took for an error of the whole connection (GOAWAY: every other stream of the client
            // failed with it). Not on this thread: the container writes nothing of a streamed answer
            // before this dispatch returns.
            new GatewayExchange(request, response, route, this, uri, label).call(params, false);
            return;
        }
        // A worker idle now: call on this thread and answer at once, no hand-off between threads.
        DirectStream stream = new DirectStream(request, response, route.pool().name(), label, this);
        GatewayReply now;
        try {
            Object result = route.pool().tryCall("http.handle", params, label, stream);
            if (stream.started()) {
                stream.end(result, null);
                return;
            }
            GatewayReply malformed = stream.malformed();
            now = result == WorkerPool.NOT_CALLED ? null : malformed != null ? malformed
                    : GatewayReply.fromPhp(result, route.pool().name(), stream.pid(), label, PhpRequest.isHead(request),
                    options, warnings);
        } catch (RuntimeException | OutOfMemoryError e) { // no heap for a large frame: answered, the JVM goes on
            if (stream.started()) {
                stream.end(null, e);
                return;
            }
            now = GatewayReply.fromFailure(e, options, label, warnings);
        }
        if (now != null && now.body().length <= DIRECT_WRITE_MAX) {
            GatewayExchange.head(response, now);
            response.getOutputStream().write(now.body());
            GatewayExchange.commitLengthless(request, response, now);
            return;
        }
        GatewayExchange exchange = new GatewayExchange(request, response, route, this, uri, label);
        if (now != null) {
            exchange.respondToCall(now); // a large answer goes out without blocking
        } else {
            exchange.call(params, false); // no worker idle: wait for one without holding this thread
        }
    }

    /**
     * The container destroys the servlet when it stops, and Spring the bean when the application
     * closes (the servlet is not registered when every route is a fallback one): the second call
     * finds nothing left to do.
     */
    @Override
    public void destroy() {
        warnings.flush(); // the summaries due later would go with the timer
        timer.shutdownNow();
        super.destroy();
    }

    /** Nothing to start: the container starts the servlet. Running until the application stops. */
    @Override
    public void start() {
        running = true;
    }

    /**
     * The application stops or pauses (its web server stopped or about to): the repeated warnings
     * counted so far are summed up now, not ten seconds after the requests they count.
     */
    @Override
    public void stop() {
        running = false;
        warnings.flush();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /**
     * Counts {@code bytes} more of request bodies in the heap, if that stays within the options'
     * {@code bodyMemory}; false (nothing counted) if it would not.
     */
    boolean reserveBody(long bytes) {
        return bodyBytes.reserve(bytes);
    }

    /** Gives back what {@link #reserveBody} counted. */
    void releaseBody(long bytes) {
        bodyBytes.release(bytes);
    }

    /** Heap bytes request bodies hold now (being read, or waiting with their call for a worker). */
    public long bodyBytes() {
        return bodyBytes.held();
    }

    /** Heap bytes that parts of streamed answers hold now, waiting for their clients to take them. */
    public long answerBytes() {
        return answerBytes.held();
    }

    /** A request was answered 503 because its body found no room. */
    void bodyRefused() {
        bodiesRefused.increment();
    }

    /** Requests answered 503 so far because their body found no room in the body memory. */
    public long bodiesRefused() {
        return bodiesRefused.sum();
    }

    /** The answers of {@code route} so far whose status is of {@code statusClass} (one of {@link #STATUS_CLASSES}). */
    public long answered(HttpRoute route, String statusClass) {
        Answers a = answers.get(route);
        int i = STATUS_CLASSES.indexOf(statusClass);
        return a == null || i < 0 ? 0 : a.byClass[i].sum();
    }

    /**
     * A route's answers by status class. A request answered on the container thread is counted when
     * the gateway returns; one that went asynchronous, when it completes (its status final then).
     */
    private static final class Answers implements AsyncListener {

        final LongAdder[] byClass = new LongAdder[STATUS_CLASSES.size()];

        Answers() {
            for (int i = 0; i < byClass.length; i++) {
                byClass[i] = new LongAdder();
            }
        }

        void countWhenEnded(HttpServletRequest request, HttpServletResponse response) {
            if (request.isAsyncStarted()) {
                try {
                    // Within the dispatch that started it: allowed, and heard even if another thread completed it already.
                    request.getAsyncContext().addListener(this);
                    return;
                } catch (IllegalStateException over) {
                    // ended meanwhile: counted with the status it has
                }
            }
            count(response.getStatus());
        }

        void count(int status) {
            int i = status / 100 - 2;
            if (i >= 0 && i < byClass.length) {
                byClass[i].increment();
            }
        }

        @Override
        public void onComplete(AsyncEvent event) {
            ServletResponse response = event.getSuppliedResponse();
            if (response == null) { // started without one (a public file's copy): the context's
                try {
                    response = event.getAsyncContext().getResponse();
                } catch (IllegalStateException recycled) {
                    return; // a container that let the response go first: not counted, nothing thrown at it
                }
            }
            if (response instanceof HttpServletResponse http) {
                count(http.getStatus());
            }
        }

        @Override
        public void onTimeout(AsyncEvent event) {
        }

        @Override
        public void onError(AsyncEvent event) {
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
        }
    }

    /** The request's observation, on the thread the filter chain runs on; null if none. */
    @Nullable Observation currentObservation() {
        return observations.getCurrentObservation();
    }

    /** How long an asynchronous request of {@code route} may last: its body, its wait and its call, with a margin. */
    long timeoutMillis(HttpRoute route) {
        return timeouts.getOrDefault(route, 0L); // every route has one (constructor)
    }

    private HttpRoute route(HttpServletRequest request) {
        HttpServletMapping mapping = request.getHttpServletMapping();
        HttpRoute route = mapping == null ? null : byPattern.get(mapping.getPattern());
        if (route != null) {
            return route;
        }
        // Registered under other patterns by the application: the longest prefix of the decoded path.
        route = covering(routes, path(request));
        return route != null ? route : routes.get(routes.size() - 1);
    }

    /** The first of {@code routes} (longest prefix first) whose prefix covers {@code path}, or null. */
    private static @Nullable HttpRoute covering(List<HttpRoute> routes, String path) {
        for (HttpRoute r : routes) {
            if (r.covers(path)) {
                return r;
            }
        }
        return null;
    }

    /** The request's decoded path within the application, as the servlet container mapped it. */
    private static String path(HttpServletRequest request) {
        String pathInfo = request.getPathInfo();
        return pathInfo == null ? request.getServletPath() : request.getServletPath() + pathInfo;
    }
}
