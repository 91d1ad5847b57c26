<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

use Folk\Worker\ShutdownFunctions;
use Folk\Worker\Worker;

/**
 * Output printed past every output buffer during a request goes into the answer, as PHP-FPM
 * sends it to the client.
 *
 * Download scripts close every buffer before they print the file
 * (`while (ob_get_level()) ob_end_clean(); readfile($file);`), and server-sent-event scripts
 * do the same with ob_end_flush() before they echo and flush(). PHP then passes the bytes to its
 * SAPI's `ub_write`, which in a CLI process writes them to stdout: into the master's log, not
 * the answer. For the time of a request, {@see begin()} points the CLI's `ub_write` and `flush` in
 * PHP's `sapi_module` at two PHP functions (FFI callbacks, made once); {@see end()} points them
 * back, so that outside requests stdout is the CLI's. The first bytes go on at once as a streamed
 * answer's parts ({@see StreamedBody::sendOn()}), with the status and headers PHP holds then, as
 * PHP-FPM sends its headers with the first output; the rest is held and sent every {@see HOLD}
 * bytes and at each flush(). In the plain `http()` handler they join its output, which waits for
 * its answer ({@see SpooledOutput::takeUnbuffered()}). Where the call cannot stream, and for what
 * is held when the buffers are collected, they go into the body before what buffers opened later
 * hold ({@see take()}).
 *
 * Needs what {@see CliHeaders} needs (ext-ffi, `ffi.enable`, the CLI SAPI); `FOLK_CLI_OUTPUT=0`
 * in the worker's environment turns it off. Without it such output goes to the log.
 */
final class UnbufferedOutput
{
    /**
     * Bytes held before they are sent on: each echo of a script without buffers reaches
     * `ub_write` on its own, and a part per echo would cost the gateway a frame each.
     */
    private const HOLD = 64 * 1024;

    /** The largest slice copied out of one write at a time: readfile() hands PHP a whole mapped file. */
    private const SLICE = 1 << 20;

    /** PHP_OUTPUT_IMPLICITFLUSH of php_output_get_status() (main/php_output.h). */
    private const OUTPUT_IMPLICITFLUSH = 0x01;

    private static ?bool $available = null;
    private static bool $active = false;
    /** Whether a write is being handled: output it causes itself (a warning) is held, not sent in the middle. */
    private static bool $writing = false;
    private static string $held = '';
    /** Whether the current call sent any on: the first write goes at once, with the head, as PHP-FPM sends it. */
    private static bool $sentOn = false;
    /** Kept: `sapi_module` is its variable, and only while it lives. */
    private static ?\FFI $ffi = null;
    private static ?\FFI\CData $sapi = null;
    /** @var array{0: \FFI\CData, 1: \FFI\CData}|null the CLI's ub_write and flush */
    private static ?array $cli = null;
    /** @var array{0: \FFI\CData, 1: \FFI\CData}|null ours */
    private static ?array $ours = null;
    /** The CLI's output status flags outside requests: its implicit flush. */
    private static int $cliStatus = 0;
    /** Whether the process's end puts the CLI's writers back ({@see install()}). */
    private static bool $endAtExit = false;

    /**
     * From here to {@see end()}, output past every buffer is the current call's, and PHP's output
     * layer starts as in each PHP-FPM request: nothing sent yet, no implicit flush.
     */
    public static function begin(): void
    {
        self::$held = '';
        self::$sentOn = false;
        if (!self::$active && (self::$available ??= self::install())) {
            // FFI frees its callbacks when the process ends: the CLI's writers must be back before.
            self::$endAtExit = self::$endAtExit || ShutdownFunctions::forTheProcess(static fn () => self::endAtExit());
            [self::$sapi->ub_write, self::$sapi->flush] = self::$ours;
            // Output that reached stdout once (this worker's boot, an earlier download) leaves
            // PHP_OUTPUT_SENT set for the process, after which every header('Content-Length: ...')
            // warns "Cannot change zlib.output_compression - headers already sent"; and the CLI
            // flushes after every write (implicit_flush), which would make a part of every echo.
            self::$ffi->php_output_set_status(0);
            self::$active = true;
        }
    }

    /** Gives stdout back to the CLI; what is held stays for {@see take()}. */
    public static function end(): void
    {
        if (self::$active) {
            [self::$sapi->ub_write, self::$sapi->flush] = self::$cli;
            self::$ffi->php_output_set_status(self::$cliStatus);
            self::$active = false;
        }
    }

    /**
     * At the process's end: gives stdout back to the CLI, unless a call is still open (its answer is
     * made at exit, a script's request process's always), whose shutdown functions may still print
     * past every buffer (phpMyAdmin flushes its page out of its own buffer in one): then once they
     * ran, after the shutdown functions registered so far; the answer made at exit gives it back too.
     */
    private static function endAtExit(): void
    {
        if (self::$active && Worker::canSendParts()) {
            register_shutdown_function(static fn () => self::end());
            return;
        }
        self::end();
    }

    /** Whether output past every buffer is a request's now ({@see begin()}), not stdout's. */
    public static function active(): bool
    {
        return self::$active;
    }

    /**
     * Holds $bytes as if printed past every buffer now, for {@see take()}: what a script's capture passed
     * on before the script closed it, where the call cannot stream ({@see StreamedBody::openScript()}).
     */
    public static function hold(string $bytes): void
    {
        self::$held .= $bytes;
    }

    /** Takes out what is held: it was printed before anything a buffer opened since holds. */
    public static function take(): string
    {
        $held = self::$held;
        self::$held = '';
        return $held;
    }

    private static function write(\FFI\CData $bytes, int $length): int
    {
        $reentered = self::$writing;
        self::$writing = true;
        try {
            for ($offset = 0; $offset < $length; $offset += self::SLICE) {
                self::$held .= \FFI::string($bytes + $offset, min(self::SLICE, $length - $offset));
                if (!$reentered && (!self::$sentOn || strlen(self::$held) >= self::HOLD)) {
                    self::sendOn();
                }
            }
        } finally {
            self::$writing = $reentered;
        }
        self::clientGone();
        return $length;
    }

    private static function flush(): void
    {
        if (!self::$writing) {
            self::$writing = true;
            try {
                StreamedBody::flushed(); // what a script printed into its capture first: it came before
                if (self::$held !== '') {
                    self::sendOn();
                }
            } finally {
                self::$writing = false;
            }
        }
        self::clientGone();
    }

    private static function sendOn(): void
    {
        try {
            if (StreamedBody::sendOn(self::$held) || SpooledOutput::takeUnbuffered(self::$held)) {
                self::$held = '';
                self::$sentOn = true;
            }
        } catch (\Throwable) {
            // An exception must not cross the C frames of PHP's output layer; the bytes stay held,
            // and a master that is gone ends the worker after the call.
        }
    }

    /**
     * If the master said the call's client went away ({@see Worker::callAborted()}, noticed when a
     * part was sent, here or by a flushed buffer), does what a web SAPI's `ub_write` does when its
     * write fails, where PHP-FPM does it: connection_aborted() becomes 1, later output goes nowhere,
     * and unless ignore_user_abort() is set the request ends here, shutdown functions run (the
     * worker then answers and exits, {@see Worker}).
     */
    private static function clientGone(): void
    {
        if (!self::$writing && Worker::callAborted() && (connection_status() & CONNECTION_ABORTED) === 0) {
            self::$ffi->php_handle_aborted_connection();
        }
    }

    private static function install(): bool
    {
        if (!FpmSapi::underCli() || !extension_loaded('ffi') || getenv('FOLK_CLI_OUTPUT') === '0') {
            return false;
        }
        try {
            // sapi_module_struct (main/SAPI.h) up to flush: the same from PHP 7 to 8.4.
            $ffi = \FFI::cdef('typedef struct { char *name; char *pretty_name; void *startup; void *shutdown;'
                . ' void *activate; void *deactivate; size_t (*ub_write)(char *str, size_t length);'
                . ' void (*flush)(void *server_context); } sapi_module_struct; extern sapi_module_struct sapi_module;'
                . ' int php_output_get_status(void); void php_output_set_status(int status);'
                . ' void php_handle_aborted_connection(void);');
            $sapi = $ffi->sapi_module;
            if ($sapi->name === null || \FFI::string($sapi->name) !== 'cli') {
                return false;
            }
            self::$cli = [$sapi->ub_write, $sapi->flush];
            self::$cliStatus = $ffi->php_output_get_status() & self::OUTPUT_IMPLICITFLUSH;
            // Assigning a closure makes an FFI callback, kept until the process ends; read back, the
            // pointers to it are swapped in and out without making another.
            $sapi->ub_write = static fn (\FFI\CData $bytes, int $length): int => self::write($bytes, $length);
            $sapi->flush = static function (mixed $context): void {
                self::flush();
            };
            self::$ours = [$sapi->ub_write, $sapi->flush];
            [$sapi->ub_write, $sapi->flush] = self::$cli;
            self::$ffi = $ffi;
            self::$sapi = $sapi;
            return true;
        } catch (\Throwable) {
            return false; // FFI refused (ffi.enable, no libffi callbacks), or this PHP exports no sapi_module
        }
    }
}
