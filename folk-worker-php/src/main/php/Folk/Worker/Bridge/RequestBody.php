<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * php://input as PHP-FPM has it: the request's body, for legacy code that reads it directly
 * (`json_decode(file_get_contents('php://input'))`).
 *
 * PHP reads php://input from the request body stream of its SAPI globals
 * (`SG(request_info).request_body`), which a CLI process never fills. {@see install()} gives PHP
 * one stream, created once with PHP's own stream functions through FFI and kept in memory (the
 * body is in memory already, and a file would outlive the request), and writes each request's
 * body into it; {@see clear()} empties it after the request. A php://input opened during the request reads
 * the body from its start, as under PHP-FPM; PHP-FPM's rule for a multipart body (PHP consumed
 * it: php://input is empty) comes with the body {@see PhpRequest} gives.
 *
 * It uses {@see SapiGlobals}: without ext-ffi, with a layout that fails its checks, or with the
 * environment variable `FOLK_CLI_INPUT=0`, php://input stays empty, as in any CLI process.
 */
final class RequestBody
{
    private const FUNCTIONS = <<<'C'
        void *_php_stream_temp_create(int mode, size_t max_memory_usage);
        ssize_t _php_stream_write(void *stream, const char *buf, size_t count);
        int _php_stream_truncate_set_size(void *stream, size_t newsize);
        int _php_stream_seek(void *stream, int64_t offset, int whence);
        C;

    /** A temporary stream that never moves to a file. */
    private const IN_MEMORY = PHP_INT_MAX;

    private static \FFI|false|null $streams = null;
    private static ?\FFI\CData $stream = null;
    /** Whether the stream may hold bytes: an empty body after an empty one costs nothing. */
    private static bool $filled = false;

    /** Makes php://input read $body until {@see clear()}; false where it cannot (php://input stays empty). */
    public static function install(string $body): bool
    {
        $stream = self::stream();
        $streams = self::$streams;
        if ($stream === null || !$streams instanceof \FFI) { // the second only for the type: set with the stream
            return false;
        }
        if (self::$filled) {
            $streams->_php_stream_truncate_set_size($stream, 0);
            $streams->_php_stream_seek($stream, 0, SEEK_SET);
            self::$filled = false;
        }
        if ($body === '') {
            return true;
        }
        self::$filled = true; // a failed write may have written part of it
        return $streams->_php_stream_write($stream, $body, strlen($body)) === strlen($body);
    }

    /** Empties php://input again (after the request). */
    public static function clear(): void
    {
        if (self::$filled) {
            self::install('');
        }
    }

    private static function stream(): ?\FFI\CData
    {
        if (self::$stream !== null || self::$streams === false) {
            return self::$stream;
        }
        $globals = getenv('FOLK_CLI_INPUT') === '0' ? null : SapiGlobals::get();
        if ($globals === null) {
            self::$streams = false;
            return null;
        }
        try {
            $streams = \FFI::cdef(self::FUNCTIONS);
            $request = $globals->sapi_globals->request_info;
            // The one PHP made if code opened php://input before (an empty temporary stream), else ours.
            $existing = $request->request_body; // a read gives null for NULL (isset() and ?? would not)
            $stream = $existing !== null ? $existing : $streams->_php_stream_temp_create(0, self::IN_MEMORY);
            if ($stream === null) {
                self::$streams = false;
                return null;
            }
            $request->request_body = $stream;
            self::$filled = $existing !== null; // PHP's own may hold what code wrote to it
        } catch (\Throwable) {
            self::$streams = false;
            return null;
        }
        self::$streams = $streams;
        return self::$stream = $stream;
    }
}
