package dev.folk.core.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;

import dev.folk.core.supervision.OutputPolicy;
import dev.folk.core.supervision.WorkerChannel;
import dev.folk.core.supervision.WorkerSpec;

/** Small shell workers for supervisor tests, each carrying a run tag in its environment. */
public final class Workers {

    /** The environment variable that marks every process of one test run. */
    public static final String RUN_TAG = "FOLK_TEST_RUN";

    private Workers() {
    }

    public static String newTag() {
        return UUID.randomUUID().toString();
    }

    /** {@code sh -c script}, tagged. Scripts signal readiness with {@code echo ready >&4}. */
    public static WorkerSpec.Builder sh(String tag, String script) {
        return WorkerSpec.builder("sh").name("sh-test").args("-c", script).environment(RUN_TAG, tag)
                .output(OutputPolicy.log());
    }

    /**
     * A shell command: PHP (through its FFI, part of php-cli) blocks TERM, starts a thread that
     * waits in pause(), then its first thread exits. The process lives on in that thread, which
     * only KILL ends, while /proc/&lt;pid&gt;/stat shows it as a zombie and /proc/&lt;pid&gt;/environ
     * and cmdline read nothing.
     */
    public static final String HEADLESS_PHP = "php -d ffi.enable=1 -r '$c = FFI::cdef(\"typedef unsigned long pthread_t; "
            + "typedef struct { unsigned long v[16]; } sigset_t; int sigemptyset(sigset_t *s); int sigaddset(sigset_t *s, int n); "
            + "int pthread_sigmask(int how, sigset_t *s, sigset_t *old); "
            + "int pthread_create(pthread_t *t, void *attr, void *run, void *arg); void pthread_exit(void *r); "
            + "void *dlsym(void *lib, const char *name);\", \"libc.so.6\"); "
            + "$s = $c->new(\"sigset_t\"); $c->sigemptyset(FFI::addr($s)); $c->sigaddset(FFI::addr($s), 15); "
            + "$c->pthread_sigmask(0, FFI::addr($s), null); $t = $c->new(\"pthread_t\"); "
            + "if ($c->pthread_create(FFI::addr($t), null, $c->dlsym(null, \"pause\"), null) !== 0) exit(1); "
            + "$c->pthread_exit(null);'";

    /** Reads the control channel until a line equal to {@code expected} arrives. */
    public static void awaitLine(WorkerChannel channel, String expected, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        StringBuilder seen = new StringBuilder();
        ByteBuffer buf = ByteBuffer.allocate(256);
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0 || !channel.awaitReadable(left)) {
                throw new AssertionError("no line '" + expected + "' within " + timeout + "; got: " + seen);
            }
            buf.clear();
            int n = channel.read(buf);
            if (n < 0) {
                throw new AssertionError("channel closed before '" + expected + "'; got: " + seen);
            }
            seen.append(new String(buf.array(), 0, n, StandardCharsets.UTF_8));
            for (String line : seen.toString().split("\n", -1)) {
                if (line.equals(expected)) {
                    return;
                }
            }
        }
    }
}
