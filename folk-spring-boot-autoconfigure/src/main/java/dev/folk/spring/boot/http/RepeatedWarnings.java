package dev.folk.spring.boot.http;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.util.Durations;

/**
 * The gateway's warnings that come once per request and so can come by the thousand a second: its
 * 503s when a pool is overloaded, the requests it refuses before PHP sees them (400, 408, 413: any
 * client can send those as fast as it likes), and what it drops from answers a PHP application gets
 * wrong on every request (an invalid header, a wrong Content-Length). A line each would bury everything
 * else in the log and cost the JVM CPU when it has least to spare: the first of an episode is
 * logged in full at once, the next ones of the same kind are counted (each at DEBUG) and summed
 * up in one line per {@link #interval} while they go on. An interval with none ends the episode,
 * and the next one is logged in full again. When the application stops, what is counted is summed
 * up at once ({@link #flush()}).
 */
final class RepeatedWarnings {

    private static final Logger log = LoggerFactory.getLogger(GatewayReply.class);

    /** How often the warnings of an episode are summed up. */
    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    /** What is warned about, as the summary names it, and what to do about it. */
    enum Kind {
        BUSY("requests answered 503 (no worker was free)", "Raise the pool's size (max-size for an elastic pool, "
                + "once it has grown to it), max-queue, or acquire-timeout if calls wait only briefly; folk.call.* "
                + "metrics show how busy the pool is. A pool BROKEN (health) has no worker that can start: fix what "
                + "its last failure says instead."),
        BODY_MEMORY("request bodies answered 503 (the memory for request bodies was in use)",
                "Raise folk.http.body-memory (and the heap), lower folk.http.max-body-size, or add workers so that "
                        + "bodies wait less; folk.http.body-memory is an eighth of the heap by default."),
        BODY_TOO_LARGE("requests answered 413 (a body over a limit)", "Raise the limit the first warning named if the "
                + "application takes such bodies; otherwise these are clients sending more than it takes."),
        BODY_LATE("requests answered 408 (a body that paused for folk.http.body-timeout)", "Clients that stall "
                + "while sending; raise folk.http.body-timeout if real clients pause that long."),
        BODY_MALFORMED("requests answered 400 (a body that breaks HTTP's framing)", "Clients that send malformed "
                + "chunked bodies; nothing to change on the server."),
        HEADER_NAME("response headers dropped (not valid header names)", "Fix the header() call in the application."),
        HEADER_VALUE("response headers dropped (control characters in their values, or values that are no strings)",
                "Fix the header() call in the application."),
        CONTENT_LENGTH("answers sent with their body's length (not the Content-Length PHP declared)",
                "Fix the Content-Length the application sets, or let the server set it."),
        PAST_LENGTH("answers cut at their Content-Length (bytes past it dropped)",
                "Fix the Content-Length the application sets, or let the server set it."),
        HEAD_TOO_LARGE("answers of more header bytes than the server can send, answered 502",
                "Send fewer or shorter headers (cookies, debug headers), or raise the server's limit "
                        + "(server.tomcat.max-http-response-header-size, on Jetty server.jetty.max-http-response-header-size; "
                        + "8KB by default)."),
        ACCEL_REDIRECT("answers with X-Accel-Redirect sent as they were (only nginx follows it)",
                "Send the file from the application (Symfony's BinaryFileResponse, Laravel's download()), or serve "
                        + "that path from folk.http public files.");

        final String what;
        final String advice;

        Kind(String what, String advice) {
            this.what = what;
            this.advice = advice;
        }
    }

    /**
     * One kind's current episode, for one pool (and one request path, but for 503s). It leaves the
     * map when it ends: keyed by path, ended episodes would otherwise pile up for every path that
     * ever got something wrong.
     */
    private static final class Episode {
        final String key;
        final Kind kind;
        final String pool;
        /** Its first warning was logged in full. */
        boolean begun;
        long count;
        long since;
        @Nullable String latest;
        /** Ended and out of the map: a warning that found it takes a new one. */
        boolean ended;

        Episode(String key, Kind kind, String pool) {
            this.key = key;
            this.kind = kind;
            this.pool = pool;
        }
    }

    private final ScheduledExecutorService timer;
    private final Duration interval;
    private final ConcurrentHashMap<String, Episode> episodes = new ConcurrentHashMap<>();

    RepeatedWarnings(ScheduledExecutorService timer, Duration interval) {
        this.timer = timer;
        this.interval = interval;
    }

    /**
     * A request of {@code pool} answered 503 because no worker was free; one episode per pool,
     * whatever the requests' paths.
     *
     * @param reason what the pool said (its exception's message)
     * @param label  which request
     */
    void busy(String pool, String reason, String label) {
        warn(Kind.BUSY, pool, pool, reason + " (" + label + "): 503", label);
    }

    /**
     * A request body of {@code pool} answered 503 because the bodies in the heap already held the
     * gateway's body memory; one episode per pool.
     */
    void bodyMemory(String pool, String message, String label) {
        warn(Kind.BODY_MEMORY, pool, pool, message, label);
    }

    /**
     * A request to {@code pool} refused before PHP saw it (400, 408, 413, of kind {@code kind});
     * one episode per pool and kind, whatever the requests' paths.
     */
    void refused(Kind kind, String pool, String message, String label) {
        warn(kind, pool, pool, message, label);
    }

    /**
     * Something the gateway dropped or changed in {@code pool}'s answer to {@code label}: one
     * episode per pool, kind and request path (its query aside), so that a route that gets it
     * wrong every time is summed up and another route's first is still logged in full.
     */
    void answerFixed(Kind kind, String pool, String message, String label) {
        int query = label.indexOf('?');
        warn(kind, pool, pool + ' ' + (query < 0 ? label : label.substring(0, query)), message, label);
    }

    private void warn(Kind kind, String pool, String key, String message, String label) {
        String episodeKey = kind.name() + ' ' + key;
        while (true) {
            Episode episode = episodes.computeIfAbsent(episodeKey, k -> new Episode(k, kind, pool));
            boolean first;
            synchronized (episode) {
                if (episode.ended) {
                    continue; // ended between the lookup and the lock: a new one begins
                }
                first = !episode.begun;
                if (first) {
                    episode.begun = true;
                    episode.since = System.nanoTime();
                } else {
                    episode.count++;
                    episode.latest = label;
                }
            }
            if (!first) {
                log.debug("{}", message);
                return;
            }
            log.warn("{}. More like it from pool '{}' are counted and summed up every {} while they go on.", message,
                    pool, text(interval.toNanos()));
            summarizeLater(episode);
            return;
        }
    }

    /** Whether warnings of {@code kind} for {@code key} are being counted now (for tests). */
    boolean inEpisode(Kind kind, String key) {
        return episodes.containsKey(kind.name() + ' ' + key);
    }

    private void summarizeLater(Episode episode) {
        try {
            timer.schedule(() -> summarize(episode), interval.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopped) {
            summarize(episode); // the gateway is stopping: say now what there is to say
        }
    }

    private void summarize(Episode episode) {
        if (sumUp(episode, false)) {
            summarizeLater(episode);
        }
    }

    /**
     * Logs what the current episodes counted and did not say yet, and ends them: the application is
     * stopping (or pausing), and a summary due later would be lost with the gateway's timer, or come
     * long after what it sums up. Warnings after this begin new episodes.
     */
    void flush() {
        for (Episode episode : episodes.values()) {
            sumUp(episode, true);
        }
    }

    /**
     * Logs what {@code episode} counted since it last said so, if anything; ends it if nothing was
     * counted, or if {@code last}. Whether it goes on.
     */
    private boolean sumUp(Episode episode, boolean last) {
        long count;
        long elapsed;
        String latest;
        synchronized (episode) {
            if (episode.ended) {
                return false; // flushed meanwhile, or its summary ran
            }
            count = episode.count;
            latest = episode.latest;
            elapsed = System.nanoTime() - episode.since;
            episode.count = 0;
            episode.latest = null;
            episode.since = System.nanoTime();
            if (count == 0 || last) {
                episode.ended = true;
                episodes.remove(episode.key, episode);
            }
        }
        if (count > 0) {
            log.warn("Pool '{}', {}: {} more in the last {} (the latest: {}). {}", episode.pool, episode.kind.what, count,
                    text(elapsed), latest, episode.kind.advice);
        }
        return count > 0 && !last;
    }

    /** A duration as an operator reads it: "10 s", "250 ms". */
    private static String text(long nanos) {
        long ms = TimeUnit.NANOSECONDS.toMillis(nanos);
        return ms < 1000 ? ms + " ms" : Math.round(ms / 1000.0) + " s";
    }
}
