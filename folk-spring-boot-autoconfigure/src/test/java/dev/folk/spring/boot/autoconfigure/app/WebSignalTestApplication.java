package dev.folk.spring.boot.autoconfigure.app;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.folk.core.pool.WorkerPool;

/**
 * A web application run in a child JVM by the signal tests: {@code GET /sleep?ms=N} calls the
 * test worker's {@code sleep} on the request thread, so a request in flight holds a Tomcat thread
 * blocked in a pool call, as a real application's does.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
public class WebSignalTestApplication {

    public static void main(String[] args) {
        SpringApplication.run(WebSignalTestApplication.class, args);
    }

    @RestController
    static class SleepController {
        private final WorkerPool pool;

        SleepController(WorkerPool pool) {
            this.pool = pool;
        }

        @GetMapping("/sleep")
        String sleep(@RequestParam long ms) {
            System.out.println("REQUEST-IN-FLIGHT " + ms);
            return "slept on " + pool.call("sleep", ms);
        }
    }
}
