package dev.folk.spring.boot.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

import dev.folk.spring.boot.autoconfigure.SpringBootSupport.UnsupportedSpringBootException;

/** Explains an {@link UnsupportedSpringBootException}: the version found, the one needed, what to do. */
public class UnsupportedSpringBootFailureAnalyzer extends AbstractFailureAnalyzer<UnsupportedSpringBootException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, UnsupportedSpringBootException cause) {
        String description = "Folk for Spring Boot needs Spring Boot " + SpringBootSupport.OLDEST_MAJOR
                + ".0 or later; this application has Spring Boot " + cause.version() + ". No worker was started.\n"
                + "On it, Folk's health contributor, metrics and JSON mapping, which are built on Spring Boot "
                + SpringBootSupport.OLDEST_MAJOR + "'s modules, would be left out without a warning.";
        String action = "Move the application to Spring Boot " + SpringBootSupport.OLDEST_MAJOR
                + ".0 or later (its parent or BOM), or remove folk-spring-boot-starter from its dependencies.";
        return new FailureAnalysis(description, action, cause);
    }
}
