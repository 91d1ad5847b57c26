package dev.folk.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.context.annotation.Bean;

/** A Spring Boot web app serving PHP through a supervised pool of PHP workers. */
@SpringBootApplication
public class SampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }

    /** See {@link #encodedSlashesAsNginx()}. */
    @Bean
    TomcatConnectorCustomizer encodedSlashes() {
        return encodedSlashesAsNginx();
    }

    /**
     * A {@code %2F} in a path reaches PHP as sent, as nginx passes it to PHP-FPM (PHP gets the raw
     * REQUEST_URI either way). Tomcat answers such a request 400 by default, and Spring Boot has no
     * property for it; "passthrough" keeps the %2F encoded in the decoded path too, so it never
     * becomes a separator for the servlet mapping.
     */
    public static TomcatConnectorCustomizer encodedSlashesAsNginx() {
        return connector -> connector.setEncodedSolidusHandling("passthrough");
    }
}
