package dev.folk.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/** The report: the machine, a summary of the targets, then every table. */
final class Report {

    private Report() {
    }

    /** What the figures ran on, taken at the start. */
    static String machine(Env env) {
        StringBuilder sb = new StringBuilder();
        sb.append("- Machine: ").append(cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" CPUs, ").append(memory()).append(", kernel ").append(kernel()).append('\n');
        sb.append("- Java: ").append(System.getProperty("java.vm.name")).append(' ')
                .append(System.getProperty("java.runtime.version")).append(" (").append(System.getProperty("java.vm.vendor"))
                .append("), flags ").append(String.join(" ", Env.jvmFlags())).append('\n');
        sb.append("- PHP: ").append(firstLine(List.of(env.php, "-v"))).append("; ").append(Http.versions()).append('\n');
        sb.append("- Load average at start: ").append(Quiet.loadAverage()).append('\n');
        return sb.toString();
    }

    static String render(String machine, Options options, List<String> args, List<Table> tables, Duration took) {
        StringBuilder sb = new StringBuilder();
        sb.append("## Benchmark run of ")
                .append(ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z", Locale.ROOT)))
                .append("\n\n");
        sb.append("- Command: `bash benchmarks/run.sh").append(args.isEmpty() ? "" : " " + String.join(" ", args))
                .append("`").append(options.quick ? " (quick: a smoke test, not for publishing)" : "").append('\n');
        sb.append(machine);
        sb.append("- Took ").append(took.toMinutes()).append(" min ").append(took.toSecondsPart()).append(" s\n\n");

        sb.append("### Targets\n\n| comparison | measure | value | target | result |\n|---|---|--:|--:|--:|\n");
        for (Table t : tables) {
            for (Table.Verdict v : t.verdicts) {
                sb.append("| ").append(v.table()).append(" | ").append(v.measure()).append(" | ").append(v.value())
                        .append(" | ").append(v.target()).append(" | ").append(v.pass() ? "PASS" : "**MISS**")
                        .append(" |\n");
            }
        }
        sb.append('\n');
        for (Table t : tables) {
            sb.append(t.markdown());
        }
        return sb.toString();
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    private static String memory() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    long kib = Long.parseLong(l.substring(9).trim().split("\\s+")[0]);
                    return String.format(Locale.ROOT, "%.1f GiB RAM", kib / 1024.0 / 1024);
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return "? RAM";
    }

    private static String kernel() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            return System.getProperty("os.version");
        }
    }

    private static String firstLine(List<String> cmd) {
        try {
            Proc.Result r = Proc.runAllowingFailure(cmd, 20);
            return (r.out() + r.err()).strip().lines().findFirst().orElse("?");
        } catch (RuntimeException e) {
            return cmd.get(0) + " not found";
        }
    }
}
