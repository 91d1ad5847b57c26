package dev.folk.spring.boot.autoconfigure.json;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.folk.core.pool.ValueMapper;
import dev.folk.spring.boot.autoconfigure.FolkAutoConfiguration;
import dev.folk.spring.boot.json.JsonValueMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Typed calls bind records and POJOs with the application's JSON mapper: a {@link ValueMapper}
 * over Spring Boot's {@link JsonMapper} bean, which every pool then uses. Define your own
 * {@link ValueMapper} bean to replace it.
 */
@AutoConfiguration(before = FolkAutoConfiguration.class,
        afterName = "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration")
@ConditionalOnClass(name = "tools.jackson.databind.json.JsonMapper")
public final class FolkJsonAutoConfiguration {

    /** Nested so that {@link JsonMapper} is only resolved once Jackson is known to be present. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBean(JsonMapper.class)
    static final class JsonValueMapperConfiguration {

        @Bean
        @ConditionalOnMissingBean(ValueMapper.class)
        ValueMapper folkValueMapper(JsonMapper jsonMapper) {
            return new JsonValueMapper(jsonMapper);
        }
    }
}
