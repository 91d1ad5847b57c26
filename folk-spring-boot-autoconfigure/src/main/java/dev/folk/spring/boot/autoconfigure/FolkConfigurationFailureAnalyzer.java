package dev.folk.spring.boot.autoconfigure;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.origin.Origin;
import org.springframework.core.env.Environment;

import dev.folk.spring.boot.autoconfigure.FolkConfigurationException.Violation;

/**
 * Explains a {@link FolkConfigurationException}: each invalid key with its value, where that value
 * was set (as Spring Boot's own binding report says it: an environment variable that outranks
 * application.yml is otherwise hard to find), its problem, and what to do about each (for a
 * missing {@code php}, how to install it).
 */
public class FolkConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<FolkConfigurationException> {

    private final @Nullable Environment environment;

    /** Spring Boot passes the failed application's environment (null: no origins are shown). */
    public FolkConfigurationFailureAnalyzer(@Nullable Environment environment) {
        this.environment = environment;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, FolkConfigurationException cause) {
        boolean gatewayOnly = cause.violations().stream().allMatch(v -> v.key().startsWith("folk.http."));
        StringBuilder description = new StringBuilder(gatewayOnly
                ? "The Folk HTTP gateway is not configured correctly; no worker was started.\n"
                : "The Folk worker pools are not configured correctly; no worker was started.\n");
        StringBuilder action = new StringBuilder("Update your application's configuration:\n");
        for (Violation v : cause.violations()) {
            description.append('\n')
                    .append("    Property: ").append(v.key()).append('\n')
                    .append("    Value:    ").append(v.value() == null ? "(not set)" : "\"" + v.value() + "\"").append('\n');
            Origin origin = v.value() == null ? null : origin(v.key());
            if (origin != null) {
                description.append("    Origin:   ").append(origin).append('\n');
            }
            description.append("    Reason:   ").append(v.problem()).append('\n');
            action.append('\n').append("    ").append(v.key()).append(": ").append(v.action()).append('\n');
        }
        return new FailureAnalysis(description.toString(), action.toString(), cause);
    }

    /** Where the key's value comes from: the first property source that has it, as the binder reads them. */
    private @Nullable Origin origin(String key) {
        ConfigurationPropertyName name = ConfigurationPropertyName.ofIfValid(key);
        if (environment == null || name == null) {
            return null;
        }
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
            ConfigurationProperty property = source.getConfigurationProperty(name);
            if (property != null) {
                return property.getOrigin();
            }
        }
        return null;
    }
}
