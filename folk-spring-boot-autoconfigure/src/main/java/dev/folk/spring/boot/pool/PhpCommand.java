package dev.folk.spring.boot.pool;

import java.util.List;
import java.util.Locale;

import org.jspecify.annotations.Nullable;

/** What a pool's command line says about PHP: whether it runs the PHP CLI, and whether it names what PHP runs. */
public final class PhpCommand {

    private PhpCommand() {
    }

    /** Whether {@code executable} (a name or a path) is the PHP CLI: php, php8.2, php-cli... */
    public static boolean isPhp(String executable) {
        String base = executable.substring(executable.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
        return base.matches("php[0-9.]*(-cli)?");
    }

    /**
     * Whether PHP's arguments name what PHP runs: a script (the first argument that is no option)
     * or code ({@code -r}, {@code -f} and the per-line options). Without one the PHP CLI reads its
     * script from standard input, and a worker never starts.
     */
    public static boolean namesScript(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            switch (args.get(i)) {
                case "-r", "-f", "-B", "-R", "-F", "-E", "--" -> {
                    return i + 1 < args.size();
                }
                case "-d", "-c", "-z" -> i++; // their value is the next argument
                default -> {
                    if (!args.get(i).startsWith("-")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * The php.ini file or directory PHP's arguments give ({@code -c path}, {@code -cpath},
     * {@code --php-ini path}, {@code --php-ini=path}), as written; null without one.
     */
    public static @Nullable String iniPath(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("-c") || a.equals("--php-ini")) {
                return i + 1 < args.size() ? args.get(i + 1) : null;
            } else if (a.startsWith("--php-ini=")) {
                return a.substring("--php-ini=".length());
            } else if (a.startsWith("-c") && a.length() > 2) {
                return a.substring(2);
            } else if (a.equals("-d") || a.equals("-z")) {
                i++;
            } else if (a.equals("--") || a.equals("-f") || a.equals("-r") || !a.startsWith("-")) {
                return null; // the script or code: what follows is its own arguments
            }
        }
        return null;
    }

    /**
     * The script file PHP's arguments name (the value of {@code -f}, or the first argument that is
     * no option), as written; null if they name code ({@code -r} and the per-line options) or nothing.
     */
    public static @Nullable String script(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            switch (args.get(i)) {
                case "-f" -> {
                    return i + 1 < args.size() ? args.get(i + 1) : null;
                }
                case "-r", "-B", "-R", "-F", "-E", "--" -> {
                    return null;
                }
                case "-d", "-c", "-z" -> i++; // their value is the next argument
                default -> {
                    if (!args.get(i).startsWith("-")) {
                        return args.get(i);
                    }
                }
            }
        }
        return null;
    }
}
