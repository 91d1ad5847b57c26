package dev.folk.spring.boot.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

import dev.folk.spring.boot.autoconfigure.FolkStartupException.NotReady;

/** Explains a {@link FolkStartupException}: which pool was not ready in time, and its last failure. */
public class FolkStartupFailureAnalyzer extends AbstractFailureAnalyzer<FolkStartupException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, FolkStartupException cause) {
        StringBuilder description = new StringBuilder("Folk worker pools did not become ready in time:\n");
        for (NotReady p : cause.pools()) {
            description.append('\n')
                    .append("    Pool:         ").append(p.pool()).append('\n')
                    .append("    Command:      ").append(p.command()).append('\n')
                    .append("    Ready:        ").append(p.ready()).append(" of ").append(p.minReady())
                    .append(" required, after ").append(p.waited().toMillis()).append(" ms\n")
                    .append("    Last failure: ").append(p.lastFailure() == null ? "none recorded" : p.lastFailure())
                    .append('\n');
        }
        String action = """
                Check that the worker command runs by hand and speaks the Folk protocol (its output is logged
                under dev.folk.worker.<pool>). If the workers are only slow to start, raise folk.boot-timeout
                (or folk.pools.<name>.boot-timeout), or lower folk.min-ready to start with fewer ready workers.""";
        return new FailureAnalysis(description.toString(), action, cause);
    }
}
