package dev.folk.spring.boot.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

import dev.folk.spring.boot.autoconfigure.FolkConfigurationException.Violation;

/**
 * Explains a {@link FolkConfigurationException}: each invalid key with its value and problem, and
 * what to do about each (for a missing {@code php}, how to install it).
 */
public class FolkConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<FolkConfigurationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, FolkConfigurationException cause) {
        StringBuilder description = new StringBuilder("The Folk worker pools are not configured correctly; no worker "
                + "was started.\n");
        StringBuilder action = new StringBuilder("Update your application's configuration:\n");
        for (Violation v : cause.violations()) {
            description.append('\n')
                    .append("    Property: ").append(v.key()).append('\n')
                    .append("    Value:    ").append(v.value() == null ? "(not set)" : "\"" + v.value() + "\"").append('\n')
                    .append("    Reason:   ").append(v.problem()).append('\n');
            action.append('\n').append("    ").append(v.key()).append(": ").append(v.action()).append('\n');
        }
        return new FailureAnalysis(description.toString(), action.toString(), cause);
    }
}
