package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.diagnostics.FailureAnalysis;

import dev.folk.core.testing.Procs;
import dev.folk.spring.boot.autoconfigure.SpringBootSupport.UnsupportedSpringBootException;
import dev.folk.spring.boot.autoconfigure.app.SignalTestApplication;

/**
 * The starter on a Spring Boot it does not work with: on Spring Boot 3 its health, metrics and JSON
 * would be skipped without a word, so start-up fails and says so.
 */
class SpringBootSupportTest {

    @Test
    void springBoot3IsRefusedAndEveryReleaseFrom4On() {
        assertThatThrownBy(() -> SpringBootSupport.check("3.5.16"))
                .isInstanceOf(UnsupportedSpringBootException.class)
                .hasMessageContaining("needs Spring Boot 4.0 or later")
                .hasMessageContaining("Spring Boot 3.5.16");
        assertThatThrownBy(() -> SpringBootSupport.check("2.7.18")).isInstanceOf(UnsupportedSpringBootException.class);
        for (String version : new String[] {"4.0.1", "4.0.7", "4.1.1", "4.1.2-SNAPSHOT", "5.0.0-M1", "10.0.0"}) {
            assertThatCode(() -> SpringBootSupport.check(version)).as(version).doesNotThrowAnyException();
        }
    }

    @Test
    void aVersionThatCannotBeReadIsNotHeldAgainstTheApplication() {
        for (String version : new String[] {null, "", "unknown", "v3.5"}) {
            assertThatCode(() -> SpringBootSupport.check(version)).as(String.valueOf(version)).doesNotThrowAnyException();
        }
    }

    @Test
    void theAnalysisNamesBothVersionsAndWhatToDo() {
        UnsupportedSpringBootException e = new UnsupportedSpringBootException("3.5.16");
        FailureAnalysis analysis = new UnsupportedSpringBootFailureAnalyzer().analyze(e);
        assertThat(analysis.getDescription()).contains("needs Spring Boot 4.0 or later")
                .contains("has Spring Boot 3.5.16").contains("No worker was started");
        assertThat(analysis.getAction()).contains("Spring Boot 4.0 or later").contains("folk-spring-boot-starter");
    }

    /**
     * An application whose {@code SpringBootVersion} says 3.5.16 (a class of that name ahead of Spring
     * Boot's on the class path) does not start, prints the analysis, and started no worker.
     */
    @Test
    void anApplicationOnSpringBoot3FailsToStartAndStartsNoWorker(@TempDir Path dir) throws Exception {
        Path classes = compileSpringBootVersion(dir, "3.5.16");
        String tag = "boot3-" + ProcessHandle.current().pid();
        String classPath = classes + File.pathSeparator + System.getProperty("java.class.path");
        ChildJvm jvm = ChildJvm.start(classPath, SignalTestApplication.class, List.of("--folk.args=" + TestWorkers.TEST,
                "--folk.env.FOLK_TEST_RUN=" + tag, "--spring.main.banner-mode=off",
                "--spring.application.name=" + tag));
        try {
            assertThat(jvm.process().waitFor(60, TimeUnit.SECONDS)).as("the application ended").isTrue();
            assertThat(jvm.process().exitValue()).isNotZero();
            jvm.awaitLine("APPLICATION FAILED TO START", Duration.ofSeconds(5));
            jvm.awaitLine("Folk for Spring Boot needs Spring Boot 4.0 or later; this application has Spring Boot 3.5.16",
                    Duration.ofSeconds(5));
            assertThat(jvm.log()).doesNotContain("READY ");
            assertThat(Procs.withEnv("FOLK_TEST_RUN", tag)).as("workers of that run").isEmpty();
        } finally {
            jvm.process().destroyForcibly();
        }
    }

    /** A {@code org.springframework.boot.SpringBootVersion} whose getVersion() says {@code version}, compiled into {@code dir}. */
    private static Path compileSpringBootVersion(Path dir, String version) throws IOException {
        Path source = dir.resolve("src/org/springframework/boot/SpringBootVersion.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, "package org.springframework.boot;\n"
                + "public final class SpringBootVersion {\n"
                + "    private SpringBootVersion() {}\n"
                + "    public static String getVersion() { return \"" + version + "\"; }\n"
                + "}\n");
        Path classes = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int status = javac.run(null, null, null, "-d", classes.toString(), source.toString());
        assertThat(status).as("javac of the stand-in SpringBootVersion").isZero();
        return classes;
    }
}
