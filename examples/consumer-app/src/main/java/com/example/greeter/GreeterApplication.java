package com.example.greeter;

import java.util.Map;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.folk.core.pool.WorkerPool;

/** GET /greet?name=Ada answers with what PHP's greet.hello (src/main/resources/php/greeter.php) returns. */
@SpringBootApplication
@RestController
public class GreeterApplication {

    private final WorkerPool php;

    public GreeterApplication(WorkerPool php) {
        this.php = php;
    }

    @GetMapping("/greet")
    public Map<?, ?> greet(@RequestParam(name = "name", defaultValue = "world") String name) {
        return php.call("greet.hello", Map.of("name", name), Map.class);
    }

    public static void main(String[] args) {
        SpringApplication.run(GreeterApplication.class, args);
    }
}
