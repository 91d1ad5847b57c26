<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * PHP's `sapi_module` (main/SAPI.h), the CLI's, through FFI: its parser of a request's variables
 * and its input filter ({@see FilterInput}), what it says of itself ({@see FpmSapi}), and where
 * getenv() looks first ({@see SapiGetenv}).
 *
 * Its layout is not part of PHP's API, so it is read as PHP 8.2 declares `sapi_module_struct` (up to
 * `input_filter_init`; 64-bit Linux, non-ZTS) and trusted only where the CLI's own values are
 * where that layout puts them: its name, its php.ini settings, its text phpinfo() and the settings
 * it forces, and the functions a web SAPI's parsing goes through. Checked once, before anything
 * changes it; {@see get()} is null where it cannot be had (no ext-ffi, `ffi.enable=0`, another
 * layout).
 */
final class SapiModule
{
    private const LAYOUT = <<<'C'
        typedef struct {
            char *name; char *pretty_name; void *startup; void *shutdown; void *activate; void *deactivate;
            void *ub_write; void *flush; void *get_stat; char *(*getenv)(const char *name, size_t name_len);
            void *sapi_error; void *header_handler;
            void *send_headers; void *send_header; void *read_post; void *read_cookies;
            void *register_server_variables; void *log_message; void *get_request_time; void *terminate_process;
            char *php_ini_path_override; void *default_post_reader;
            void (*treat_data)(int arg, char *str, void *dest_array);
            char *executable_location; int php_ini_ignore; int php_ini_ignore_cwd; void *get_fd; void *force_http_10;
            void *get_target_uid; void *get_target_gid;
            unsigned int (*input_filter)(int arg, const char *var, char **val, size_t val_len, size_t *new_val_len);
            void *ini_defaults; int phpinfo_as_text; const char *ini_entries; void *additional_functions;
            unsigned int (*input_filter_init)(void);
        } folk_sapi_module;
        extern folk_sapi_module sapi_module;
        C;

    private static \FFI\CData|false|null $module = null;
    /** The scope the module's type is declared in: it must live as long as the module's CData. */
    private static ?\FFI $ffi = null;

    /** The CLI's `sapi_module`, checked; null where it cannot be had (decided once). */
    public static function get(): ?\FFI\CData
    {
        if (self::$module === null) {
            self::$module = self::probe() ?? false;
        }
        return self::$module === false ? null : self::$module;
    }

    /**
     * The settings the CLI gives PHP over php.ini: its own (`html_errors=0`, `max_execution_time=0`,
     * ...), then each `-d` of the command line, a line each; empty without the module.
     */
    public static function iniEntries(): string
    {
        $module = self::get();
        return $module === null ? '' : self::text($module->ini_entries);
    }

    /**
     * $text as a C string for PHP to read (its bytes and a NUL): held by the caller as long as PHP may
     * read it; with $owned false never freed, for PHP to keep pointing at.
     */
    public static function cString(string $text, bool $owned = true): \FFI\CData
    {
        $bytes = \FFI::new('char[' . (strlen($text) + 1) . ']', $owned); // zeroed: the NUL is there
        \FFI::memcpy($bytes, $text, strlen($text));
        return $bytes;
    }

    /** A `const char *` field, which FFI reads as a PHP string, or as a pointer. */
    private static function text(mixed $field): string
    {
        return $field === null ? '' : (is_string($field) ? $field : \FFI::string($field));
    }

    private static function probe(): ?\FFI\CData
    {
        if (!FpmSapi::underCli() || PHP_ZTS || PHP_INT_SIZE !== 8 || PHP_OS_FAMILY !== 'Linux' || !extension_loaded('ffi')) {
            return null;
        }
        try {
            $ffi = \FFI::cdef(self::LAYOUT);
            $sapi = $ffi->sapi_module;
            if ($sapi->name === null || \FFI::string($sapi->name) !== 'cli' || $sapi->pretty_name === null
                || \FFI::string($sapi->pretty_name) !== 'Command Line Interface' || $sapi->php_ini_ignore_cwd !== 1
                || $sapi->phpinfo_as_text !== 1 || !str_contains(self::text($sapi->ini_entries), 'register_argc_argv=1')
                || $sapi->treat_data === null || $sapi->input_filter === null || $sapi->input_filter_init === null
                || $sapi->getenv !== null) { // the CLI has none: getenv() reads the process's environment
                return null;
            }
            self::$ffi = $ffi;
            return $sapi;
        } catch (\Throwable) {
            return null; // FFI refused (ffi.enable), or this PHP does not export sapi_module
        }
    }
}
