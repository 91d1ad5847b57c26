package dev.folk.spring.boot.autoconfigure.app;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;

/** A non-web application with the Folk auto-configuration that records availability changes. */
@SpringBootConfiguration
@EnableAutoConfiguration
public class PlainTestApplication {

    @Bean
    AvailabilityRecorder availabilityRecorder() {
        return new AvailabilityRecorder();
    }

    /** Every availability change published in the context, in order. */
    public static class AvailabilityRecorder implements ApplicationListener<AvailabilityChangeEvent<?>> {
        private final List<AvailabilityChangeEvent<?>> events = new CopyOnWriteArrayList<>();

        @Override
        public void onApplicationEvent(AvailabilityChangeEvent<?> event) {
            events.add(event);
        }

        public List<AvailabilityChangeEvent<?>> events() {
            return events;
        }
    }
}
