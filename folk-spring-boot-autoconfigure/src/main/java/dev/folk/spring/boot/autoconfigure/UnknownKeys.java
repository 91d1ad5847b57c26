package dev.folk.spring.boot.autoconfigure;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.StreamSupport;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.BeanUtils;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.PropertySourcesPlaceholdersResolver;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.bind.handler.NoUnboundElementsBindHandler;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;

import dev.folk.spring.boot.autoconfigure.http.FolkHttpProperties;

/**
 * Keys under {@code folk.} that no setting has: a misspelt key ({@code folk.sise},
 * {@code folk.pools.web.exec-timout}) is otherwise ignored without a word, and the pool runs with the
 * default the user meant to change. Each is logged as a warning naming where it was set and, when one
 * is close, the key meant. As Spring Boot does for its own unknown keys, the system environment and
 * the JVM's system properties are not looked at: they hold names of other programs (FOLK_* variables
 * of scripts and tests).
 */
final class UnknownKeys {

    private static final Logger log = LoggerFactory.getLogger(UnknownKeys.class);
    private static final ConfigurationPropertyName HTTP = ConfigurationPropertyName.of("folk.http");
    private static final Set<String> NOT_LOOKED_AT = Set.of(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
            StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME);

    private UnknownKeys() {
    }

    /** Logs a warning for each unknown key. */
    static void warnAbout(Environment environment) {
        for (ConfigurationProperty unknown : find(environment)) {
            String name = unknown.getName().toString();
            String meant = closest(name);
            log.warn("Unknown configuration key {} ({}): no Folk setting has this name, so it changes nothing.{}",
                    name, unknown.getOrigin() != null ? unknown.getOrigin() : "origin unknown",
                    meant == null ? " The auto-configuration README lists every key." : " Did you mean " + meant + "?");
        }
    }

    /**
     * Warns of two pools whose names are one letter apart ({@code slim}, {@code slimm}): a misspelt
     * pool name in {@code folk.pools.<name>.*} is no unknown key but a pool of its own, which runs the
     * shared {@code folk.args} script and is started with the others. Names that differ in a digit
     * ({@code web1}, {@code web2}) are meant apart.
     */
    static void warnAboutNearPoolNames(Collection<String> pools) {
        List<String> names = List.copyOf(pools);
        for (int i = 0; i < names.size(); i++) {
            for (int j = i + 1; j < names.size(); j++) {
                String a = names.get(i);
                String b = names.get(j);
                if (Math.min(a.length(), b.length()) >= 3 && distance(a, b) == 1 && !differInADigit(a, b)) {
                    log.warn("Pools '{}' and '{}' are named one letter apart: if one is a misspelling, its keys "
                            + "(folk.pools.{}.*, folk.pools.{}.*) made a pool of its own, which runs the shared "
                            + "folk.args script unless it sets its own. Rename it if so.", a, b, a, b);
                }
            }
        }
    }

    /** Whether the one edit between {@code a} and {@code b} is a digit (web1, web2; web, web2). */
    private static boolean differInADigit(String a, String b) {
        int i = 0;
        while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        char x = i < a.length() ? a.charAt(i) : ' ';
        char y = i < b.length() ? b.charAt(i) : ' ';
        return Character.isDigit(x) || Character.isDigit(y);
    }

    /** The keys under {@code folk.} no setting binds, in the order of their names. */
    static List<ConfigurationProperty> find(Environment environment) {
        List<ConfigurationPropertySource> sources = StreamSupport.stream(
                ConfigurationPropertySources.get(environment).spliterator(), false).toList();
        PropertySourcesPlaceholdersResolver placeholders = new PropertySourcesPlaceholdersResolver(environment);
        // folk.http.* are another class's (FolkHttpProperties): hidden while folk.* is bound.
        List<ConfigurationPropertySource> withoutHttp = sources.stream()
                .map(s -> s.filter(n -> !HTTP.equals(n) && !HTTP.isAncestorOf(n))).toList();
        Set<ConfigurationProperty> unbound = new TreeSet<>(Comparator.comparing(p -> p.getName().toString()));
        unbound.addAll(unbound(new Binder(withoutHttp, placeholders), "folk", FolkProperties.class));
        unbound.addAll(unbound(new Binder(sources, placeholders), HTTP.toString(), FolkHttpProperties.class));
        List<ConfigurationProperty> unknown = new ArrayList<>();
        for (ConfigurationProperty p : unbound) {
            if (!isEntryWrittenEmpty(p)) {
                unknown.add(p);
            }
        }
        return unknown;
    }

    private static Set<ConfigurationProperty> unbound(Binder binder, String prefix, Class<?> type) {
        try {
            binder.bind(prefix, Bindable.of(type), new NoUnboundElementsBindHandler(new EntriesWrittenEmpty.FromTheirKeys(),
                    UnknownKeys::lookedAt));
            return Set.of();
        } catch (BindException e) {
            // Any other binding error (a value that does not convert) is the real binding's to report.
            return e.getCause() instanceof UnboundConfigurationPropertiesException u ? u.getUnboundProperties() : Set.of();
        }
    }

    private static boolean lookedAt(ConfigurationPropertySource source) {
        return !(source.getUnderlyingSource() instanceof PropertySource<?> p && NOT_LOOKED_AT.contains(p.getName()));
    }

    /** The empty value of a pool written {@code name: {}}: no unknown key, though nothing binds it. */
    private static boolean isEntryWrittenEmpty(ConfigurationProperty p) {
        return "".equals(String.valueOf(p.getValue())) && EntriesWrittenEmpty.isEntry(p.getName());
    }

    /**
     * The key the user probably meant: the name with its first element no setting has replaced by
     * the closest key, if that is a typo away (one or two edits); null if none is.
     */
    static @Nullable String closest(String name) {
        Set<String> keys = keys();
        String[] elements = name.split("\\.");
        for (int i = 1; i < elements.length; i++) {
            String element = elements[i];
            int index = element.indexOf('[');
            String bare = index < 0 ? element : element.substring(0, index);
            if (!keys.contains(bare)) {
                String best = null;
                int bestDistance = 3;
                for (String key : keys) {
                    int d = distance(bare.toLowerCase(Locale.ROOT), key);
                    if (d < bestDistance) {
                        best = key;
                        bestDistance = d;
                    }
                }
                if (best == null) {
                    return null;
                }
                elements[i] = best + (index < 0 ? "" : element.substring(index));
                return String.join(".", elements);
            }
            if (bare.equals("pools") || bare.equals("env")) {
                i++; // a pool's name, a variable's name: any
            }
        }
        return null;
    }

    /** Every element a Folk key may have, in kebab case: the properties of the settings classes. */
    private static Set<String> keys() {
        Set<String> keys = new TreeSet<>(Set.of("http")); // FolkHttpProperties' prefix
        List<Class<?>> types = new ArrayList<>(List.of(FolkProperties.class, PoolProperties.class,
                FolkHttpProperties.class, FolkHttpProperties.Mapping.class));
        for (int t = 0; t < types.size(); t++) {
            for (var d : BeanUtils.getPropertyDescriptors(types.get(t))) {
                if (d.getReadMethod() == null || d.getName().equals("class")) {
                    continue;
                }
                keys.add(PoolDefinitions.kebab(d.getName()));
                Class<?> type = d.getPropertyType();
                if (type.getName().startsWith("dev.folk.") && !type.isEnum() && !types.contains(type)) {
                    types.add(type); // a group of keys: shutdown, readiness, state, watch...
                }
            }
        }
        return keys;
    }

    /** Levenshtein distance. */
    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
