package dev.folk.spring.boot.autoconfigure.app;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;

/** A web application with the Folk starter's auto-configuration and actuator, for HTTP tests. */
@SpringBootConfiguration
@EnableAutoConfiguration
public class WebTestApplication {

    /** For trying the endpoints by hand: java -cp <test classpath> ...WebTestApplication --folk.args=worker.php */
    public static void main(String[] args) {
        SpringApplication.run(WebTestApplication.class, args);
    }
}
