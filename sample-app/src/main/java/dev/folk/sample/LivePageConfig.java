package dev.folk.sample;

import java.util.Map;

import org.springframework.core.env.Environment;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** What the live workers page needs to know: whether recycling through the endpoint is allowed. */
@RestController
public class LivePageConfig {

    private final Environment environment;

    public LivePageConfig(Environment environment) {
        this.environment = environment;
    }

    @GetMapping("/sample/config")
    public Map<String, Object> config() {
        String access = environment.getProperty("management.endpoint.workers.access", "read-only");
        return Map.of("writeAccess", access.equalsIgnoreCase("unrestricted"));
    }
}
