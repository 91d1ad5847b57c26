<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

use Folk\Worker\ShutdownFunctions;

/**
 * getenv() finds the request's FastCGI params, as under PHP-FPM: `getenv('REMOTE_ADDR')`,
 * `getenv('HTTP_X_FORWARDED_FOR')`, `getenv('HTTPS')`, as legacy code reads a request. PHP's
 * getenv() asks its SAPI first (`sapi_module.getenv`): PHP-FPM's answers from the request's params,
 * the CLI has no such function and reads the process's environment. {@see install()} gives the
 * worker's `sapi_module` one (an FFI callback) that answers from the request being served
 * ({@see PhpRequest::current()}, its {@see PhpRequest::fastCgiParams()}), and leaves every other name
 * (the worker's environment, what the request set with putenv()) to PHP, as PHP-FPM's does. PHP
 * itself refuses `HTTP_PROXY` there (httpoxy). getenv() without a name lists the environment only;
 * under PHP-FPM it lists the params too.
 *
 * Installed once per worker; the CLI's none again at the process's end, after the application's
 * shutdown functions. Without ext-ffi or where `sapi_module` fails its checks ({@see SapiModule}),
 * or with `FOLK_SAPI_GETENV=0` in the worker's environment, getenv() reads the environment only.
 */
final class SapiGetenv
{
    private static ?bool $installed = null;
    /** The value last answered, as a C string PHP copies (sapi_getenv() estrdup()s it). */
    private static ?\FFI\CData $value = null;

    /** True if getenv() now finds the request's params (decided once). */
    public static function install(): bool
    {
        if (self::$installed !== null) {
            return self::$installed;
        }
        self::$installed = false;
        $sapi = SapiModule::get();
        if ($sapi === null || getenv('FOLK_SAPI_GETENV') === '0') {
            return false;
        }
        try {
            // Assigning a closure makes an FFI callback, which lives until the process ends.
            $sapi->getenv = static function (mixed $name, int $length): ?\FFI\CData {
                try { // PHP gives the name as a string (a C string read to its end), or as a pointer
                    return self::lookup(is_string($name) ? substr($name, 0, $length) : \FFI::string($name, $length));
                } catch (\Throwable) {
                    return null; // nothing may be thrown out of an FFI callback: PHP reads the environment
                }
            };
        } catch (\Throwable) {
            return false; // FFI refused (ffi.enable, no libffi callbacks)
        }
        // Last at the end: after the application's shutdown functions, which may still read it.
        ShutdownFunctions::forTheProcess(static function () use ($sapi): void {
            register_shutdown_function(static function () use ($sapi): void {
                $sapi->getenv = null;
            });
        });
        return self::$installed = true;
    }

    private static function lookup(string $name): ?\FFI\CData
    {
        $value = PhpRequest::current()?->fastCgiParams()[$name] ?? null;
        if ($value === null || str_contains($value, "\0")) {
            return null; // PHP reads the environment
        }
        self::$value = SapiModule::cString($value);
        return \FFI::cast('char *', \FFI::addr(self::$value[0]));
    }
}
