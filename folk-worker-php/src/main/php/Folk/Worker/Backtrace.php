<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * The `backtrace` feature: on SIGUSR2 the worker writes its PHP stack to stderr, between two
 * marker lines, so that the master can log where a slow call is (PHP-FPM's slowlog, without
 * ptrace). The master sends the signal only to a worker that declared the feature in its
 * handshake, and only to the worker process itself, never to its process group.
 *
 *     folk-backtrace-begin pid=4242 msgid=17
 *     #0 /app/src/Report.php:88 App\Report->rows()
 *     #1 /app/worker.php:12 {closure}()
 *     #2 /app/worker.php:30 {main}
 *     folk-backtrace-end
 *
 * Each line is "file:line function": the line PHP is at, inside that function. `msgid` is the
 * request being served (`-` between requests), so the master can tell a late answer from the one
 * it waits for.
 *
 * Why it cannot disturb the protocol: the block goes to stderr only, never to fds 3 or 4, in a
 * single write() of at most {@see MAX_BYTES} bytes, which POSIX makes atomic on a pipe (below
 * PIPE_BUF), so lines of children writing to the same stderr cannot land inside it. fwrite() on
 * STDERR bypasses output buffering, so a handler's captured output (an HTTP body) is untouched.
 * The handler is installed with SA_RESTART and runs between VM instructions (pcntl async
 * signals), never inside a half-done frame write; the frame code retries short writes and
 * interrupted reads anyway.
 *
 * What the signal does to the code it interrupts (measured with PHP 8.2 on Linux): a CPU-bound
 * loop is interrupted for the time of the write and goes on; sleep(), usleep() and
 * time_nanosleep() return early (the kernel never restarts a sleep); stream_select() and
 * socket_select() return false with an "Interrupted system call" warning; blocking stream reads
 * (sockets, pipes, http:// streams, shell_exec) are restarted, and the stack is written only
 * when that read returns, which may be too late for the master's wait. The master signals a call
 * at most twice (once when it becomes slow, once before an exec-timeout kill).
 */
final class Backtrace
{
    /** SIGUSR2 on Linux (the SIGUSR2 constant exists only with ext-pcntl). */
    public const SIGNAL = 12;
    public const BEGIN = 'folk-backtrace-begin';
    public const END = 'folk-backtrace-end';
    /** Frames written at most; deeper stacks end with a "... N more frames" line. */
    public const MAX_FRAMES = 50;
    /** The whole block, markers included: below PIPE_BUF (4096), so one atomic write. */
    public const MAX_BYTES = 4000;
    private const MAX_LINE = 300;

    /** The handler this class installed, told apart from one the application installed. */
    private static ?\Closure $installed = null;

    /**
     * Installs the SIGUSR2 handler if ext-pcntl is there (Debian's php-cli has it, also under
     * `php -n`) and the application has not taken SIGUSR2 itself. Turns pcntl async signals on
     * for the whole process.
     *
     * @param \Closure(): ?int $msgid the request being served, or null
     * @return bool whether the worker may declare the `backtrace` feature
     */
    public static function install(\Closure $msgid): bool
    {
        if (!function_exists('pcntl_signal') || !function_exists('pcntl_async_signals')
            || !function_exists('pcntl_signal_get_handler')) {
            return false;
        }
        $current = pcntl_signal_get_handler(self::SIGNAL);
        if ($current !== SIG_DFL && $current !== 0 && $current !== self::$installed) {
            return false; // the application handles SIGUSR2: leave it alone and declare nothing
        }
        pcntl_async_signals(true);
        self::$installed = static function () use ($msgid): void {
            try {
                // Frame 0 is this closure, "called" where PHP was interrupted.
                $frames = debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS);
                $block = self::format($frames, $msgid(), getmypid());
                @fwrite(Worker::stderr(), $block);
            } catch (\Throwable) {
                // A stack we cannot write is no reason to disturb the call.
            }
        };
        return pcntl_signal(self::SIGNAL, self::$installed, true);
    }

    /**
     * The block for these frames (as debug_backtrace() gives them, frame 0 being where PHP is).
     *
     * @param list<array<string, mixed>> $frames
     */
    public static function format(array $frames, ?int $msgid, int $pid): string
    {
        $head = self::BEGIN . ' pid=' . $pid . ' msgid=' . ($msgid ?? '-') . "\n";
        $tail = self::END . "\n";
        $budget = self::MAX_BYTES - strlen($head) - strlen($tail) - 40; // room for the "more frames" line
        $body = '';
        $count = count($frames);
        for ($i = 0; $i < $count; $i++) {
            $at = isset($frames[$i]['file']) ? $frames[$i]['file'] . ':' . ($frames[$i]['line'] ?? 0) : '[internal]';
            $line = '#' . $i . ' ' . $at . ' ' . self::function($frames[$i + 1] ?? null);
            if (strlen($line) > self::MAX_LINE) {
                $line = '...' . substr($line, -(self::MAX_LINE - 3)); // keep the end: file name, line and function
            }
            if ($i >= self::MAX_FRAMES || strlen($body) + strlen($line) + 1 > $budget) {
                $body .= '... ' . ($count - $i) . " more frames\n";
                break;
            }
            $body .= $line . "\n";
        }
        return $head . $body . $tail;
    }

    /** The function a frame's location is in: the next frame's callee, or {main} at the bottom. */
    private static function function(?array $caller): string
    {
        if ($caller === null) {
            return '{main}';
        }
        $name = (string) ($caller['function'] ?? '?');
        if (isset($caller['class'])) {
            $name = $caller['class'] . ($caller['type'] ?? '::') . $name;
        }
        return str_replace(["\n", "\r"], ' ', $name) . '()';
    }
}
