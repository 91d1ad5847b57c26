<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

use Folk\Worker\Worker;

/**
 * Builds the `http.handle` result `{status, headers, body}` from a framework's response, with
 * what PHP-FPM adds on its own: the headers PHP itself sent (a native session's cookie and
 * cache limiter, overridden by the application's headers of the same name, as header() does),
 * the default `Content-Type` (default_mimetype + default_charset) when the application set
 * none, default_charset appended to a `text/...` Content-Type without a charset (header()
 * does that under PHP-FPM), and CGI's `Status:` header line taken as the status.
 */
final class ResponseResult
{
    /**
     * @var array<int, string> output taken out of a buffer by its handler and not sent, by the
     * buffer's level: flushed out of a {@see startBuffer()} buffer, or held by {@see StreamedBody}
     */
    private static array $kept = [];
    /** PHP's output globals through FFI ({@see makeRemovable()}), once asked for. */
    private static ?\FFI $outputGlobals = null;
    /** main/php_output.h: PHP_OUTPUT_HANDLER_STDFLAGS (cleanable, flushable, removable), as ob_start() gives a buffer. */
    private const STANDARD_FLAGS = 0x70;

    /**
     * @param list<array{0: string, 1: string}> $headers the application's header lines, in order
     * @param list<array{0: string, 1: string}> $phpHeaders headers PHP or library code sent
     *        with header() before the response (sessions)
     * @param bool $appReplaces whether the framework sends its headers with header()'s replace
     *        (PSR-7 emitters such as Slim's do; Symfony's Response::send() replaces only
     *        Content-Type and adds the rest)
     * @param bool $phpStatus whether $status is PHP's own (http_response_code() at exit), which a
     *        status line or a "Status:" header line then decides as PHP-FPM decides it
     * @return array{status: int, headers: array<string, string|list<string>>, body: string}
     */
    public static function build(int $status, array $headers, string $body, array $phpHeaders = [], bool $appReplaces = true,
                                 bool $phpStatus = false): array
    {
        $byName = [];
        $names = [];
        foreach ([$phpHeaders, $headers] as $layer => $lines) {
            $replaced = [];
            foreach ($lines as [$name, $value]) {
                $key = strtolower($name);
                // An application header replaces PHP's own of that name, except Set-Cookie.
                if ($layer === 1 && $key !== 'set-cookie' && !isset($replaced[$key]) && ($appReplaces || $key === 'content-type')) {
                    unset($byName[$key]);
                    $replaced[$key] = true;
                }
                $names[$key] ??= $name;
                $byName[$key][] = $key === 'content-type' && $layer === 1 ? self::withCharset($value) : $value;
            }
        }
        // The status PHP-FPM answers with, where PHP's own status is the answer's (exit, an uncaught
        // exception): other than 200, the status line header('HTTP/1.1 ...') left, else the CGI
        // "Status:" header line, else that status; 200, the "Status:" line (nginx reads it).
        $phpCode = $status;
        $line = $phpStatus && $status !== 200 ? SapiGlobals::statusLineCode() : null;
        if ($line !== null) {
            $status = $line;
        }
        $statusHeader = false;
        if (isset($byName['status'])) {
            // CGI's "Status:" header, which legacy scripts set the status with (`Status: 301` and a
            // Location, which alone would be a 302); nginx never passes it on as a header.
            if ($line === null && ($status === 200 || $phpStatus)
                    && preg_match('/^\s*([2-5][0-9][0-9])(?![0-9])/', $byName['status'][0], $code) === 1) {
                $status = (int) $code[1];
                $statusHeader = true;
            }
            unset($byName['status'], $names['status']);
        }
        if ($phpCode === 200 && !$statusHeader && isset($byName['location'])) {
            // At 200 PHP sends no status (a framework's too), and nginx answers a Location without one with a 302.
            $status = 302;
        }
        if ($phpStatus && $phpCode === 304) {
            unset($byName['content-type'], $names['content-type']); // PHP-FPM sends none with its own 304
        } elseif (!isset($byName['content-type']) && ($mime = (string) ini_get('default_mimetype')) !== '') {
            $charset = (string) ini_get('default_charset');
            $names['content-type'] = 'Content-Type';
            $byName['content-type'] = [$charset !== '' && str_starts_with($mime, 'text/') ? $mime . '; charset=' . $charset : $mime];
        }
        $result = [];
        foreach ($byName as $key => $values) {
            $result[$names[$key]] = count($values) === 1 && $key !== 'set-cookie' ? $values[0] : $values;
        }
        if ($status < 200 || $status > 599) {
            throw new \UnexpectedValueException('the application answered status ' . $status . ', outside 200..599');
        }
        return ['status' => $status, 'headers' => $result, 'body' => $body];
    }

    /** PHP's sapi_apply_default_charset(): "text/x" becomes "text/x;charset=<default_charset>". */
    private static function withCharset(string $type): string
    {
        $charset = (string) ini_get('default_charset');
        return $charset !== '' && str_starts_with($type, 'text/') && !str_contains($type, 'charset=')
            ? $type . ';charset=' . $charset : $type;
    }

    /**
     * Runs $produce with output buffering and returns its printed output (the body of a
     * streamed response); buffers the application left open are closed too.
     */
    public static function capture(\Closure $produce): string
    {
        $level = ob_get_level();
        self::startBuffer();
        try {
            $produce();
        } finally {
            $output = self::endBuffers($level);
        }
        return $output;
    }

    /**
     * The status and body PHP-FPM sends for a request whose script ends the process: the output
     * printed so far (the buffers above $level) and the status set with http_response_code() or a
     * status header() line, else 200. A CLI process keeps that status from call to call, so only a
     * change from $codeAtStart, the value at the call's start, counts. After a fatal error
     * ({@see Worker::fatalError()}), PHP's rule for such a request: 500 in place of 200 when
     * display_errors is off (a status the script set stays); PHP itself drops the output of a
     * request that exhausted its memory_limit. A worker buffers the whole response, as PHP-FPM
     * does with output_buffering on (Debian's php.ini: 4096) until the first flush.
     *
     * @return array{0: int, 1: string} [status, body]
     */
    public static function atExit(int $level, int|false $codeAtStart): array
    {
        $output = self::endBuffers($level);
        return [self::statusAtEnd($codeAtStart, Worker::fatalError() !== null), $output];
    }

    /**
     * The status of a request PHP ends itself: the one set with http_response_code() or a status
     * header() line since $codeAtStart, else 200; after a fatal error, 500 in place of 200 where
     * display_errors is off.
     */
    public static function statusAtEnd(int|false $codeAtStart, bool $fatal): int
    {
        $now = http_response_code();
        $status = is_int($now) && $now !== $codeAtStart ? $now : 200;
        return $fatal && $status === 200 && !self::displaysErrors() ? 500 : $status;
    }

    /**
     * Ends a request an exception the application did not catch ended, as PHP ends one, and
     * returns the status PHP-FPM answers with: the exception handler the application set
     * (set_exception_handler(): Symfony's ErrorHandler renders its error page there) runs, and
     * the answer is what was printed, with the status set, else 200; without one, or if it throws
     * too, PHP's fatal error "Uncaught ..." (a file that could not be compiled: "Parse error ..."):
     * logged (error_log(): the worker's stderr unless error_log says otherwise), printed as PHP
     * displays it where display_errors is on, and 500 in place of 200 where it is off
     * ({@see statusAtEnd()}). The caller's output buffer takes what is printed. Shared by the
     * framework adapters ({@see RequestCycle}) and the plain `http()` handler
     * ({@see \Folk\Worker\Http\HttpHandler}).
     *
     * @param int|false $codeAtStart http_response_code() when the request began
     */
    public static function uncaught(\Throwable $exception, int|false $codeAtStart): int
    {
        $handler = set_exception_handler(null);
        restore_exception_handler();
        if ($handler !== null) {
            try {
                $handler($exception);
            } catch (\Throwable $thrown) {
                $exception = $thrown;
                $handler = null;
            }
        }
        if ($handler === null) {
            // A file the request included that PHP cannot compile: PHP reports it as the compile
            // error it is ("Parse error: syntax error, ..."), without "Uncaught" or a stack trace.
            $class = $exception::class;
            if ($class === \ParseError::class || $class === \CompileError::class) {
                $message = $exception->getMessage();
            } else {
                try {
                    $described = (string) $exception;
                } catch (\Throwable) {
                    $described = $class; // a __toString() that throws: PHP names the class
                }
                $message = sprintf("Uncaught %s\n  thrown", $described);
            }
            $kind = $class === \ParseError::class ? 'Parse error' : 'Fatal error';
            $file = $exception->getFile();
            $line = $exception->getLine();
            error_log(sprintf('PHP %s:  %s in %s on line %d', $kind, $message, $file, $line));
            if (self::displaysErrors()) {
                // As php_error_cb() prints it (PHP-FPM prints where display_errors is "stderr" too).
                $prepend = (string) ini_get('error_prepend_string');
                $append = (string) ini_get('error_append_string');
                echo self::iniOn('html_errors')
                    ? sprintf("%s<br />\n<b>%s</b>:  %s in <b>%s</b> on line <b>%d</b><br />\n%s", $prepend, $kind,
                        htmlspecialchars($message, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8'), $file, $line, $append)
                    : sprintf("%s\n%s: %s in %s on line %d\n%s", $prepend, $kind, $message, $file, $line, $append);
            }
        }
        return self::statusAtEnd($codeAtStart, $handler === null);
    }

    /** Whether a boolean ini setting is on, read as PHP reads one. */
    private static function iniOn(string $name): bool
    {
        $value = strtolower(trim((string) ini_get($name)));
        return in_array($value, ['on', 'yes', 'true'], true) || (int) $value !== 0;
    }

    /** Whether display_errors is on, read as PHP reads it ("stderr" and "stdout" are on). */
    public static function displaysErrors(): bool
    {
        $value = strtolower(trim((string) ini_get('display_errors')));
        return in_array($value, ['on', 'yes', 'true', 'stdout', 'stderr'], true) || (int) $value !== 0;
    }

    /**
     * Starts the output buffer that captures a response: one that keeps what the application
     * flushes out of it (ob_flush(), ob_end_flush(), or its own buffer flushed into ours) for
     * {@see endBuffers()}. A plain buffer would pass flushed output on to stdout, where a CLI
     * process prints it: lost to the answer, where PHP-FPM sends it to the client.
     */
    public static function startBuffer(): void
    {
        $level = ob_get_level() + 1;
        unset(self::$kept[$level]); // nothing of an earlier buffer at that level
        ob_start(static function (string $buffer, int $phase) use ($level): string {
            if (($phase & PHP_OUTPUT_HANDLER_CLEAN) === 0) {
                self::keep($level, $buffer); // flushed, not discarded (ob_clean(), ob_get_clean())
            }
            return '';
        });
    }

    /**
     * Keeps $bytes, taken out of the buffer at $level by its handler, for {@see endBuffers()} and
     * {@see take()}: they come before what that buffer still holds.
     */
    public static function keep(int $level, string $bytes): void
    {
        // Appended in place: a script without output_buffering passes every echo on, and a new
        // string of all that is held made per echo was quadratic (600 000 echos: seconds, not ms).
        if (isset(self::$kept[$level])) {
            self::$kept[$level] .= $bytes;
        } else {
            self::$kept[$level] = $bytes;
        }
    }

    /** How many bytes {@see keep()} holds for $level. */
    public static function keptLength(int $level): int
    {
        return isset(self::$kept[$level]) ? strlen(self::$kept[$level]) : 0;
    }

    /** Takes out what {@see keep()} holds for $level. */
    public static function kept(int $level): string
    {
        $bytes = self::$kept[$level] ?? '';
        unset(self::$kept[$level]);
        return $bytes;
    }

    /** Takes out what the current buffer holds, with what was flushed out of it if it is one of {@see startBuffer()}'s. */
    public static function take(): string
    {
        $level = ob_get_level();
        $bytes = self::kept($level) . (string) ob_get_contents();
        if ($bytes !== '') {
            ob_clean();
        }
        return $bytes;
    }

    /**
     * Ends the output buffers the application left open above $level, from the top down to the
     * library's own capture, through their handlers, as PHP ends every buffer at a request's end:
     * ob_start('ob_gzhandler') or a named output filter at the top of a script still applies. Not a
     * closure's: the library's own buffers are closures, and must give up what they hold, as they
     * are ({@see endBuffers()}).
     */
    public static function endApplicationBuffers(int $level): void
    {
        while (ob_get_level() > $level) {
            $status = ob_get_status();
            if (($status['name'] ?? 'Closure::__invoke') === 'Closure::__invoke'
                    || (!@ob_end_flush() && !(self::makeRemovable($status) && @ob_end_flush()))) {
                break;
            }
        }
    }

    /**
     * Where the application closed the capture above $level and opened a filter in its place (not
     * PHP's plain buffer, which is taken as it is), ends that filter and the buffers above it through
     * their handlers, past every buffer, for a caller that takes that output ({@see UnbufferedOutput}):
     * phpMyAdmin flushes its page out of its ob_gzhandler buffer and exits, and PHP's end of that
     * buffer writes the gzip stream's last block.
     */
    public static function endFilterInPlaceOfCapture(int $level): void
    {
        $name = ob_get_status(true)[$level]['name'] ?? 'Closure::__invoke'; // the buffer at $level + 1
        if ($name !== 'Closure::__invoke' && $name !== 'default output handler') {
            self::endApplicationBuffers($level);
        }
    }

    /**
     * Lets the active buffer be ended, as PHP's own end of a request ends every buffer: ob_gzhandler
     * makes its buffer one that code cannot end once it compresses. Through PHP's output globals
     * (`OG(active)`, main/php_output.h), with FFI, where the handler found there is the one
     * ob_get_status() describes (level and flags); false where it cannot be done.
     *
     * @param array<string, mixed> $status ob_get_status() of the active buffer
     */
    private static function makeRemovable(array $status): bool
    {
        if (PHP_ZTS || PHP_INT_SIZE !== 8 || !extension_loaded('ffi')) {
            return false;
        }
        try {
            self::$outputGlobals ??= \FFI::cdef('typedef struct { void *name; int flags; int level; } folk_output_handler;'
                . ' typedef struct { int size; int top; int max; void *elements; folk_output_handler *active; } folk_output_globals;'
                . ' extern folk_output_globals output_globals;');
            $active = self::$outputGlobals->output_globals->active;
            if ($active === null || $active->level !== ($status['level'] ?? -1) || $active->flags !== ($status['flags'] ?? -1)) {
                return false;
            }
            $active->flags |= self::STANDARD_FLAGS;
            return true;
        } catch (\Throwable) {
            return false; // FFI refused (ffi.enable), or this PHP does not export its output globals
        }
    }

    /**
     * Closes the output buffers above $level (ours and any left open), returning their contents in
     * order: what was flushed out of ours first ({@see startBuffer()}), what was printed past every
     * buffer and not sent ({@see UnbufferedOutput}), then what they still held.
     */
    public static function endBuffers(int $level): string
    {
        self::endApplicationBuffers($level + 1); // those above the capture's level, whoever's buffer is there now
        $output = '';
        while (($bufferLevel = ob_get_level()) > $level) {
            $kept = self::kept($bufferLevel); // first: a handler drops what it held when its buffer is cleaned
            $chunk = @ob_get_clean();
            if ($chunk === false || ob_get_level() === $bufferLevel) { // not removed: its contents stay in it
                self::keep($bufferLevel, $kept);
                break; // a buffer that refuses removal
            }
            $output = $kept . $chunk . $output;
        }
        $orphaned = ''; // kept for a buffer the application closed itself (ob_end_flush()): it came first
        foreach (self::$kept as $bufferLevel => $bytes) {
            if ($bufferLevel > $level) {
                $orphaned .= $bytes;
                unset(self::$kept[$bufferLevel]);
            }
        }
        // Printed past every buffer (UnbufferedOutput) after those closed, before any opened since.
        return $orphaned . UnbufferedOutput::take() . $output;
    }
}
