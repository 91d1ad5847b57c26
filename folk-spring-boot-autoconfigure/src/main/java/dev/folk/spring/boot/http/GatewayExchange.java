package dev.folk.spring.boot.http;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import io.micrometer.observation.Observation;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.pool.CallParts;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.protocol.Values;
import dev.folk.core.util.Durations;

/**
 * One request through the gateway, from the moment it went asynchronous: reads the body without
 * blocking (a slow client holds no thread), calls PHP on the container thread if a worker is idle
 * or else with {@code callAsync} (waiting for a worker holds no thread), then writes the answer
 * without blocking (a client that does not read holds no thread either) and completes. A streamed
 * answer's parts are written as the connection takes them, and held for a slow client meanwhile
 * ({@link PartSpool}: memory, then a temporary file), so that the worker is free once PHP has
 * answered, as PHP-FPM's is behind nginx.
 *
 * <p>Callbacks come from container threads (reads, writes, timeout, errors) and from the pool's
 * thread (PHP's parts and answer); the response side is guarded by this object's lock, and
 * whichever comes first decides the answer.
 */
final class GatewayExchange implements ReadListener, WriteListener, AsyncListener, CallParts {

    private static final Logger log = LoggerFactory.getLogger(GatewayExchange.class);

    /** First buffer for a body of unknown length; it doubles up to the limit. */
    private static final int INITIAL_BUFFER = 16 * 1024;

    /**
     * How long the rest of a body refused while it arrived (413, 503) is read and dropped after the
     * answer, at most, before the connection is closed: closed with unread bytes, it would be reset,
     * and the client would lose the answer before reading it (nginx's lingering close, lingering_time).
     */
    private static final long LINGER_MILLIS = 10_000;

    /** Lingering ends sooner when nothing arrives for this long (nginx's lingering_timeout). */
    private static final long LINGER_IDLE_MILLIS = 2_000;

    private final HttpServletRequest request;
    private final HttpServletResponse response;
    private final HttpRoute route;
    private final GatewayOptions options;
    private final String uri;
    private final String label;
    private final AsyncContext async;
    private final ServletOutputStream out;
    private final ScheduledExecutorService timer;
    private final RepeatedWarnings warnings;
    private final FolkHttpGateway gateway;
    /** Ends a request that outlives the pool's own timeouts, or a streamed answer's client that stopped reading. */
    private ScheduledFuture<?> deadline;

    // Body, touched by container threads only (ReadListener callbacks come one at a time).
    private @Nullable ServletInputStream in;
    private byte @Nullable [] buffer;
    private int length;
    private long expected;
    /** Who the request was authenticated as, taken in {@link #readBody} while the filter chain ran. */
    private PhpRequest.@Nullable SignedIn signedIn;
    /** The request's observation, taken in {@link #readBody}: the parent of the call's. */
    private @Nullable Observation observation;
    /** Answers 408 once the body paused for body-timeout. Under the lock once reading began. */
    private @Nullable ScheduledFuture<?> bodyTimer;
    /**
     * When the body last made progress (nanoTime): body-timeout counts from here, the time between
     * two reads as nginx's client_body_timeout counts it, not the whole upload's.
     */
    private volatile long bodyProgressNanos;
    /** Bytes of the body's buffer counted in the gateway's body memory, until the call no longer needs them. Under the lock. */
    private long counted;
    /** The body was refused while it arrived: its rest is read and dropped (see {@link #LINGER_MILLIS}). Under the lock. */
    private boolean lingering;
    /** The whole body arrived, or lingering is over: the answer may end the request. Under the lock. */
    private boolean bodyOver;
    /** When lingering began, and when a dropped byte last arrived (nanoTime). Under the lock. */
    private long lingerStart;
    private long lingerRead;

    // Response side, under the lock.
    private boolean calling;
    private @Nullable GatewayReply reply;
    private boolean written;
    private boolean done;
    // A streamed answer (docs/PROTOCOL.md, "Streamed answers"): its head is the reply, its body parts wait here.
    private boolean streaming;
    private @Nullable PartSpool parts;
    private boolean streamEnded;
    private long sent;
    private long sentAtLastCheck;
    /** The worker the call went to (0 until the pool says), for the log lines of its answer. */
    private volatile int pid;

    /**
     * Takes the request asynchronous. Its time is kept here, not by the container (whose timeout
     * cannot be extended once set): the gateway's timeout for the route from now, the request is
     * ended (408, 504), unless it is a streamed answer whose call is over and whose client still reads.
     */
    GatewayExchange(HttpServletRequest request, HttpServletResponse response, HttpRoute route, FolkHttpGateway gateway,
                    String uri, String label) throws IOException {
        this.request = request;
        this.response = response;
        this.route = route;
        this.options = gateway.options();
        this.uri = uri;
        this.label = label;
        this.timer = gateway.timer;
        this.warnings = gateway.warnings;
        this.gateway = gateway;
        this.async = request.startAsync(request, response);
        async.setTimeout(0);
        async.addListener(this);
        this.out = response.getOutputStream();
        if (!PhpRequest.isHead(request) || request.getProtocol().startsWith("HTTP/1.")) {
            // A HEAD answer over HTTP/2 is its head alone, written blocking: with a write listener,
            // Tomcat's first write-possible dispatch ends the stream with an empty DATA frame before
            // any HEADERS, which the client takes as a connection error (every stream on it lost).
            out.setWriteListener(this);
        }
        this.deadline = timer.schedule(this::timedOut, gateway.timeoutMillis(route), TimeUnit.MILLISECONDS);
    }

    /**
     * Reads the body (of {@code contentLength} bytes, or -1 if unknown), then calls PHP; a body
     * that pauses for the options' body timeout is answered 408.
     */
    void readBody(long contentLength) throws IOException {
        this.expected = contentLength;
        this.signedIn = PhpRequest.SignedIn.of(request);
        this.observation = gateway.currentObservation();
        this.bodyProgressNanos = System.nanoTime();
        synchronized (this) {
            this.bodyTimer = timer.schedule(this::bodyLate, options.bodyTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        int first = Math.max(contentLength >= 0 ? (int) Math.min(contentLength, INITIAL_BUFFER) : INITIAL_BUFFER, 1);
        boolean fits = contentLength <= options.bodyMemory();
        boolean room = fits && reserve(first);
        this.buffer = room ? new byte[first] : null;
        if (!fits) {
            overMemory();
        } else if (!room) {
            noRoom();
        } else {
            this.in = request.getInputStream();
            in.setReadListener(this);
        }
    }

    @Override
    @SuppressWarnings("NullAway") // a ReadListener: set by readBody with in and buffer, or by a lingering refusal, which drops
    public void onDataAvailable() throws IOException {
        if (isLingering()) {
            dropRest();
            return;
        }
        while (in.isReady()) {
            if (length == buffer.length) {
                long cap = expected >= 0 ? expected : route.maxBodySize() + 1;
                if (length >= cap) {
                    // Content-Length reached: the container reports the end next, or, without one, the limit is passed.
                    if (expected < 0) {
                        tooLarge();
                        return;
                    }
                    int extra = in.read();
                    if (extra != -1) {
                        tooLarge();
                        return;
                    }
                    break;
                }
                long most = Math.min(cap, options.bodyMemory());
                if (buffer.length >= most) {
                    overMemory(); // as large as all the memory for bodies, and not done
                    return;
                }
                int grown = (int) Math.min(most, Math.max(2L * buffer.length, INITIAL_BUFFER));
                if (!reserve(grown - buffer.length)) {
                    noRoom();
                    return;
                }
                buffer = Arrays.copyOf(buffer, grown);
            }
            int n = in.read(buffer, length, buffer.length - length);
            if (n < 0) {
                break;
            }
            length += n;
            if (n > 0) {
                bodyProgressNanos = System.nanoTime(); // after length: the timer thread reads this first, then length
            }
            if (length > route.maxBodySize()) {
                tooLarge();
                return;
            }
        }
    }

    /**
     * Answers 413 to a body whose Content-Length ({@code length}) is over the route's limit, before
     * a byte of it is read, then drops what the client sends of it anyway, as {@link #refuse} does.
     */
    void refuseTooLarge(long length) throws IOException {
        refused(RepeatedWarnings.Kind.BODY_TOO_LARGE, "(Content-Length " + length + ") is over max-body-size ("
                + route.maxBodySize() + " bytes): 413");
        refuse(GatewayReply.text(413, "Request body of " + length + " bytes is over the " + route.maxBodySize()
                + "-byte limit."));
    }

    /**
     * Answers a body refused while it arrives, then reads and drops its rest until it ends or for
     * {@link #LINGER_MILLIS} (HTTP/1.x; an HTTP/2 stream's unread body is reset by the container;
     * and not when the container withheld the {@code 100 Continue} the client waits for before it
     * sends the body, {@link FolkHttpGateway#CONTINUE_WITHHELD}). A body refused before a byte of it
     * was read is read only once the answer is written: a container that sends {@code 100 Continue}
     * when a body is first read (Jetty) then sends none. Runs on the container thread reading the body.
     */
    private void refuse(GatewayReply answer) throws IOException {
        boolean linger = request.getProtocol().startsWith("HTTP/1.")
                && request.getAttribute(FolkHttpGateway.CONTINUE_WITHHELD) == null;
        synchronized (this) {
            if (done || reply != null) {
                return;
            }
            uncount(); // what the body held is not needed any more
            buffer = null;
            lingering = linger;
            if (linger) {
                lingerStart = System.nanoTime();
                lingerRead = lingerStart;
                timer.schedule(this::lingerCheck, LINGER_IDLE_MILLIS, TimeUnit.MILLISECONDS);
            }
        }
        respond(answer);
        if (linger) {
            if (in == null) { // refused unread
                this.in = request.getInputStream();
                in.setReadListener(this);
            }
            dropRest();
        }
    }

    private void tooLarge() throws IOException {
        refused(RepeatedWarnings.Kind.BODY_TOO_LARGE, "is over max-body-size (" + route.maxBodySize() + " bytes): 413");
        refuse(GatewayReply.text(413, "Request body is over the " + route.maxBodySize() + "-byte limit."));
    }

    /**
     * Whether a read failed because the client closed or reset its connection (an end of stream
     * inside the body: Tomcat's ClientAbortException and Jetty's EofException carry one), or the
     * container closed it (Tomcat's HTTP/2 overhead protection: a ClosedChannelException), not
     * because what it sent is malformed.
     */
    static boolean wentAway(Throwable t) {
        return anyCause(t, c -> c instanceof java.io.EOFException || c instanceof java.nio.channels.ClosedChannelException
                || c instanceof IOException && (String.valueOf(c.getMessage()).contains("Connection reset")
                        || String.valueOf(c.getMessage()).contains("Broken pipe")));
    }

    /** Whether {@code t} or one of its causes is {@code what}. */
    private static boolean anyCause(Throwable t, java.util.function.Predicate<Throwable> what) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (what.test(c)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a read failed because the container stopped waiting for the body: Tomcat's HTTP/2
     * stream read timeout (20 s by default), which ends a paused upload before the gateway's own
     * body-timeout does. The client is slow, not wrong: 408, as for body-timeout.
     */
    static boolean readTimedOut(Throwable t) {
        return anyCause(t, c -> c instanceof java.net.SocketTimeoutException
                || c instanceof java.util.concurrent.TimeoutException);
    }

    /** Warns, as one of an episode ({@link RepeatedWarnings}), that the body of this request was refused: {@code why}. */
    private void refused(RepeatedWarnings.Kind kind, String why) {
        warnings.refused(kind, route.pool().name(), "Pool '" + route.pool().name() + "': the request body of " + label
                + ' ' + why, label);
    }

    /** The body paused for body-timeout: 408, unless its call began; else it is checked again when it could have. */
    private void bodyLate() {
        long timeout = options.bodyTimeout().toNanos();
        long idle = System.nanoTime() - bodyProgressNanos;
        synchronized (this) {
            if (calling || done || reply != null) {
                return;
            }
            if (idle < timeout) {
                bodyTimer = timer.schedule(this::bodyLate, timeout - idle, TimeUnit.NANOSECONDS);
                return;
            }
            // The body is given up: its memory goes back now, not only once the container reports the
            // request complete. Over HTTP/2 a stream the client broke (past its flow-control window, then
            // reset) may never complete, and its count would be lost to every later body.
            uncount();
        }
        late();
        respond(GatewayReply.text(408, "The request body did not arrive in time."));
    }

    /** Warns that the body paused for the body timeout (the 408 follows). */
    private void late() {
        refused(RepeatedWarnings.Kind.BODY_LATE, "paused for folk.http.body-timeout (" + Durations.text(options.bodyTimeout())
                + ") after " + length + (expected >= 0 ? " of " + expected : "") + " bytes: 408");
    }

    /** Whether the body is being read and has made progress within body-timeout. */
    private boolean bodyArriving() {
        return bodyTimer != null && System.nanoTime() - bodyProgressNanos < options.bodyTimeout().toNanos();
    }

    private synchronized boolean isLingering() {
        return lingering;
    }

    /** Reads what has arrived of a refused body into nothing; ends the request once the body ended. */
    private void dropRest() throws IOException {
        ServletInputStream input = in;
        if (input == null) {
            return;
        }
        byte[] scratch = new byte[8192];
        boolean read = false;
        while (input.isReady()) {
            if (input.read(scratch) < 0) {
                break;
            }
            read = true;
        }
        if (input.isFinished()) {
            lingerOver();
        } else if (read) {
            synchronized (this) {
                lingerRead = System.nanoTime();
            }
        }
    }

    /** Ends lingering once nothing arrived for {@link #LINGER_IDLE_MILLIS}, or after {@link #LINGER_MILLIS} in all. */
    private void lingerCheck() {
        long next;
        synchronized (this) {
            if (bodyOver || done) {
                return;
            }
            long now = System.nanoTime();
            long idleLeft = LINGER_IDLE_MILLIS - TimeUnit.NANOSECONDS.toMillis(now - lingerRead);
            long totalLeft = LINGER_MILLIS - TimeUnit.NANOSECONDS.toMillis(now - lingerStart);
            next = Math.min(idleLeft, totalLeft);
        }
        if (next <= 0) {
            lingerOver();
        } else {
            timer.schedule(this::lingerCheck, next, TimeUnit.MILLISECONDS);
        }
    }

    /** The refused body ended, or lingering is over: the request ends once its answer is out. */
    private void lingerOver() {
        synchronized (this) {
            bodyOver = true;
            if (written && !done && !streaming && out.isReady()) {
                finish();
            }
        }
    }

    /** Counts {@code bytes} more of this body in the gateway's body memory; false if there is no room, or the exchange ended. */
    private synchronized boolean reserve(int bytes) {
        if (!done && gateway.reserveBody(bytes)) {
            counted += bytes;
            return true;
        }
        return false;
    }

    /** A body the gateway's body memory has no room for: 503, and its rest dropped. */
    private void noRoom() throws IOException {
        synchronized (this) {
            if (done) {
                return; // ended meanwhile (timed out, client gone): nobody to answer
            }
        }
        gateway.bodyRefused();
        warnings.bodyMemory(route.pool().name(), "Request body of " + label + " answered 503: the request bodies in the heap"
                + " already hold folk.http.body-memory (" + options.bodyMemory() + " bytes)", label);
        refuse(GatewayReply.noRoomForBody(options));
    }

    /**
     * A body larger than all the memory for bodies ({@code body-memory} below {@code max-body-size},
     * which start-up warns of): it could never be taken, so 413, not a 503 that asks to try again.
     */
    private void overMemory() throws IOException {
        refused(RepeatedWarnings.Kind.BODY_TOO_LARGE, "is over folk.http.body-memory (" + options.bodyMemory()
                + " bytes), all the heap the gateway keeps for request bodies: 413");
        refuse(GatewayReply.text(413, "Request body is over the " + options.bodyMemory()
                + " bytes this server keeps for request bodies."));
    }

    /** Under the lock: the body is no longer needed (its call ended, or the exchange did); its memory is given back. */
    private void uncount() {
        if (counted > 0) {
            gateway.releaseBody(counted);
            counted = 0;
        }
    }

    @Override
    @SuppressWarnings("NullAway") // a ReadListener: the container calls it only after readBody set the timer and buffer
    public void onAllDataRead() {
        synchronized (this) {
            if (bodyTimer != null) {
                bodyTimer.cancel(false); // none for a body refused unread
            }
            if (lingering) {
                lingerOver();
                return;
            }
            if (reply != null || done) {
                return;
            }
            // A long upload (body-timeout counts pauses, not the whole body) left less than the call's
            // own time: the call gets it, as one without a body would.
            long callMillis = gateway.timeoutMillis(route) - options.bodyTimeout().toMillis();
            if (deadline.getDelay(TimeUnit.MILLISECONDS) < callMillis) {
                deadline.cancel(false);
                deadline = timer.schedule(this::timedOut, callMillis, TimeUnit.MILLISECONDS);
            }
        }
        call(length == buffer.length ? buffer : Arrays.copyOf(buffer, length));
    }

    /**
     * Sends the body's request to PHP (see {@link #call(Object, boolean)}). Runs on a container
     * thread after the filter chain returned: the request's observation is made current again, so
     * that the call's observation (and the trace context PHP gets) is its child.
     */
    private void call(byte[] body) {
        Map<String, Object> params = PhpRequest.params(request, route, options, uri, body, signedIn);
        Observation parent = observation;
        if (parent == null) {
            call(params, true);
            return;
        }
        try (Observation.Scope scope = parent.openScope()) {
            call(params, true);
        }
    }

    /**
     * Sends the request to PHP: on this (container) thread if a worker is idle and {@code now}
     * (holding it only while PHP works, so at most one thread per worker), else with
     * {@code callAsync}, whose parts and answer come on a pool thread.
     */
    void call(Object params, boolean now) {
        synchronized (this) {
            if (reply != null || done) {
                return;
            }
            calling = true;
        }
        if (now) {
            try {
                Object result = route.pool().tryCall("http.handle", params, label, this);
                if (result != WorkerPool.NOT_CALLED) {
                    answered(result, null);
                    return;
                }
            } catch (RuntimeException | OutOfMemoryError e) { // no heap for a large frame: answered, the JVM goes on
                answered(null, e);
                return;
            }
        }
        route.pool().callAsync("http.handle", params, label, this).whenComplete(this::answered);
    }

    /** The call's end: PHP's answer, or the rest of its streamed answer. */
    void answered(@Nullable Object result, @Nullable Throwable error) {
        synchronized (this) {
            uncount();
            buffer = null; // read to the end before the call: the heap can have it back while the answer goes out
            if (streaming) {
                endStream(result, error);
                return;
            }
        }
        respond(error == null ? GatewayReply.fromPhp(result, route.pool().name(), pid, label, PhpRequest.isHead(request), options,
                warnings)
                : GatewayReply.fromFailure(error, options, label, warnings));
    }

    /** The worker the call went to, told by the pool before it sends the request. */
    @Override
    public void worker(int pid) {
        this.pid = pid;
    }

    /**
     * A part of a streamed answer, on the thread running the call: the head becomes the reply,
     * body parts are written as the connection takes them and held meanwhile; never waits.
     */
    @Override
    public void part(String method, @Nullable Object params) {
        synchronized (this) {
            if (done) {
                return; // the client is gone or timed out: the worker finishes into nothing
            }
            try {
                if ("http.head".equals(method) && reply == null && !streaming) {
                    GatewayReply head = GatewayReply.headOfStream(params, route.pool().name(), pid, label, options, warnings);
                    reply = head;
                    streaming = !head.own(); // a malformed head: its 502 is the whole answer
                    if (out.isReady()) {
                        write();
                    }
                } else if ("http.body".equals(method) && streaming && !streamEnded) {
                    hold(Values.asBytes(params));
                    if (written && !done) {
                        drain();
                    }
                } else if ("http.end".equals(method) && streaming && !streamEnded) {
                    endOfAnswer(PhpRequest.NO_BODY); // fastcgi_finish_request(): the script goes on, the client has its answer
                } else if (reply == null && ("http.body".equals(method) || "http.end".equals(method))) {
                    reply = GatewayReply.partBeforeHead(method, route.pool().name(), pid, label);
                    if (out.isReady()) {
                        write();
                    }
                } else if ("http.head".equals(method) && streaming && !streamEnded) {
                    cut(new IOException("PHP sent a second head ('http.head') for it; the first had gone out"));
                } else {
                    log.debug("Pool '{}' sent part '{}' for {} out of order; dropped", route.pool().name(), method, label);
                }
            } catch (IOException | RuntimeException e) {
                abandon(e);
            }
        }
    }

    /** Nothing PHP sends goes out any more, while PHP still prints: its client is gone or timed out, or the answer was cut. */
    @Override
    public synchronized boolean abandoned() {
        return done && !streamEnded;
    }

    /** Under the lock: holds body bytes until the connection takes them; cuts the answer if they cannot be held. */
    private void hold(byte[] bytes) {
        PartSpool p = parts;
        if (p == null) {
            p = new PartSpool(reply == null ? -1 : reply.length(), gateway.answerBytes);
            parts = p;
        }
        try {
            p.add(bytes);
        } catch (IOException e) {
            cut(e);
        }
    }

    /** Under the lock: the call ended after its head went out. */
    private void endStream(@Nullable Object result, @Nullable Throwable error) {
        if (done || streamEnded) {
            return; // or the answer ended early (http.end): what the call ends with is not the client's
        }
        byte[] rest = error == null ? GatewayReply.restOfStream(result, route.pool().name(), pid, label) : null;
        if (rest == null) {
            Throwable cause = error != null ? error : new IOException("PHP ended its streamed answer with a malformed result");
            cut(cause);
            return;
        }
        endOfAnswer(rest);
    }

    /** Under the lock: the answer's last bytes; it completes once they are out. */
    private void endOfAnswer(byte[] rest) {
        streamEnded = true;
        // From now on only the client's pace counts: it must take something each body-timeout.
        deadline.cancel(false);
        sentAtLastCheck = sent;
        deadline = timer.schedule(this::timedOut, options.bodyTimeout().toMillis(), TimeUnit.MILLISECONDS);
        try {
            hold(rest);
            IOException shortfall = parts == null ? null : parts.shortfall(route.pool().name(), label, warnings);
            if (shortfall != null) {
                cut(shortfall);
                return;
            }
            if (written && !done) {
                drain();
            }
        } catch (IOException | RuntimeException e) {
            abandon(e);
        }
    }

    /** Under the lock: writes the parts held while the connection takes them; completes once the stream ended. */
    private void drain() throws IOException {
        PartSpool p = parts;
        boolean wrote = false;
        byte[] bytes;
        while (p != null && out.isReady() && (bytes = p.next()) != null) {
            out.write(bytes);
            sent += bytes.length;
            wrote = true;
        }
        if (!out.isReady()) {
            return; // onWritePossible once the socket took it
        }
        if (streamEnded && (p == null || p.isEmpty())) {
            // What the container holds goes first, without blocking: over HTTP/2 Tomcat's close
            // would wait for the flow-control window blocking, and miss its wake-up for 5 s.
            out.flush();
            if (!out.isReady()) {
                return; // onWritePossible once it is out, then the close
            }
            // Closed now: completing alone would wait for a container thread still running the call
            // (it goes on after fastcgi_finish_request()).
            out.close();
            finish();
        } else if (wrote) {
            out.flush(); // what PHP flushed reaches the client now
        }
    }

    /**
     * Under the lock: a streamed answer that cannot end well (its call failed after the head went
     * out) must not end as a complete response; the connection is cut instead.
     */
    private void cut(Throwable failure) {
        if (!response.isCommitted()) {
            // Nothing went out yet: the failure can still be answered, as any failed call is.
            DirectStream.logUnsent(failure, route.pool().name(), label);
            response.reset();
            streaming = false;
            written = false;
            if (parts != null) {
                parts.close();
                parts = null;
            }
            reply = GatewayReply.phpFailed();
            try {
                if (out.isReady()) {
                    write();
                } // else onWritePossible writes it
            } catch (IOException | RuntimeException e) {
                abandon(e);
            }
            return;
        }
        IOException signal = DirectStream.cut(failure, route.pool().name(), label);
        done = true;
        release();
        request.setAttribute(DirectStream.CUT, signal);
        try {
            async.dispatch(); // the dispatch throws it: the container cuts a committed response whose request fails
        } catch (IllegalStateException alreadyOver) {
            // the container ended the request already
        }
    }

    /**
     * PHP's answer to a call made before this exchange existed (on the container thread, for a
     * request without a body): nothing of the request is left unread, so the connection stays open.
     */
    void respondToCall(GatewayReply answer) {
        synchronized (this) {
            calling = true;
        }
        respond(answer);
    }

    /** Decides the answer (the first one wins) and writes it if the connection can take it now. */
    void respond(GatewayReply answer) {
        synchronized (this) {
            if (reply != null || done) {
                return;
            }
            reply = answer;
            try {
                if (out.isReady()) {
                    write();
                }
            } catch (IOException | RuntimeException e) {
                abandon(e);
            }
        }
    }

    @Override
    public void onWritePossible() throws IOException {
        synchronized (this) {
            if (reply == null || done) {
                return; // the container's first call, before there is anything to write
            }
            if (!written) {
                write();
            } else if (streaming) {
                drain();
            } else if (!lingering || bodyOver) {
                finishOnceFlushed();
            }
        }
    }

    /** Writes status, headers and body; the container keeps what the socket does not take at once. */
    private void write() throws IOException {
        written = true;
        GatewayReply r = reply;
        if (r == null) {
            return; // not reached: called only once a reply is set
        }
        head(response, r);
        lengthlessOverHttp2(request, response); // written without blocking (the write listener)
        if (lingering) {
            // Tomcat closes the request's input with the output once a Content-Length is written, and
            // the rest of the body could not be dropped: the answer goes until the connection closes.
            response.setContentLengthLong(-1);
        }
        if (!calling && request.getProtocol().startsWith("HTTP/1.")) {
            // Answered before the body was all read (413, 408): the rest is not worth reading. HTTP/1.x
            // only: HTTP/2 forbids the header (a strict client refuses the response), and the
            // container resets the stream's unread body there.
            response.setHeader("Connection", "close");
        }
        if (streaming) {
            out.flush(); // the head goes now, as PHP-FPM's web server sends it at the first flush
            drain();
            return;
        }
        if (r.body().length > 0) {
            out.write(r.body());
        }
        commitLengthless(request, response, r);
        if (lingering && out.isReady()) {
            out.flush(); // the answer goes now, while the rest of the body is dropped
        }
        if (out.isReady() && (!lingering || bodyOver)) {
            finishOnceFlushed();
        } // else onWritePossible once the rest is out, or lingerOver once the refused body is
    }

    /**
     * Completes once what the container holds of the answer is out, sent without blocking: over
     * HTTP/2 Tomcat's end of a stream with bytes still held waits for the flow-control window as if
     * blocking and may miss its wake-up for good (a stream stopped mid-body, several answers larger
     * than its buffer on one connection). Called again from onWritePossible until it is out.
     */
    private void finishOnceFlushed() throws IOException {
        out.flush();
        if (out.isReady()) {
            finish();
        }
    }

    /**
     * An answer written without blocking goes without Content-Length over HTTP/2, where the body's
     * frames end with the stream (RFC 9113 8.1.1): Tomcat 11 ends a stream inside the write that
     * reaches a declared length, and there waits for the connection's flow-control window as if it
     * were blocking, missing the wake-up until its 5 s write timeout. Every small answer that finished
     * while a large one used the window (a page's images, a download beside it) stalled 5 s, and held
     * a pool thread meanwhile. Without the length the stream ends when the exchange completes. A
     * HEAD answer keeps it: it has no body, and is written blocking.
     */
    static void lengthlessOverHttp2(HttpServletRequest request, HttpServletResponse response) {
        if (!request.getProtocol().startsWith("HTTP/1.") && !PhpRequest.isHead(request)) {
            response.setContentLengthLong(-1);
        }
    }

    /**
     * Sends the head of a HEAD answer PHP declared no length for, and of a 304, before the request
     * completes, so that it goes without one, as nginx passes PHP-FPM's: a container completing an
     * uncommitted response gives it the length written (Jetty: 0), which neither may have unless it
     * is the full answer's (RFC 9110 8.6, 15.4.5).
     */
    static void commitLengthless(HttpServletRequest request, HttpServletResponse response, GatewayReply r)
            throws IOException {
        boolean lengthless = (r.length() < 0 && PhpRequest.isHead(request))
                || r.status() == HttpServletResponse.SC_NOT_MODIFIED;
        if (lengthless && !response.isCommitted()) {
            response.flushBuffer();
        }
    }

    /**
     * Status, headers (PHP's default Content-Type if it set none) and Content-Length of {@code r}.
     * A 204 goes with the headers PHP sent, as nginx passes them, and no Content-Type of ours: PHP
     * itself sends its default one unless the application turned it off (Slim sets no
     * default_mimetype for a 204). A streamed answer without a declared length goes chunked (or,
     * to an HTTP/1.0 client, until the connection closes).
     */
    static void head(HttpServletResponse response, GatewayReply r) {
        response.setStatus(r.status());
        boolean noContent = r.status() == HttpServletResponse.SC_NO_CONTENT;
        boolean notModified = r.status() == HttpServletResponse.SC_NOT_MODIFIED;
        List<String> headers = r.headers();
        String contentType = null;
        boolean range = r.status() == HttpServletResponse.SC_PARTIAL_CONTENT;
        for (int i = 0; i < headers.size(); i += 2) {
            String name = headers.get(i);
            range |= name.equalsIgnoreCase("Content-Range");
            if (name.equalsIgnoreCase("Content-Type")) {
                contentType = headers.get(i + 1); // the last one, as PHP's header() replaces it
            } else if (name.equalsIgnoreCase("Date")) {
                response.setHeader(name, headers.get(i + 1)); // replaces the container's own (Jetty's): one Date
            } else {
                response.addHeader(name, headers.get(i + 1));
            }
        }
        if (range) {
            Uncompressed.keep(response); // its Content-Range counts the bytes PHP sent, not a gzip of them
        }
        if (notModified) {
            // No body: no Content-Type (Tomcat drops one, PHP-FPM sends none with PHP's own 304) and no
            // length (it would be the full answer's, which only PHP knows).
            return;
        }
        if (noContent) {
            if (contentType != null) {
                VerbatimContentType.set(response, contentType);
            }
            response.setContentLength(0);
            return;
        }
        if (contentType == null) {
            contentType = r.own() ? "text/plain; charset=UTF-8" : GatewayReply.DEFAULT_CONTENT_TYPE;
        }
        VerbatimContentType.set(response, contentType);
        if (r.length() >= 0) {
            // A streamed answer's is PHP's (PartSpool keeps the body to it): as nginx passes PHP-FPM's,
            // a download's size is known before its body.
            response.setContentLengthLong(r.length());
        }
    }

    private void finish() {
        done = true;
        async.complete();
    }

    /** Under the lock: what the exchange holds beyond its end (the deadline, held parts) is let go. */
    private void release() {
        uncount();
        deadline.cancel(false);
        PartSpool p = parts;
        if (p != null) {
            p.close();
        }
    }

    private void abandon(Throwable e) {
        if (bodyTimer != null) {
            bodyTimer.cancel(false);
        }
        if (!done) {
            log.debug("Response for {} abandoned: {}", label, e.toString());
            done = true;
            release();
            completeQuietly();
        }
    }

    private void completeQuietly() {
        try {
            async.complete();
        } catch (IllegalStateException alreadyOver) {
            // the container ended the request already
        }
    }

    /** The container's timeout is off (see the constructor); the exchange's own deadline, should it come. */
    @Override
    public void onTimeout(AsyncEvent event) {
        timedOut();
    }

    /**
     * The exchange's deadline: a request still without its answer is ended (408 while its body is
     * read, else 504; the pool's own timeouts come first). A streamed answer whose call is over
     * goes on while its client reads: it is checked again each {@code body-timeout}, and cut if the
     * client took nothing in that time, as nginx's send_timeout does.
     */
    private void timedOut() {
        synchronized (this) {
            if (done) {
                return;
            }
            if (streaming) {
                if (streamEnded && sent > sentAtLastCheck) {
                    sentAtLastCheck = sent;
                    deadline = timer.schedule(this::timedOut, options.bodyTimeout().toMillis(), TimeUnit.MILLISECONDS);
                    return;
                }
                cut(new IOException(streamEnded ? "its client took nothing for " + Durations.text(options.bodyTimeout())
                        : "the answer did not end within the call's time"));
                return;
            }
            if (reply == null && !done) {
                boolean reading = !calling;
                if (reading && bodyArriving()) {
                    // A long upload that keeps coming: its body timer ends it if it pauses.
                    deadline = timer.schedule(this::timedOut, options.bodyTimeout().toMillis(), TimeUnit.MILLISECONDS);
                    return;
                }
                if (reading) {
                    late();
                    uncount(); // the body is given up (see bodyLate)
                } else {
                    log.warn("{} timed out waiting for PHP: 504", label);
                }
                reply = reading ? GatewayReply.text(408, "The request body did not arrive in time.")
                        : GatewayReply.text(504, "PHP did not answer in time.");
                try {
                    write();
                } catch (IOException | RuntimeException e) {
                    abandon(e);
                    return;
                }
            }
            if (!done) {
                finish(); // the container sends what is still buffered before it closes the request
            }
        }
    }

    /**
     * The read or write listener's error: the client went away or stopped sending, nobody to answer.
     * The container reports the error to {@link #onError(AsyncEvent)} next.
     */
    @Override
    public void onError(Throwable t) {
        synchronized (this) {
            if (!calling && reply == null && !done) {
                // While the body was read: a malformed chunked encoding, say. nginx answers 400; the
                // answer is lost, harmlessly, if the client is gone instead, which is no one's fault
                // to warn of (nginx logs "client prematurely closed connection" at info).
                boolean late = readTimedOut(t);
                if (late) {
                    refused(RepeatedWarnings.Kind.BODY_LATE, "did not arrive in time (" + t + "; over HTTP/2 Tomcat's"
                            + " stream read timeout, 20 s unless set on its Http2Protocol, ends the wait before"
                            + " folk.http.body-timeout " + Durations.text(options.bodyTimeout()) + "): 408");
                } else if (wentAway(t)) {
                    log.debug("{}: the client went away while it sent its body ({})", label, t.toString());
                } else {
                    refused(RepeatedWarnings.Kind.BODY_MALFORMED, "could not be read (" + t + "): 400");
                }
                if (bodyTimer != null) {
                    bodyTimer.cancel(false);
                }
                reply = late ? GatewayReply.text(408, "The request body did not arrive in time.")
                        : GatewayReply.text(400, "The request body is malformed.");
                try {
                    write();
                    return;
                } catch (IOException | RuntimeException e) {
                    t = e;
                }
            }
            abandon(t);
        }
    }

    /**
     * Completes the request, again if {@link #onError(Throwable)} did just before: the container marks
     * the request in error only after the read or write listener's {@code onError}, and then goes on
     * to an error dispatch unless a listener completes the request here. That dispatch would run
     * Spring Boot's error page for a client that is gone, and log a warning per client (the page
     * cannot be written with the Content-Type PHP's answer already set).
     */
    @Override
    public void onError(AsyncEvent event) {
        synchronized (this) {
            boolean completedBefore = done;
            abandon(event.getThrowable()); // completes the request unless it was already
            if (completedBefore) {
                completeQuietly();
            }
        }
    }

    @Override
    public void onComplete(AsyncEvent event) {
        synchronized (this) {
            done = true;
            release();
        }
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // not restarted
    }
}
