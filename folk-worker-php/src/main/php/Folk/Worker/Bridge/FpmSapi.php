<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * Makes a request's own process under {@see \Folk\Worker\Scripts} say of itself what PHP-FPM's
 * says, where legacy code asks whether it runs on a command line: `PHP_SAPI` and php_sapi_name()
 * are `fpm-fcgi`, the constants STDIN, STDOUT and STDERR are not defined, the globals `$argv` and
 * `$argc` are not set, and phpinfo() prints its HTML page with "Server API" FPM/FastCGI.
 * CodeIgniter 3's is_cli() (`PHP_SAPI === 'cli' OR defined('STDIN')`) would otherwise route every
 * page by the worker's command line, and other code takes the CLI's ways (text error pages,
 * fake server variables, the console's dumper).
 *
 * Through FFI, in PHP 8.2's layouts: `sapi_module` ({@see SapiModule}) and, for the constants, the
 * executor globals' constants table (`EG(zend_constants)`), used only where the `error_reporting`
 * before it is PHP's and the table holds `PHP_SAPI` (the CLI's name) and the standard streams. The worker's own code asks {@see underCli()} instead of PHP_SAPI, and keeps the standard
 * streams' resources, so that its log still goes to stderr. Checked in the worker, before a
 * request's process starts ({@see available()}); applied in the request's process, which ends with
 * its request ({@see assume()}). Without FFI, or where a check fails, nothing changes: the CLI's.
 * `FOLK_FPM_SAPI=0` in the worker's environment turns it off.
 */
final class FpmSapi
{
    private const LAYOUT = <<<'C'
        typedef struct {
            char head[424]; int error_reporting; int exit_status; void *function_table; void *class_table;
            void *zend_constants;
        } folk_executor_globals;
        extern folk_executor_globals executor_globals;
        typedef struct { void *ptr; uint32_t type_info; uint32_t u2; } folk_zval;
        typedef struct { uint32_t refcount; uint32_t type_info; uint64_t h; size_t len; char val[1]; } folk_string;
        typedef struct { folk_string *str; uint32_t type_info; uint32_t u2; folk_string *name; } folk_constant;
        folk_zval *zend_hash_str_find(const void *ht, const char *key, size_t len);
        int zend_hash_str_del(void *ht, const char *key, size_t len);
        extern void *(*zend_string_init_interned)(const char *str, size_t size, bool permanent);
        C;

    /** PHP-FPM's `sapi_module` name and pretty name (sapi/fpm/fpm/fpm_main.c). */
    private const NAME = 'fpm-fcgi';
    private const PRETTY_NAME = 'FPM/FastCGI';

    private static \FFI|false|null $ffi = null;
    /** Whether this process took PHP-FPM's name ({@see assume()}): it is the CLI underneath. */
    private static bool $assumed = false;
    /** The CLI's standard streams, kept open once their constants are gone; C strings kept for PHP. */
    private static array $kept = [];

    /** Whether this PHP is the CLI, whatever name {@see assume()} gave it since. */
    public static function underCli(): bool
    {
        return self::$assumed || PHP_SAPI === 'cli';
    }

    /** Whether {@see assume()} can take PHP-FPM's name here (checked once, in the worker before it forks). */
    public static function available(): bool
    {
        if (self::$ffi === null) {
            self::$ffi = self::probe() ?? false;
        }
        return self::$ffi !== false;
    }

    /**
     * Takes PHP-FPM's name, for the rest of this process (a request's own, under Scripts: it ends
     * with its request). True if it did.
     */
    public static function assume(): bool
    {
        if (self::$assumed || !self::available()) {
            return self::$assumed;
        }
        $ffi = self::$ffi;
        $sapi = SapiModule::get();
        \Folk\Worker\Worker::stderr(); // the worker's log keeps the stream, not the constant
        // PHP keeps pointing at the names: never freed.
        self::$kept = [STDIN, STDOUT, STDERR, SapiModule::cString(self::NAME, false), SapiModule::cString(self::PRETTY_NAME, false)];
        self::$assumed = true;
        try {
            $sapi->name = \FFI::cast('char *', \FFI::addr(self::$kept[3][0]));
            $sapi->pretty_name = \FFI::cast('char *', \FFI::addr(self::$kept[4][0]));
            $sapi->phpinfo_as_text = 0;
            $constants = $ffi->executor_globals->zend_constants;
            $constant = $ffi->cast('folk_constant *', $ffi->zend_hash_str_find($constants, 'PHP_SAPI', 8)->ptr);
            $constant->str = $ffi->cast('folk_string *', ($ffi->zend_string_init_interned)(self::NAME, strlen(self::NAME), false));
            foreach (['STDIN', 'STDOUT', 'STDERR'] as $name) {
                $ffi->zend_hash_str_del($constants, $name, strlen($name));
            }
        } catch (\Throwable) {
            // An FFI call refused: the script runs with what was changed so far (checked above, so not expected).
        }
        unset($GLOBALS['argv'], $GLOBALS['argc']);
        return true;
    }

    private static function text(\FFI\CData $string): string
    {
        return \FFI::string(\FFI::cast('char *', \FFI::addr($string->val)), $string->len);
    }

    private static function probe(): ?\FFI
    {
        if (getenv('FOLK_FPM_SAPI') === '0' || SapiModule::get() === null || !defined('STDIN') || !defined('STDOUT')
            || !defined('STDERR')) {
            return null;
        }
        try {
            $ffi = \FFI::cdef(self::LAYOUT);
            $globals = $ffi->executor_globals;
            if ($globals->error_reporting !== error_reporting() || $globals->zend_constants === null) {
                return null;
            }
            // The table holds the constants by name, each with its value: PHP_SAPI the CLI's string, STDIN a stream.
            foreach (['PHP_SAPI' => 6, 'STDIN' => 9, 'STDOUT' => 9, 'STDERR' => 9] as $name => $type) { // IS_STRING, IS_RESOURCE
                $found = $ffi->zend_hash_str_find($globals->zend_constants, $name, strlen($name));
                $constant = $found === null ? null : $ffi->cast('folk_constant *', $found->ptr);
                if ($constant === null || ($constant->type_info & 0xff) !== $type || self::text($constant->name) !== $name
                    || ($type === 6 && self::text($constant->str) !== PHP_SAPI)) {
                    return null;
                }
            }
            return $ffi;
        } catch (\Throwable) {
            return null; // FFI refused (ffi.enable), or this PHP does not export these symbols
        }
    }
}
