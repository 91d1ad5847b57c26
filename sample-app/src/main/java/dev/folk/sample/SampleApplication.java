package dev.folk.sample;

import org.apache.coyote.UpgradeProtocol;
import org.apache.coyote.http2.Http2Protocol;
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
     * for it. A {@code %2F} or {@code %5C} (a backslash in a file name) in a path reaches PHP as sent
     * (PHP gets the raw REQUEST_URI either way); "passthrough" keeps it encoded in the decoded path
     * too, so it never becomes a separator for the servlet mapping. And any number of header lines, as nginx takes them, over
     * HTTP/1.1 and HTTP/2 ({@code server.http2.enabled}): Tomcat refuses more than 100 (over HTTP/2
     * it resets the stream), and more than 200 cookies, while their bytes stay bounded by
     * {@code server.max-http-request-header-size} (32KB in application.yml, as nginx's buffers; PHP
     * takes {@code max_input_vars} of the cookies, 1000 by default).
     */
    public static TomcatConnectorCustomizer tomcatAsNginx() {
        return connector -> {
            connector.setEncodedSolidusHandling("passthrough");
            connector.setEncodedReverseSolidusHandling("passthrough");
            connector.setProperty("maxHeaderCount", "-1");
            connector.setMaxCookieCount(-1);
            for (UpgradeProtocol upgrade : connector.findUpgradeProtocols()) {
                if (upgrade instanceof Http2Protocol http2) {
                    http2.setMaxHeaderCount(-1);
                }
            }
        };
    }
}
