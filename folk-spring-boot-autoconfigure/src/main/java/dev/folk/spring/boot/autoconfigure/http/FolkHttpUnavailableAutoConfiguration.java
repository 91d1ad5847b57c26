package dev.folk.spring.boot.autoconfigure.http;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.AnyNestedCondition;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnNotWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.env.Environment;

import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * {@code folk.http.mappings} set in an application the HTTP gateway cannot serve: the gateway is a
 * servlet, and a reactive application (WebFlux) or one without a web server has nowhere to put
 * it. {@link FolkHttpAutoConfiguration} then stays off, and without this a request to a mapped
 * path would meet the application's own 404 with nothing in the log to say why.
 */
@AutoConfiguration(after = FolkAutoConfiguration.class)
@ConditionalOnProperty(prefix = "folk.http", name = "mappings[0].path")
@ConditionalOnBean(FolkPools.class)
@Conditional(FolkHttpUnavailableAutoConfiguration.NotServletWeb.class)
public final class FolkHttpUnavailableAutoConfiguration {

    private static final Log logger = LogFactory.getLog(FolkHttpAutoConfiguration.class);

    @Bean
    static SmartInitializingSingleton folkHttpUnavailableWarning(Environment environment) {
        String first = environment.getProperty("folk.http.mappings[0].path");
        return () -> logger.warn("folk.http.mappings is set (" + first + ", ...), but the HTTP gateway only runs in a"
                + " servlet web application (Spring MVC on Tomcat or Jetty), and this one is reactive or has"
                + " no web server: no path is served by PHP. Add spring-boot-starter-web (or webmvc), or call the"
                + " pools from your own handlers (WorkerPool.call), or remove folk.http.mappings.");
    }

    /** A reactive web application, or none. */
    static final class NotServletWeb extends AnyNestedCondition {

        NotServletWeb() {
            super(ConfigurationPhase.REGISTER_BEAN);
        }

        @ConditionalOnNotWebApplication
        static final class NoWebServer {
        }

        @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
        static final class Reactive {
        }
    }
}
