package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.folk.core.testing.LogCapture;
import dev.folk.core.testing.SharedSupervisor;
import dev.folk.core.testing.Workers;

/** How workers' output lines reach the log or the output file: as PHP-FPM would log them, nothing lost. */
class WorkerOutputTest {

    @RegisterExtension
    static final SharedSupervisor SUPERVISOR = new SharedSupervisor();

    private static final String CUT = " [line cut at 16 KiB: continued on the next line]";

    @Test
    void aLineLongerThan16KiBGoesOnInFurtherLinesAndACharacterIsNeverSplit() throws Exception {
        String name = "long-lines-" + System.nanoTime();
        // 16383 x, then é (2 bytes) across the 16 KiB mark, then 20000 y: 36385 bytes in one line.
        String script = "head -c 16383 /dev/zero | tr '\\0' x; printf '\\303\\251'; head -c 20000 /dev/zero | tr '\\0' y;"
                + " echo; echo after";
        try (LogCapture logs = LogCapture.of("dev.folk.worker." + name)) {
            WorkerProcess p = SUPERVISOR.get().spawn(Workers.sh(Workers.newTag(), script).name(name).build());
            p.onExit().get(10, TimeUnit.SECONDS);
            SUPERVISOR.get().terminate(p, Duration.ofSeconds(5));
            p.onOutputClosed().get(10, TimeUnit.SECONDS);
            String pid = "[pid " + p.pid() + "] ";
            List<String> lines = logs.containing(pid).stream().map(m -> runs(m.substring(pid.length()))).toList();
            assertThat(lines).containsExactly("x*16383 +", "éy*16382 +", "y*3618", "after");
        }
    }

    /**
     * The line with each run of x or y written as its count and the cut mark as {@code +}, e.g.
     * {@code x*16383 +}: readable when it fails.
     */
    private static String runs(String line) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("x+|y+").matcher(line.replace(CUT, " +"));
        return m.replaceAll(r -> r.group().charAt(0) + "*" + r.group().length());
    }
}
