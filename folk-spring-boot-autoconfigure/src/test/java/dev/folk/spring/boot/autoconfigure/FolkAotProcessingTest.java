package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.aot.generate.ClassNameGenerator;
import org.springframework.aot.generate.DefaultGenerationContext;
import org.springframework.aot.generate.GeneratedFiles.Kind;
import org.springframework.aot.generate.InMemoryGeneratedFiles;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.context.annotation.AnnotatedBeanDefinitionReader;
import org.springframework.context.aot.ApplicationContextAotGenerator;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.javapoet.ClassName;

/**
 * Spring AOT's build step ({@code process-aot}) over an application with the starter: it failed
 * for every such application ("instance supplier is not supported" for {@code folkPool.<name>}).
 * The pool beans are left to run time, where their registrar runs again.
 */
class FolkAotProcessingTest {

    @ImportAutoConfiguration(FolkAutoConfiguration.class)
    static class App {
    }

    @Test
    void theStarterGoesThroughAotProcessingAndLeavesThePoolBeansToRunTime() throws Exception {
        try (GenericApplicationContext context = new GenericApplicationContext()) {
            context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("test", java.util.Map.of(
                    "folk.pools.web.size", "1", "folk.pools.images.size", "1", "folk.shutdown.signal-handler", "false")));
            new AnnotatedBeanDefinitionReader(context).register(App.class);
            InMemoryGeneratedFiles files = new InMemoryGeneratedFiles();
            DefaultGenerationContext generation = new DefaultGenerationContext(
                    new ClassNameGenerator(ClassName.get(App.class)), files);
            new ApplicationContextAotGenerator().processAheadOfTime(context, generation);
            generation.writeGeneratedContent();
            List<String> sources = new ArrayList<>(files.getGeneratedFiles(Kind.SOURCE).keySet());
            assertThat(sources).as("code generated for the context").isNotEmpty();
            StringBuilder all = new StringBuilder();
            for (String path : sources) {
                all.append(files.getGeneratedFileContent(Kind.SOURCE, path));
            }
            assertThat(all).as("the registrar's own bean is in the generated code").contains("folkPoolBeanRegistrar");
            assertThat(all).as("the pools' beans are not: the registrar makes them at run time")
                    .doesNotContain("folkPool.web").doesNotContain("folkPool.images");
        }
    }
}
