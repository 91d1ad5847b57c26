package dev.folk.spring.boot.pool;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.folk.core.pool.BootFailure;
import dev.folk.core.pool.PoolListener;
import dev.folk.core.pool.WorkerPool;

/**
 * When a worker fails to boot, checks whether the class path scripts extracted for the workers were
 * deleted since start-up (a cleaner of the temporary directory, docs/operations.md); if so, extracts
 * them again, says so, and has every pool retry its failed boots at once. Without it each pool would
 * fail every boot from then on, turn BROKEN and retry for as long as the application runs, with
 * nothing in the log but PHP's "Could not open input file".
 */
public final class DeletedScriptsRestorer implements PoolListener {

    private static final Logger log = LoggerFactory.getLogger(DeletedScriptsRestorer.class);

    private final ClasspathScripts scripts;
    private final List<WorkerPool> pools;

    public DeletedScriptsRestorer(ClasspathScripts scripts, List<WorkerPool> pools) {
        this.scripts = scripts;
        this.pools = List.copyOf(pools);
    }

    @Override
    public void bootFailed(WorkerPool pool, BootFailure failure) {
        int missing;
        try {
            missing = scripts.restoreIfDeleted();
        } catch (RuntimeException e) {
            log.warn("Pool '{}': the worker scripts extracted into {} were deleted, and extracting them again failed: {}",
                    pool.name(), scripts.directory(), e.getMessage());
            return;
        }
        if (missing == 0) {
            return;
        }
        log.warn("Pool '{}': {} of the worker scripts extracted into {} had been deleted since start-up (by a cleaner of "
                + "the temporary directory?), so its worker could not start; they are extracted again and the pools' "
                + "failed starts retried. Keep them from being deleted: docs/operations.md, \"Extracted scripts and the "
                + "cleaning of /tmp\"", pool.name(), missing, scripts.directory());
        for (WorkerPool p : pools) {
            p.retryFailedBoots();
        }
    }
}
