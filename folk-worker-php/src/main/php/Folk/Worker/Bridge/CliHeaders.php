<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * header(), setcookie(), header_remove() and headers_list() as PHP-FPM has them, in a CLI worker.
 *
 * PHP keeps the header lines of a request in its SAPI layer; each SAPI decides, through the
 * `header_handler` of its `sapi_module`, whether a line is kept. The CLI's handler keeps none
 * (headers_list() is always empty there), so header() calls in application code would be lost.
 * {@see keep()} clears that handler with FFI, after which PHP keeps every line as a web SAPI does
 * (native sessions' cookie and cache headers included), and the adapters answer with them. It
 * checks the SAPI's name first and a header round trip after, and leaves PHP as it was if either
 * fails. Output that reached stdout (at boot, or between requests) makes a CLI process count
 * headers as sent for good; {@see SapiGlobals} clears that, as every PHP-FPM request starts.
 * Without ext-ffi (`php -n` loads none), with `ffi.enable=0`, with output at boot where the SAPI
 * globals cannot be checked, or with the environment variable `FOLK_CLI_HEADERS=0`, nothing
 * changes and the adapters fall back to {@see HeaderCapture}.
 */
final class CliHeaders
{
    /**
     * header_handler's place among the function pointers that follow name and pretty_name in
     * sapi_module_struct (main/SAPI.h: startup, shutdown, activate, deactivate, ub_write, flush,
     * get_stat, getenv, sapi_error, header_handler; the same from PHP 5 to 8.4).
     */
    private const HEADER_HANDLER = 9;

    private static ?bool $kept = null;

    /** Makes PHP keep header lines for the rest of the process; whether it does (decided once). */
    public static function keep(): bool
    {
        return self::$kept ??= self::tryKeep();
    }

    /**
     * Starts a request as PHP-FPM starts each one: no header lines (those of the previous request
     * forgotten), headers not sent (output that reached stdout since, a deferred task's echo, would
     * make header() refuse every line of this one) and status 200 (a CLI process keeps the last
     * one set, so http_response_code() would report the previous request's 404).
     */
    public static function reset(): void
    {
        if (self::$kept === true) {
            if (headers_sent()) {
                SapiGlobals::clearHeadersSent(); // first: header_remove() too refuses once they count as sent
            }
            header_remove();
            if (!headers_sent()) {
                http_response_code(200);
            }
        }
    }

    /**
     * The answer's header lines, once the request's header_register_callback() callback ran
     * ({@see SapiGlobals::runHeaderCallback()}).
     *
     * @param string|null $requestSession `name=id` of the native session the request's cookie named
     *        ({@see NativeSession::requestCookie()}): PHP's Set-Cookie line for that same id is left out
     * @return list<array{0: string, 1: string}> the kept lines as [name, value], in order; none unless {@see keep()}
     */
    public static function lines(?string $requestSession = null): array
    {
        if (self::$kept !== true) {
            return [];
        }
        SapiGlobals::runHeaderCallback(); // as PHP-FPM runs it: just before the headers go
        $lines = [];
        foreach (headers_list() as $line) {
            $colon = strpos($line, ':');
            if ($colon === false) {
                continue;
            }
            $name = substr($line, 0, $colon);
            $value = ltrim(substr($line, $colon + 1));
            if ($requestSession !== null && strcasecmp($name, 'Set-Cookie') === 0
                && ($value === $requestSession || str_starts_with($value, $requestSession . ';'))) {
                continue;
            }
            $lines[] = [$name, $value];
        }
        return $lines;
    }

    private static function tryKeep(): bool
    {
        if (!FpmSapi::underCli() || !extension_loaded('ffi') || getenv('FOLK_CLI_HEADERS') === '0'
            || !SapiGlobals::clearHeadersSent()) { // output at boot (a worker script's "starting...")
            return false;
        }
        try {
            $ffi = \FFI::cdef('typedef struct { char *name; char *pretty_name; void *handlers[10]; } sapi_module_struct;'
                . ' extern sapi_module_struct sapi_module;');
            $sapi = $ffi->sapi_module;
            if ($sapi->name === null || \FFI::string($sapi->name) !== 'cli') {
                return false;
            }
            $cliHandler = $sapi->handlers[self::HEADER_HANDLER];
            $sapi->handlers[self::HEADER_HANDLER] = null; // no handler: PHP keeps every line
        } catch (\Throwable) {
            return false; // FFI refused (ffi.enable), or this PHP does not export sapi_module
        }
        $level = ob_get_level();
        ob_start(); // nothing of the check may reach stdout
        try {
            header('X-Folk-Cli-Headers: probe');
            $kept = in_array('X-Folk-Cli-Headers: probe', headers_list(), true);
            header_remove('X-Folk-Cli-Headers');
        } finally {
            while (ob_get_level() > $level) {
                ob_end_clean();
            }
        }
        if (!$kept) {
            $sapi->handlers[self::HEADER_HANDLER] = $cliHandler;
        }
        return $kept;
    }
}
