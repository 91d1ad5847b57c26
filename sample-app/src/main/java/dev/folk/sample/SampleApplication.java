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

    /** See {@link #tomcatAsNginx()}. */
    @Bean
    TomcatConnectorCustomizer asNginx() {
        return tomcatAsNginx();
    }

    /**
     * What Tomcat refuses (400) and nginx passes on to PHP-FPM, where Spring Boot has no property
     * for it. A {@code %2F} in a path reaches PHP as sent (PHP gets the raw REQUEST_URI either
     * way); "passthrough" keeps the %2F encoded in the decoded path too, so it never becomes a
     * separator for the servlet mapping. And any number of header lines, as nginx takes them:
     * Tomcat refuses more than 100, while their bytes stay bounded by
     * {@code server.max-http-request-header-size} (32KB in application.yml, as nginx's buffers).
     */
    public static TomcatConnectorCustomizer tomcatAsNginx() {
        return connector -> {
            connector.setEncodedSolidusHandling("passthrough");
            connector.setProperty("maxHeaderCount", "-1");
        };
    }
}
