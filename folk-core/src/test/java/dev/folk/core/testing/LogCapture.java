package dev.folk.core.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;

/** The formatted messages one logger writes while it is open (logback, the tests' backend). */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {

    private final Logger logger;
    private final List<String> messages = new CopyOnWriteArrayList<>();
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();

    private LogCapture(String name) {
        this.logger = (Logger) LoggerFactory.getLogger(name);
        start();
        logger.addAppender(this);
    }

    public static LogCapture of(Class<?> loggerClass) {
        return of(loggerClass.getName());
    }

    public static LogCapture of(String loggerName) {
        return new LogCapture(loggerName);
    }

    @Override
    protected void append(ILoggingEvent event) {
        messages.add(event.getFormattedMessage());
        events.add(event);
        if (event.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN)) {
            warnings.add(event.getFormattedMessage());
        }
    }

    /** The messages so far at WARN or above that contain {@code text}. */
    public List<String> warningsContaining(String text) {
        return warnings.stream().filter(m -> m.contains(text)).toList();
    }

    /** The messages so far that contain {@code text}. */
    public List<String> containing(String text) {
        return messages.stream().filter(m -> m.contains(text)).toList();
    }

    /** The MDC of each message so far that contains {@code text}, in order. */
    public List<java.util.Map<String, String>> mdcContaining(String text) {
        return events.stream().filter(e -> e.getFormattedMessage().contains(text)).map(ILoggingEvent::getMDCPropertyMap)
                .toList();
    }

    @Override
    public void close() {
        logger.detachAppender(this);
        stop();
    }
}
