package dev.folk.spring.boot.http;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs the gateway's 503s (no free worker) without flooding the log. An overloaded pool rejects
 * requests by the thousand a second, and a line each would bury everything else and cost the JVM
 * CPU when it has least to spare: the first 503 of an episode is logged in full at once, the next
 * ones are counted (each at DEBUG) and summed up in one line per {@link #interval} while they go on.
 * An interval with none ends the episode, and the next 503 is logged in full again.
 */
final class RejectionLog {

    private static final Logger log = LoggerFactory.getLogger(GatewayReply.class);

    /** How often the 503s of an episode are summed up. */
    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    /** One pool's current episode of 503s. */
    private static final class Episode {
        final String pool;
        boolean open;
        long count;
        long since;
        @Nullable String latest;

        Episode(String pool) {
            this.pool = pool;
        }
    }

    private final ScheduledExecutorService timer;
    private final Duration interval;
    private final ConcurrentHashMap<String, Episode> episodes = new ConcurrentHashMap<>();

    RejectionLog(ScheduledExecutorService timer, Duration interval) {
        this.timer = timer;
        this.interval = interval;
    }

    /**
     * A request of {@code pool} answered 503.
     *
     * @param reason what the pool said (its exception's message)
     * @param label  which request
     */
    void rejected(String pool, String reason, String label) {
        Episode episode = episodes.computeIfAbsent(pool, Episode::new);
        boolean first;
        synchronized (episode) {
            first = !episode.open;
            if (first) {
                episode.open = true;
                episode.since = System.nanoTime();
            } else {
                episode.count++;
                episode.latest = label;
            }
        }
        if (!first) {
            log.debug("{} ({}): 503", reason, label);
            return;
        }
        log.warn("{} ({}): 503. Further 503s of pool '{}' are counted and summed up every {} while they go on.",
                reason, label, pool, text(interval.toNanos()));
        summarizeLater(episode);
    }

    /** Whether 503s of {@code pool} are being counted now (for tests). */
    boolean inEpisode(String pool) {
        Episode episode = episodes.get(pool);
        if (episode == null) {
            return false;
        }
        synchronized (episode) {
            return episode.open;
        }
    }

    private void summarizeLater(Episode episode) {
        try {
            timer.schedule(() -> summarize(episode), interval.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopped) {
            summarize(episode); // the gateway is stopping: say now what there is to say
        }
    }

    private void summarize(Episode episode) {
        long count;
        long elapsed;
        String latest;
        synchronized (episode) {
            count = episode.count;
            latest = episode.latest;
            elapsed = System.nanoTime() - episode.since;
            episode.count = 0;
            episode.latest = null;
            episode.since = System.nanoTime();
            episode.open = count > 0;
        }
        if (count == 0) {
            return;
        }
        log.warn("Pool '{}' answered {} more request{} with 503 in the last {}: no worker was free (the latest: {}). "
                + "Raise the pool's size or max-queue, or acquire-timeout if calls wait only briefly; "
                + "folk.call.* metrics show how busy the pool is.", episode.pool, count, count == 1 ? "" : "s",
                text(elapsed), latest);
        summarizeLater(episode);
    }

    /** A duration as an operator reads it: "10 s", "250 ms". */
    private static String text(long nanos) {
        long ms = TimeUnit.NANOSECONDS.toMillis(nanos);
        return ms < 1000 ? ms + " ms" : Math.round(ms / 1000.0) + " s";
    }
}
