package dev.folk.spring.boot.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aot.AotDetector;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.support.AutowireCandidateQualifier;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.LazyInitializationExcludeFilter;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.handler.IgnoreErrorsBindHandler;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.EnvironmentAware;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotatedTypeMetadata;

import dev.folk.core.pool.PoolListener;
import dev.folk.core.pool.ValueMapper;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.supervision.Supervisor;
import dev.folk.core.util.Durations;
import dev.folk.spring.boot.autoconfigure.PoolDefinitions.PoolDefinition;
import dev.folk.spring.boot.lifecycle.FolkReadiness;
import dev.folk.spring.boot.lifecycle.SaturationReadiness;
import dev.folk.spring.boot.lifecycle.FolkShutdownHook;
import dev.folk.spring.boot.lifecycle.FolkSignalHandler;
import dev.folk.spring.boot.pool.ClasspathScripts;
import dev.folk.spring.boot.pool.DeletedScriptsRestorer;
import dev.folk.spring.boot.pool.FolkPools;
import dev.folk.spring.boot.lifecycle.FolkLifecycle;

/**
 * Auto-configuration of Folk worker pools: one {@link Supervisor}, a {@link FolkPools} registry,
 * one {@link WorkerPool} bean per configured pool (qualifier: the pool's name), the
 * {@link FolkLifecycle} that starts and stops them, readiness, the JVM shutdown hook and the
 * signal handler. Every bean backs off when the application defines its own; {@code folk.enabled=false}
 * turns it all off.
 */
@AutoConfiguration
@ConditionalOnBooleanProperty(name = "folk.enabled", matchIfMissing = true)
@EnableConfigurationProperties(FolkProperties.class)
public final class FolkAutoConfiguration {

    private static final Logger log = LoggerFactory.getLogger(FolkAutoConfiguration.class);

    /** Property giving Spring's budget per shutdown phase. */
    static final String SHUTDOWN_PHASE_TIMEOUT = "spring.lifecycle.timeout-per-shutdown-phase";

    /**
     * Fails start-up on a Spring Boot the starter does not work with: as a bean factory post-processor,
     * before any bean is made (no pool, and no web server whose failure to start would be blamed).
     */
    @Bean
    static BeanFactoryPostProcessor folkSpringBootVersionCheck() {
        return beanFactory -> SpringBootSupport.check(SpringBootVersion.getVersion());
    }

    /** Bean name of the pool named {@code pool}. */
    public static String poolBeanName(String pool) {
        return "folkPool." + pool;
    }

    static Duration shutdownPhaseTimeout(Environment environment) {
        return Binder.get(environment).bind(SHUTDOWN_PHASE_TIMEOUT, Duration.class)
                .orElse(PoolDefinitions.DEFAULT_SHUTDOWN_PHASE_TIMEOUT);
    }

    @Bean
    @ConditionalOnMissingBean
    public Supervisor folkSupervisor(FolkProperties properties, Environment environment) {
        Supervisor.Builder builder = Supervisor.builder();
        if (properties.getState().isEnabled()) {
            builder.stateFile(stateFile(properties, environment));
        }
        return builder.build();
    }

    /** folk.state.file, or folk-<user>/<application name>.state under the temporary directory. */
    static java.nio.file.Path stateFile(FolkProperties properties, Environment environment) {
        if (properties.getState().getFile() != null) {
            return properties.getState().getFile();
        }
        String name = System.getProperty("user.name", "?");
        // A uid without a passwd entry is named "?": its uid names its directory instead.
        String user = name.equals("?") ? "uid" + dev.folk.core.supervision.RunAs.effectiveUid()
                : name.replaceAll("[^A-Za-z0-9._-]", "_");
        String app = environment.getProperty("spring.application.name", "application")
                .replaceAll("[^A-Za-z0-9._-]", "_");
        return java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "folk-" + user, app + ".state");
    }

    /** Scripts and the PHP library from the class path, extracted for the workers; removed at close. */
    @Bean
    @ConditionalOnMissingBean
    public ClasspathScripts folkClasspathScripts(ConfigurableApplicationContext context) {
        ClassLoader loader = context.getClassLoader() != null ? context.getClassLoader()
                : FolkAutoConfiguration.class.getClassLoader();
        return new ClasspathScripts(loader);
    }

    @Bean
    @ConditionalOnMissingBean
    public FolkLifecycle folkLifecycle(FolkPools pools) {
        return new FolkLifecycle(pools);
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty(name = "folk.readiness.enabled", matchIfMissing = true)
    public FolkReadiness folkReadiness(ApplicationEventPublisher publisher) {
        return new FolkReadiness(publisher);
    }

    /**
     * Readiness that follows the pools' queues, with {@code folk.readiness.max-queue} and
     * {@code folk.readiness.pools.<name>.max-queue}.
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty(name = "folk.readiness.enabled", matchIfMissing = true)
    @Conditional(OnReadinessMaxQueue.class)
    public SaturationReadiness folkSaturationReadiness(FolkPools pools, ApplicationEventPublisher publisher,
                                                       ObjectProvider<ApplicationAvailability> availability,
                                                       FolkProperties properties) {
        FolkProperties.Readiness r = properties.getReadiness();
        List<FolkConfigurationException.Violation> violations = new ArrayList<>();
        String notNegative = "Use a number of waiting calls (0 or more).";
        if (r.getMaxQueue() != null && r.getMaxQueue() < 0) {
            violations.add(new FolkConfigurationException.Violation("folk.readiness.max-queue", r.getMaxQueue(),
                    "must not be negative", notNegative));
        }
        if (r.getRecovery() == null || r.getRecovery().isNegative()) {
            violations.add(new FolkConfigurationException.Violation("folk.readiness.recovery", r.getRecovery(),
                    "must not be negative", "Use a duration such as 5s."));
        }
        List<String> names = pools.all().stream().map(WorkerPool::name).toList();
        r.getPools().forEach((name, pool) -> {
            if (!names.contains(name)) {
                violations.add(new FolkConfigurationException.Violation("folk.readiness.pools." + name, name,
                        "names no pool", "Use one of the pools' names: " + String.join(", ", names) + "."));
            } else if (pool.getMaxQueue() != null && pool.getMaxQueue() < 0) {
                violations.add(new FolkConfigurationException.Violation("folk.readiness.pools." + name + ".max-queue",
                        pool.getMaxQueue(), "must not be negative", notNegative));
            }
        });
        if (!violations.isEmpty()) {
            throw new FolkConfigurationException(violations);
        }
        Map<String, Integer> maxQueues = new LinkedHashMap<>();
        for (String name : names) {
            FolkProperties.PoolReadiness own = r.getPools().get(name);
            Integer max = own != null && own.getMaxQueue() != null ? own.getMaxQueue() : r.getMaxQueue();
            if (max != null && (own == null || own.isEnabled())) {
                maxQueues.put(name, max);
            }
        }
        return new SaturationReadiness(pools, publisher, availability.getIfAvailable(), maxQueues, r.getRecovery());
    }

    /** {@code folk.readiness.max-queue}, or the same key of any pool, is set. */
    static final class OnReadinessMaxQueue extends SpringBootCondition {

        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            Binder binder = Binder.get(context.getEnvironment());
            if (binder.bind("folk.readiness.max-queue", String.class).isBound()) {
                return ConditionOutcome.match("folk.readiness.max-queue is set");
            }
            Map<String, Object> pools = binder.bind("folk.readiness.pools", Bindable.mapOf(String.class, Object.class),
                    new IgnoreErrorsBindHandler()).orElse(Map.of());
            for (String name : pools.keySet()) {
                if (binder.bind("folk.readiness.pools." + name + ".max-queue", String.class).isBound()) {
                    return ConditionOutcome.match("folk.readiness.pools." + name + ".max-queue is set");
                }
            }
            return ConditionOutcome.noMatch("neither folk.readiness.max-queue nor folk.readiness.pools.<name>.max-queue is set");
        }
    }

    /** Pools written empty in YAML ({@code default: {}}) take their keys from other sources too. */
    @Bean
    static EntriesWrittenEmpty folkEntriesWrittenEmpty(Environment environment) {
        return new EntriesWrittenEmpty(environment);
    }

    /**
     * Keeps the kill-and-reap safety nets eager under {@code spring.main.lazy-initialization}: a
     * lazy JVM hook would only be made when the context closes (too late to register one), and a
     * lazy signal handler never.
     */
    /** Under Spring AOT, warns of run-time settings the build's choice of beans ignores. */
    @Bean
    static FolkAotRunTimeCheck folkAotRunTimeCheck(Environment environment, ListableBeanFactory beanFactory) {
        return new FolkAotRunTimeCheck(AotDetector.useGeneratedArtifacts(), environment, beanFactory);
    }

    @Bean
    static LazyInitializationExcludeFilter folkEagerShutdownBeans() {
        return LazyInitializationExcludeFilter.forBeanTypes(FolkShutdownHook.class, FolkSignalHandler.class);
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty(name = "folk.shutdown.jvm-hook", matchIfMissing = true)
    public FolkShutdownHook folkShutdownHook(Supervisor supervisor, ConfigurableApplicationContext context,
                                             FolkProperties properties, Environment environment,
                                             ObjectProvider<FolkPools> pools) {
        Duration phase = shutdownPhaseTimeout(environment);
        FolkPools folkPools = pools.getIfUnique();
        // Without pools to ask, one phase: validation keeps every pool's stop within it.
        Duration poolsClose = folkPools != null ? folkPools.closeBound() : phase;
        Duration needed = FolkShutdownHook.defaultWait(phase, poolsClose);
        Duration wait = properties.getShutdown().getJvmHookWait();
        if (wait == null || wait.isNegative()) {
            wait = needed;
        } else if (wait.compareTo(needed) < 0) {
            log.warn("folk.shutdown.jvm-hook-wait={} is shorter than a graceful shutdown may take ({}: {}={}, the "
                            + "web server's stop {}, the pools' close {}): at JVM exit the hook may kill workers whose "
                            + "calls are still draining. Leave it unset, or shorten the pools' drain-timeout or {}.",
                    Durations.text(wait), Durations.text(needed), SHUTDOWN_PHASE_TIMEOUT, Durations.text(phase),
                    Durations.text(FolkShutdownHook.WEB_SERVER_STOP), Durations.text(poolsClose), SHUTDOWN_PHASE_TIMEOUT);
        }
        return new FolkShutdownHook(supervisor, context, wait);
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty(name = "folk.shutdown.signal-handler", matchIfMissing = true)
    public FolkSignalHandler folkSignalHandler(Supervisor supervisor) {
        return new FolkSignalHandler(supervisor);
    }

    /** The pools, and one bean per pool; backs off entirely when the application has its own {@link FolkPools}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnMissingBean(FolkPools.class)
    static final class PoolsConfiguration {

        /**
         * Validates {@code folk.*} (no worker is started if anything is wrong) and creates the pools,
         * not yet started. Every {@link PoolListener} bean is added to every pool, and a
         * {@link ValueMapper} bean (the JSON mapper's, by default) converts typed calls.
         */
        @Bean
        FolkPools folkPools(FolkProperties properties, Supervisor supervisor, Environment environment,
                            ObjectProvider<PoolListener> listeners, ObjectProvider<ValueMapper> valueMapper,
                            ClasspathScripts scripts) {
            UnknownKeys.warnAbout(environment);
            List<PoolDefinition> definitions = PoolDefinitions.resolve(properties,
                    shutdownPhaseTimeout(environment), environment::getProperty, scripts);
            UnknownKeys.warnAboutNearPoolNames(definitions.stream().map(PoolDefinition::name).toList());
            List<PoolListener> poolListeners = listeners.orderedStream().toList();
            List<WorkerPool> pools = new ArrayList<>();
            Map<String, Integer> minReady = new LinkedHashMap<>();
            ValueMapper mapper = valueMapper.getIfAvailable();
            for (PoolDefinition d : definitions) {
                WorkerPool pool = new WorkerPool(mapper == null ? d.config()
                        : d.config().toBuilder().valueMapper(mapper).build(), supervisor);
                poolListeners.forEach(pool::addListener);
                pools.add(pool);
                minReady.put(d.name(), d.minReady());
            }
            if (scripts.directory() != null) { // something was extracted (resolving the pools' args did it)
                DeletedScriptsRestorer restorer = new DeletedScriptsRestorer(scripts, pools);
                pools.forEach(p -> p.addListener(restorer));
            }
            return new FolkPools(pools, minReady);
        }

        @Bean
        static FolkPoolBeanRegistrar folkPoolBeanRegistrar() {
            return new FolkPoolBeanRegistrar();
        }
    }

    /**
     * Registers one {@link WorkerPool} bean per configured pool, named {@code folkPool.<name>} and
     * qualified with the pool's name, so {@code @Qualifier("images") WorkerPool pool} injects the
     * pool {@code images}. With one pool, plain {@code WorkerPool} injection works; with several,
     * a pool named {@code default} (if any) is primary. A bean definition of the same name that
     * the application registered is left alone.
     */
    static final class FolkPoolBeanRegistrar implements BeanDefinitionRegistryPostProcessor, EnvironmentAware {

        /** Marks the definitions registered here ({@link FolkAotExcludeFilter} leaves them to run time). */
        static final String REGISTERED_HERE = FolkPoolBeanRegistrar.class.getName();

        @SuppressWarnings("NullAway.Init") // set by Spring (EnvironmentAware) before any other call
        private Environment environment;

        @Override
        public void setEnvironment(Environment environment) {
            this.environment = environment;
        }

        @Override
        public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
            Set<String> names = poolNames(environment);
            for (String name : names) {
                String beanName = poolBeanName(name);
                if (registry.containsBeanDefinition(beanName)) {
                    continue;
                }
                BeanFactory beanFactory = (BeanFactory) registry;
                RootBeanDefinition definition = new RootBeanDefinition(WorkerPool.class,
                        () -> beanFactory.getBean(FolkPools.class).get(name));
                definition.addQualifier(new AutowireCandidateQualifier(Qualifier.class, name));
                // FolkPools owns the pools: it closes them (in parallel), not each pool bean.
                definition.setDestroyMethodName("");
                definition.setPrimary(names.size() > 1 && FolkProperties.DEFAULT_POOL.equals(name));
                definition.setAttribute(REGISTERED_HERE, Boolean.TRUE);
                registry.registerBeanDefinition(beanName, definition);
            }
        }

        static Set<String> poolNames(Environment environment) {
            Map<String, Object> pools = Binder.get(environment)
                    .bind("folk.pools", Bindable.mapOf(String.class, Object.class), new IgnoreErrorsBindHandler())
                    .orElse(Map.of());
            if (pools.isEmpty()) {
                return Set.of(FolkProperties.DEFAULT_POOL);
            }
            return pools.keySet();
        }
    }
}
