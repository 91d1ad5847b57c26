package dev.folk.spring.boot.autoconfigure.http;

import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

/**
 * {@link StaticFilesIntegrationTest} on a Tomcat without sendfile, as on a container that has none:
 * large files and ranges go out through the gateway's own non-blocking writes.
 */
@Import(StaticFilesWithoutSendfileTest.NoSendfile.class)
class StaticFilesWithoutSendfileTest extends StaticFilesIntegrationTest {

    @TestConfiguration(proxyBeanMethods = false)
    static class NoSendfile {
        @Bean
        WebServerFactoryCustomizer<TomcatServletWebServerFactory> noSendfile() {
            return factory -> factory.addConnectorCustomizers(connector -> connector.setProperty("useSendfile", "false"));
        }
    }
}
