package dev.folk.spring.boot.lifecycle;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

import dev.folk.core.pool.BootFailure;
import dev.folk.spring.boot.lifecycle.FolkStartupException.NotReady;
import dev.folk.spring.boot.pool.PhpCommand;

/**
 * Explains a {@link FolkStartupException}: which pool was not ready, how its last worker ended
 * (exit status and the lines it printed), and, for the causes we recognise, what to do.
 */
public class FolkStartupFailureAnalyzer extends AbstractFailureAnalyzer<FolkStartupException> {

    /** What an interpreter's message says of a file it cannot open, in lower case. */
    private static final List<String> NOT_THERE = List.of("no such file", "can't open", "cannot open", "cannot find module");

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, FolkStartupException cause) {
        StringBuilder description = new StringBuilder("Folk worker pools did not become ready:\n");
        List<String> actions = new ArrayList<>();
        for (NotReady p : cause.pools()) {
            BootFailure f = p.lastBootFailure();
            description.append('\n')
                    .append("    Pool:         ").append(p.pool()).append('\n')
                    .append("    Command:      ").append(p.command()).append('\n')
                    .append("    Ready:        ").append(p.ready()).append(" of ").append(p.minReady())
                    .append(" required, after ").append(p.waited().toMillis()).append(" ms and ")
                    .append(p.bootFailures()).append(" failed boot").append(p.bootFailures() == 1 ? "" : "s")
                    .append('\n')
                    .append("    Last failure: ").append(p.lastFailure() == null ? "none recorded: the workers were "
                            + "still starting (no worker became ready within " + p.bootTimeout().toMillis()
                            + " ms)" : p.lastFailure()).append('\n');
            if (f != null && f.status() != null) {
                description.append("    Exit status:  ").append(f.status()).append('\n');
            }
            if (f != null && !f.output().isEmpty()) {
                description.append("    Its output:\n");
                f.output().forEach(line -> description.append("        ").append(line).append('\n'));
            } else if (f != null) {
                description.append("    Its output:   nothing\n");
            }
            String advice = advice(p);
            if (advice != null && !actions.contains(advice)) {
                actions.add(advice);
            }
        }
        if (actions.isEmpty()) {
            // No cause recognised. Not "run the command by hand": that is no worker's start (no fd 3 and
            // 4, no FOLK_WORKER_PHP, and classpath: scripts live in a folder removed at exit).
            actions.add("The workers' output (above, and logged under dev.folk.worker.<pool>) says why they ended;"
                    + " php -l <script> checks a PHP script's syntax. Tried outside the pool, a worker lacks the pool's"
                    + " sockets (fd 3 and 4) and environment (FOLK_WORKER_PHP), and classpath: scripts are extracted into"
                    + " a folder removed at exit. If the workers are only slow to start, raise folk.boot-timeout (or"
                    + " folk.pools.<name>.boot-timeout), or lower folk.min-ready to start with fewer ready workers.");
        }
        return new FailureAnalysis(description.toString(), String.join("\n\n", actions), cause);
    }

    /** What to check when the worker script is not there. */
    private static String checkArgs(String pool) {
        return "Check folk.args (or folk.pools." + pool + ".args): a classpath: script must be under src/main/resources,"
                + " a file path must exist on this machine.";
    }

    /** What to do for the failures we can recognise from the worker's exit and output, or null. */
    static @Nullable String advice(NotReady p) {
        BootFailure f = p.lastBootFailure();
        if (f == null) {
            return null;
        }
        if (phpWithoutScript(p.command())) {
            return "No worker script is configured: PHP started without one waits for its script on standard "
                    + "input, where a worker has none, and ends. Set folk.args (or folk.pools." + p.pool()
                    + ".args) to the worker script, e.g. [classpath:php/app.php] or [/srv/app/worker.php].";
        }
        String output = String.join("\n", f.output());
        String lower = output.toLowerCase(Locale.ROOT);
        if (output.contains("Could not open input file")) {
            return "The worker script does not exist (\"Could not open input file\"). " + checkArgs(p.pool());
        }
        if (lower.contains("parse error")) {
            return "PHP cannot parse the worker script or a file it includes: fix the syntax error shown in its output "
                    + "(file and line).";
        }
        if (lower.contains("unable to load dynamic library") || lower.contains("call to undefined function msgpack")
                || lower.contains("extension") && lower.contains("not loaded")) {
            return "A PHP extension the worker needs is missing (see its output). Install it, e.g. "
                    + "apt-get install php-msgpack, and check php -m.";
        }
        if (lower.contains("failed opening required") || lower.contains("failed to open stream")) {
            return "The worker script requires a file that is not there (see its output). With the starter, load "
                    + "the worker library with require getenv('FOLK_WORKER_PHP').";
        }
        String script = missingScript(p.command(), f.output());
        if (script != null) {
            return "The worker script " + script + " does not exist: its interpreter says so in the output above. "
                    + checkArgs(p.pool());
        }
        if (lower.contains("allowed memory size")) {
            return "PHP ran out of memory while starting: raise folk.memory-limit (PHP's memory_limit follows it).";
        }
        if (f.message().contains("boot-timeout")) {
            return "The worker did not announce itself (control.ready) within folk.boot-timeout: it blocks or "
                    + "works too long before it sends control.ready on fd 4 (folk-worker-php sends it as $worker->run() "
                    + "or serve() begins: everything the script does before that line counts). Make that start-up "
                    + "faster, or raise folk.boot-timeout (or folk.pools." + p.pool() + ".boot-timeout).";
        }
        if (f.status() != null && !f.status().killedBySignal() && f.status().exitCode() == 0
                && f.message().contains("before control.ready")) {
            return "The worker script ended without serving: it must create a Folk\\Worker\\Worker, register its "
                    + "methods and end with $worker->run() (or otherwise speak the Folk protocol on fds 3 and 4).";
        }
        return null;
    }

    /**
     * The word of the command line (after the executable, not an option) that names a file, and
     * that a line of the output names together with one of {@link #NOT_THERE}: how interpreters
     * other than PHP say that the script they were given is not there (Python: "can't open file",
     * sh: "cannot open", Node: "Cannot find module", Ruby and bash: "No such file or directory").
     * Null if no line does.
     */
    static @Nullable String missingScript(String commandLine, List<String> output) {
        List<String> words = words(commandLine);
        for (String line : output) {
            String lower = line.toLowerCase(Locale.ROOT);
            if (NOT_THERE.stream().noneMatch(lower::contains)) {
                continue;
            }
            for (String word : words.subList(1, words.size())) {
                boolean file = !word.startsWith("-") && (word.indexOf('/') >= 0 || word.indexOf('.') > 0);
                if (file && line.contains(word)) {
                    return word;
                }
            }
        }
        return null;
    }

    /**
     * Whether the command line (as {@link NotReady#command()} shows it, words joined by spaces)
     * runs PHP without naming what it runs. Split at spaces, a path with spaces can only look like
     * one more script, never hide one.
     */
    static boolean phpWithoutScript(String commandLine) {
        List<String> words = words(commandLine);
        return PhpCommand.isPhp(words.get(0)) && !PhpCommand.namesScript(words.subList(1, words.size()));
    }

    /** The words of a command line as {@link NotReady#command()} shows it (joined by spaces). */
    private static List<String> words(String commandLine) {
        return List.of(commandLine.trim().split(" +"));
    }
}
