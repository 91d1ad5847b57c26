package dev.folk.spring.boot.http;

import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.pool.CallParts;
import dev.folk.core.protocol.Values;
import dev.folk.core.util.DaemonThreads;
import dev.folk.core.util.Durations;

/**
 * A streamed answer (docs/PROTOCOL.md, "Streamed answers") to a request the gateway calls PHP for
 * on the container thread, before the request went asynchronous (a GET with a worker idle). When
 * the head comes, the request goes asynchronous; the parts are held ({@link PartSpool}: memory,
 * then a temporary file) and written by a writer thread, so that neither the call nor the worker
 * waits for the client: the worker is free as soon as PHP has answered, as PHP-FPM's is behind
 * nginx. (A write listener cannot serve while the call runs: the container calls it only once this
 * thread has left the request.) A writer thread is held only while a client lags behind and the
 * call still runs; once the call is over, the writer hands what is left to a write listener after
 * its current write, so that slow downloads hold no thread, however long they last. (A write the
 * client leaves blocked when the call ends holds its thread until the client takes some of it, or
 * is cut.) A client that takes nothing for {@code body-timeout} once PHP has answered is cut.
 *
 * <p>Until the head comes, nothing is allocated but this object.
 */
final class DirectStream implements CallParts, AsyncListener {

    private static final Logger log = LoggerFactory.getLogger(DirectStream.class);

    /** The request attribute that carries {@link #cut}'s exception into the async dispatch that throws it. */
    static final String CUT = DirectStream.class.getName() + ".cut";

    /** Writes streamed answers to their clients; a thread per client that lags, none while all keep up. */
    private static final ExecutorService WRITERS = Executors.newCachedThreadPool(
            DaemonThreads.named("folk-http-stream-writer"));

    private final HttpServletRequest request;
    private final HttpServletResponse response;
    private final String pool;
    private final String label;
    private final GatewayOptions options;
    private final ScheduledExecutorService timer;
    private final RepeatedWarnings warnings;
    private final HeldBytes answerBytes;

    // Under this object's lock once the head came.
    private boolean started;
    private @Nullable AsyncContext async;
    private @Nullable PartSpool parts;
    /** Set by a cut while a writer was on it: the writer throws it in once it stops. */
    private @Nullable IOException cutSignal;
    /** Whether the cut that waits for the writer was logged when it came (the head had gone out then). */
    private boolean cutLogged;
    /** The call is over: what is held is all there is. */
    private boolean ended;
    /** Nothing more goes out: the answer was written whole, cut, or its client is gone. */
    private boolean closed;
    /** A part came before the head: the call's answer is this 502 (see {@link #malformed()}). */
    private @Nullable GatewayReply malformed;
    /** A writer thread is on it. */
    private boolean writing;
    /** The call's thread has left the request ({@link #end}): a write listener can take over from writer threads. */
    private boolean callOver;
    /** The write listener has taken over: no writer thread any more. */
    private boolean listening;
    private long sent;
    private long sentAtLastCheck;
    private @Nullable ScheduledFuture<?> check;
    /** The worker the call went to (0 until the pool says), for the log lines of its answer. */
    private volatile int pid;

    DirectStream(HttpServletRequest request, HttpServletResponse response, String pool, String label,
                 FolkHttpGateway gateway) {
        this.request = request;
        this.response = response;
        this.pool = pool;
        this.label = label;
        this.options = gateway.options();
        this.timer = gateway.timer;
        this.warnings = gateway.warnings;
        this.answerBytes = gateway.answerBytes;
    }

    /** The worker the call went to, 0 if it reached none. */
    int pid() {
        return pid;
    }

    /** The 502 of a streamed answer that went wrong before its head, or null. */
    synchronized @Nullable GatewayReply malformed() {
        return malformed;
    }

    /** Whether PHP's answer began as a stream: the call's end then goes to {@link #end}. */
    synchronized boolean started() {
        return started;
    }

    /** The worker the call went to, told by the pool before it sends the request. */
    @Override
    public void worker(int pid) {
        this.pid = pid;
    }

    @Override
    public synchronized void part(String method, @Nullable Object params) {
        if (closed) {
            return; // the client is gone, or the answer cut: the worker finishes into nothing
        }
        try {
            if ("http.head".equals(method) && !started) {
                started = true;
                GatewayReply head = GatewayReply.headOfStream(params, pool, pid, label, options, warnings);
                AsyncContext a = request.startAsync(request, response);
                a.setTimeout(0); // this object keeps the time (see end())
                a.addListener(this);
                async = a;
                parts = new PartSpool(head.length(), answerBytes);
                GatewayExchange.head(response, head);
                GatewayExchange.lengthlessOverHttp2(request, response); // its parts go without blocking
                if (head.own()) { // malformed: its 502 is the whole answer
                    closed = true;
                    response.getOutputStream().write(head.body());
                    a.complete();
                    return;
                }
                startWriter(); // the head goes now
            } else if ("http.end".equals(method) && parts != null && !ended) {
                endOfAnswer(PhpRequest.NO_BODY); // fastcgi_finish_request(): the script goes on, the client has its answer
            } else if ("http.body".equals(method) && parts != null && !ended) {
                hold(Values.asBytes(params));
                startWriter();
            } else if (!started && ("http.body".equals(method) || "http.end".equals(method))) {
                malformed = GatewayReply.partBeforeHead(method, pool, pid, label);
                closed = true; // the rest of the stream goes nowhere; the call's end answers with the 502
            } else if ("http.head".equals(method) && !ended) {
                cut(new IOException("PHP sent a second head ('http.head') for it; the first had gone out"));
            } else {
                log.debug("Pool '{}' sent part '{}' for {} out of order; dropped", pool, method, label);
            }
        } catch (IOException | RuntimeException e) {
            abandon(e);
        }
    }

    /** Nothing PHP sends goes out any more, while PHP still prints: its client is gone, or the answer was cut. */
    @Override
    public synchronized boolean abandoned() {
        return closed && !ended;
    }

    /** The call's end, once the answer began as a stream: the rest of it, or its failure (cut). */
    void end(@Nullable Object result, @Nullable Throwable error) {
        boolean listen;
        synchronized (this) {
            callOver = true;
            if (closed || ended) {
                // Or the answer ended early (http.end): what the call ends with is not the client's. A
                // writer still at it hands the rest to the write listener at its next part.
                listen = ended && !writing && claimListener();
            } else {
                byte[] rest = error == null ? GatewayReply.restOfStream(result, pool, pid, label) : null;
                if (rest == null) {
                    cut(error != null ? error : new IOException("PHP ended its streamed answer with a malformed result"));
                    return;
                }
                listen = endOfAnswer(rest);
            }
        }
        if (listen) {
            listen();
        }
    }

    /**
     * Under the lock: the answer's last bytes; the request completes once they are out. True if the
     * call is over and no writer is on it: the caller, out of the lock, hands the rest to {@link #listen}.
     */
    private boolean endOfAnswer(byte[] rest) {
        ended = true;
        hold(rest);
        if (closed) {
            return false;
        }
        IOException shortfall = parts == null ? null : parts.shortfall(pool, label, warnings);
        if (shortfall != null) {
            cut(shortfall);
            return false;
        }
        // From now on only the client's pace counts: it must take something each body-timeout.
        sentAtLastCheck = sent;
        check = timer.schedule(this::checkProgress, options.bodyTimeout().toMillis(), TimeUnit.MILLISECONDS);
        if (!callOver) {
            startWriter(); // fastcgi_finish_request(): the call goes on, and with it this request's thread
            return false;
        }
        return !writing && claimListener(); // else the writer hands over at its next part
    }

    /** Under the lock: whether the write listener is still to be set (by the caller, out of the lock). */
    private boolean claimListener() {
        if (listening || closed) {
            return false;
        }
        listening = true;
        return true;
    }

    /**
     * Out of the lock, once {@link #claimListener} said so: the rest goes out whenever the client can
     * take more. Never under this object's lock: from a writer thread, the container takes the
     * connection's lock to set the listener, and a container thread holding that lock may be
     * waiting for this object's (its write listener or error callback).
     */
    private void listen() {
        try {
            response.getOutputStream().setWriteListener(new Drain());
        } catch (IOException | RuntimeException e) {
            synchronized (this) {
                abandon(e); // the request is over already (cut meanwhile), or its client gone
            }
        }
    }

    /** Writes what is held while the connection takes it, once the call is over; completes when all is out. */
    private final class Drain implements WriteListener {

        @Override
        public void onWritePossible() throws IOException {
            synchronized (DirectStream.this) {
                ServletOutputStream out = response.getOutputStream();
                while (!closed && parts != null && out.isReady()) {
                    byte[] bytes = parts.next();
                    if (bytes == null) {
                        // The call is over, so ended (or cut, and closed): all is out once what the
                        // container holds is, sent without blocking first (see GatewayExchange.drain()).
                        out.flush();
                        if (!out.isReady()) {
                            return; // called again once it is out: nothing held, so the close
                        }
                        closed = true;
                        release();
                        out.close();
                        complete();
                        return;
                    }
                    out.write(bytes);
                    sent += bytes.length;
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            synchronized (DirectStream.this) {
                abandon(t);
            }
        }
    }

    /** Under the lock: holds body bytes for the writer; cuts the answer if they cannot be held. */
    private void hold(byte[] bytes) {
        PartSpool p = parts;
        if (p == null) {
            return;
        }
        try {
            p.add(bytes);
        } catch (IOException e) {
            cut(e);
        }
    }

    private synchronized void checkProgress() {
        if (closed) {
            return;
        }
        if (sent > sentAtLastCheck) {
            sentAtLastCheck = sent;
            check = timer.schedule(this::checkProgress, options.bodyTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return;
        }
        cut(new IOException("its client took nothing for " + Durations.text(options.bodyTimeout())));
    }

    /** Under the lock. */
    private void startWriter() {
        if (!writing && !closed) {
            writing = true;
            WRITERS.execute(this::write);
        }
    }

    /** The writer: blocking writes, outside the lock, of what is held; completes once the call is over and all is out. */
    private void write() {
        ServletOutputStream out;
        boolean handOff = false;
        try {
            out = response.getOutputStream();
            for (;;) {
                byte[] bytes;
                boolean last = false;
                synchronized (this) {
                    if (closed || parts == null) {
                        stopWriting();
                        return;
                    }
                    if (callOver) {
                        writing = false; // the call's thread has left: the write listener takes the rest
                        handOff = claimListener();
                        break;
                    }
                    bytes = parts.next();
                    if (bytes == null && ended) {
                        closed = true;
                        writing = false;
                        release();
                        last = true;
                    }
                }
                if (last) {
                    // Closed now, not when the request completes: that waits for this dispatch, and so
                    // for the call, which goes on after fastcgi_finish_request().
                    out.close();
                    complete();
                    return;
                }
                if (bytes == null) {
                    out.flush(); // the head, or what PHP flushed, reaches the client now
                    synchronized (this) {
                        if (closed || parts == null || parts.isEmpty() && !ended) {
                            stopWriting();
                            return;
                        }
                    }
                    continue;
                }
                out.write(bytes);
                synchronized (this) {
                    sent += bytes.length;
                }
            }
        } catch (IOException | RuntimeException e) {
            synchronized (this) {
                abandon(e);
                stopWriting();
            }
            return;
        }
        if (handOff) {
            listen();
        }
    }

    /** Under the lock: the writer stops; a cut that came meanwhile is its to finish. */
    private void stopWriting() {
        writing = false;
        IOException signal = cutSignal;
        if (signal != null) {
            cutSignal = null;
            finishCut(signal, cutLogged);
        }
    }

    /** Under the lock: the client is gone (or the container failed): nothing more goes out. */
    private void abandon(Throwable e) {
        if (closed) {
            return;
        }
        log.debug("Streamed answer to {} abandoned: {}", label, e.toString());
        closed = true;
        release();
        complete();
    }

    /**
     * Under the lock: the call failed after the head came; the client must see a cut, not an end.
     * Finished here, or by the writer once it stops if it is writing now.
     */
    private void cut(Throwable failure) {
        boolean wasClosed = closed;
        closed = true;
        release();
        IOException signal = containerAbort(failure);
        if (wasClosed) {
            log.debug("Streamed answer to {} failed after it was abandoned: {}", label, failure.toString());
            return;
        }
        if (writing) {
            cutLogged = response.isCommitted();
            if (cutLogged) {
                logCut(failure, pool, label); // now: the writer may be held up by the client for long
            }
            cutSignal = signal;
        } else {
            finishCut(signal, false);
        }
    }

    /**
     * Under the lock, no writer running: if nothing went out yet, the failure can still be
     * answered (502, as any failed call); else the async dispatch throws {@code signal}, and the
     * container cuts the connection.
     */
    private void finishCut(IOException signal, boolean logged) {
        Throwable failure = signal.getCause() != null ? signal.getCause() : signal;
        AsyncContext a = async;
        if (a == null) {
            if (!logged) {
                logCut(failure, pool, label);
            }
            return;
        }
        try {
            if (!response.isCommitted()) {
                logUnsent(failure, pool, label);
                response.reset();
                GatewayReply failed = GatewayReply.phpFailed();
                GatewayExchange.head(response, failed);
                response.getOutputStream().write(failed.body());
                a.complete();
                return;
            }
            if (!logged) {
                logCut(failure, pool, label);
            }
            request.setAttribute(CUT, signal);
            a.dispatch(); // the dispatch throws it: the container cuts a committed response whose request fails
        } catch (IOException | IllegalStateException e) {
            complete(); // the request is over already, or its client gone
        }
    }

    private void release() {
        ScheduledFuture<?> c = check;
        if (c != null) {
            c.cancel(false);
        }
        if (parts != null) {
            parts.close();
        }
    }

    private void complete() {
        AsyncContext a = async;
        if (a != null) {
            try {
                a.complete();
            } catch (IllegalStateException alreadyOver) {
                // the request is over already
            }
        }
    }

    /**
     * The container's error for the request: a write the client reset (a cancelled download) fails
     * the writer and marks the request in error too. Completed here, again if the writer did just
     * before: the container goes on to an error dispatch unless a listener completes the request,
     * which would run Spring Boot's error page for a client that is gone and log a warning for it.
     */
    @Override
    public synchronized void onError(AsyncEvent event) {
        abandon(event.getThrowable());
        complete();
    }

    @Override
    public void onComplete(AsyncEvent event) {
        // the writer or a cut completed it
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        // no container timeout (see part()): this object keeps the time
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // not restarted
    }

    /**
     * What to throw to the container so that it cuts the connection: a streamed answer whose
     * call failed must not end as a complete response (a truncated download would look whole).
     */
    static IOException cut(Throwable failure, String pool, String label) {
        logCut(failure, pool, label);
        return containerAbort(failure);
    }

    /** The warning of a streamed answer whose call failed before any of it went out: a 502 answers it. */
    static void logUnsent(Throwable failure, String pool, String label) {
        log.warn("Pool '{}': the streamed answer to {} failed before any of it went out, answered 502: {}",
                pool, label, failure.getMessage());
    }

    private static void logCut(Throwable failure, String pool, String label) {
        // Neutral: the cause may be PHP's (a crash, a malformed part) or the client's (too slow).
        log.warn("Pool '{}': the connection of the streamed answer to {} is cut after its head went out: {}",
                pool, label, failure.getMessage());
    }

    /**
     * Tomcat's own ClientAbortException when Tomcat is the container: thrown from the request's
     * processing, it makes Tomcat close the connection without ending the response, and without
     * the error dispatch (Spring Boot's error page, which would be written into the body) or the
     * ERROR log line any other exception gets; our one warning says what happened. On Jetty its
     * EofException, which Jetty handles as any failed request (the connection cut) but, being one
     * of its quiet exceptions, without a warning of its own. Elsewhere an exception of ours.
     */
    private static IOException containerAbort(Throwable failure) {
        String message = "streamed answer cut: " + failure.getMessage();
        try {
            Class<?> c = Class.forName("org.apache.catalina.connector.ClientAbortException");
            return (IOException) c.getConstructor(String.class, Throwable.class).newInstance(message, failure);
        } catch (ReflectiveOperationException | LinkageError notTomcat) {
            try {
                Class<?> c = Class.forName("org.eclipse.jetty.io.EofException");
                IOException e = (IOException) c.getConstructor(String.class).newInstance(message);
                e.initCause(failure);
                return e;
            } catch (ReflectiveOperationException | LinkageError notJetty) {
                return new StreamCutException(failure);
            }
        }
    }

    /** The container's signal to close the connection without ending the response. */
    static final class StreamCutException extends IOException {
        private static final long serialVersionUID = 1L;

        StreamCutException(Throwable cause) {
            super("streamed answer cut: " + cause.getMessage(), cause);
        }
    }
}
