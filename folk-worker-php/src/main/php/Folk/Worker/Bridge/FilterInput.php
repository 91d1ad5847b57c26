<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * The filter extension's own copy of a request's variables, which filter_input(), filter_has_var()
 * and filter_input_array() read (not `$_GET` and the others). PHP's SAPI fills it while it parses a
 * request, through its input filter: a CLI process once, at its start, and a worker's requests
 * never, so without this those functions find nothing of the request. {@see fill()} fills it for
 * each request through the same two entry points of `sapi_module` (main/SAPI.h), with FFI:
 * - the query string and the Cookie header go through PHP's own parser (`treat_data`), as under
 *   PHP-FPM: same separators, same decoding, the first of two cookies of one name kept;
 * - each field of a form body, and (for {@see \Folk\Worker\Scripts}) each `$_SERVER` entry PHP-FPM
 *   has from its FastCGI params, through the input filter itself, one FFI call each (~0.5 us).
 * The previous request's copy is dropped first by the filter extension's own end of a request.
 *
 * `$_SERVER` is left out for the framework adapters, whose workers live on: ~30 calls a request
 * would cost them more than all the rest of a small request, and PHP registers the entries it
 * filters in the process's own `$_SERVER` array too, which a worker keeps for its environment. A
 * request's process under Scripts ends with its request, so that costs nothing there.
 *
 * PHP registers what it filters in its own `$_GET`, `$_POST` and `$_COOKIE` arrays as well: each is
 * replaced by a new one first (`treat_data` does that), never the one the worker started with.
 * Without ext-ffi or ext-filter, in a thread-safe build, or where `sapi_module` does not look as PHP
 * 8.2 declares it ({@see SapiModule}; then a variable filled, found and dropped), nothing is filled:
 * the functions find nothing, as before.
 */
final class FilterInput
{
    /** The entry of a loaded extension (Zend/zend_modules.h), where its request shutdown is. */
    private const LAYOUT = <<<'C'
        typedef struct {
            unsigned short size; unsigned int zend_api; unsigned char zend_debug; unsigned char zts;
            void *ini_entry; void *deps; const char *name; void *functions;
            int (*module_startup_func)(int type, int module_number);
            int (*module_shutdown_func)(int type, int module_number);
            int (*request_startup_func)(int type, int module_number);
            int (*request_shutdown_func)(int type, int module_number);
            void *info_func; const char *version; size_t globals_size; void *globals_ptr; void *globals_ctor;
            void *globals_dtor; void *post_deactivate_func; int module_started; unsigned char type; void *handle;
            int module_number; const char *build_id;
        } folk_module_entry;
        typedef struct { void *ptr; uint32_t type_info; uint32_t u2; } folk_zval;
        extern char module_registry[56];
        folk_zval *zend_hash_str_find(const void *ht, const char *key, size_t len);
        C;

    /** main/SAPI.h: what treat_data and the input filter are told they parse. */
    private const PARSE_POST = 0;
    private const PARSE_GET = 1;
    private const PARSE_COOKIE = 2;
    private const PARSE_SERVER = 5;
    /** Zend/zend_modules.h: a module loaded with PHP (the filter extension is always one). */
    private const MODULE_PERSISTENT = 1;

    private static \FFI|false|null $ffi = null;
    private static \FFI\CData $sapi;
    private static \FFI\CData $filter;
    /** Whether the filter's copy holds a request's variables, to drop before the next one. */
    private static bool $filled = false;
    /** A value handed to the input filter: the bytes, a pointer to them, and where PHP says their new length. */
    private static \FFI\CData $value;
    private static int $capacity = 0;
    private static \FFI\CData $valuePointer;
    private static \FFI\CData $newLength;

    /**
     * Fills the filter's copy with $request's query, cookies and form fields, and with $server its
     * FastCGI params ({@see PhpRequest::fastCgiParams()}),
     * after dropping the previous request's. A request with none of them, after another such, costs
     * nothing (a plain GET: no FFI call).
     */
    public static function fill(PhpRequest $request, bool $server): void
    {
        // PHP's parser hands the filter each piece of a query string or Cookie header, one it then drops
        // included (`[a]=1`, past the nesting limit): the filter's array exists, empty, where $_GET is.
        $query = $request->server['QUERY_STRING'] ?? '';
        $cookie = $request->server['HTTP_COOKIE'] ?? '';
        if (!self::$filled && !$server && $query === '' && $cookie === '' && $request->post === []) {
            return;
        }
        $ffi = self::get();
        if ($ffi === null) {
            return;
        }
        // PHP's parser warns of what PhpRequest warned of already (max_input_vars, nesting): once is enough.
        set_error_handler(static fn (): bool => true);
        try {
            if (self::$filled) {
                (self::$filter->request_shutdown_func)(self::MODULE_PERSISTENT, self::$filter->module_number);
                self::$filled = false;
            }
            $info = SapiGlobals::get()->sapi_globals->request_info;
            if ($query !== '') {
                self::parse(self::PARSE_GET, $query, $info, 'query_string');
            }
            if ($cookie !== '') {
                self::parse(self::PARSE_COOKIE, $cookie, $info, 'cookie_data');
            }
            // A SAPI's POST handler, where one is set, would read a body: none in a CLI process, checked.
            if ($request->post !== [] && $info->post_entry === null) {
                (self::$sapi->treat_data)(self::PARSE_POST, null, null); // PHP's own $_POST array, a new one
                self::fields($request->post, '');
            }
            if ($server) {
                foreach ($request->fastCgiParams() as $name => $value) {
                    self::filter(self::PARSE_SERVER, $name, $value);
                }
                // PHP-FPM's SAPI filters the PHP_SELF it makes from them after them (PHP's other own entries it does not).
                if (isset($request->server['PHP_SELF'])) {
                    self::filter(self::PARSE_SERVER, 'PHP_SELF', (string) $request->server['PHP_SELF']);
                }
            }
            self::$filled = true;
        } catch (\Throwable) {
            self::$ffi = false; // an FFI call refused: the request goes on, the functions find nothing from now on
        } finally {
            restore_error_handler();
        }
    }

    /** Runs PHP's parser on $text, given to it as the request's $field (`query_string`, `cookie_data`). */
    private static function parse(int $arg, string $text, \FFI\CData $info, string $field): void
    {
        $bytes = SapiModule::cString($text);
        $info->{$field} = \FFI::cast('char *', \FFI::addr($bytes[0]));
        try {
            (self::$sapi->treat_data)($arg, null, null); // copies it before it parses
        } finally {
            $info->{$field} = null; // a CLI process has none; PHP never frees this one
        }
    }

    /** Each field of $vars by the name a form gives it (`a[b][0]`), PHP's parser of names then rebuilding them. */
    private static function fields(array $vars, string $prefix): void
    {
        foreach ($vars as $key => $value) {
            $name = $prefix === '' ? (string) $key : $prefix . '[' . $key . ']';
            if (is_array($value)) {
                self::fields($value, $name);
            } elseif (is_string($value)) {
                self::filter(self::PARSE_POST, $name, $value);
            }
        }
    }

    private static function filter(int $arg, string $name, string $value): void
    {
        $length = strlen($value);
        if ($length >= self::$capacity) {
            self::$capacity = max(256, 2 * ($length + 1));
            self::$value = \FFI::new('char[' . self::$capacity . ']');
            self::$valuePointer[0] = \FFI::cast('char *', \FFI::addr(self::$value[0]));
        }
        \FFI::memcpy(self::$value, $value, $length);
        // The filter copies the bytes, and frees or replaces them only for parse_str()'s PARSE_STRING.
        (self::$sapi->input_filter)($arg, $name, self::$valuePointer, $length, self::$newLength);
    }

    /** Whether {@see fill()} fills the filter's copy in this PHP (checked once, here or at the first fill). */
    public static function available(): bool
    {
        return self::get() !== null;
    }

    /** The checked FFI scope, or null where the filter's copy cannot be filled (decided once). */
    private static function get(): ?\FFI
    {
        if (self::$ffi === null) {
            self::$ffi = self::probe() ?? false;
        }
        return self::$ffi === false ? null : self::$ffi;
    }

    private static function probe(): ?\FFI
    {
        $sapi = SapiModule::get();
        if (!extension_loaded('filter') || getenv('FOLK_FILTER_INPUT') === '0' || SapiGlobals::get() === null || $sapi === null) {
            return null; // SapiGlobals: the CLI, 64-bit Linux, no ZTS, ext-ffi, and PHP 8.2's request_info
        }
        try {
            $ffi = \FFI::cdef(self::LAYOUT);
            $found = $ffi->zend_hash_str_find(\FFI::addr($ffi->module_registry[0]), 'filter', 6);
            if ($found === null) {
                return null;
            }
            $filter = $ffi->cast('folk_module_entry *', $found->ptr);
            if ($filter->size !== \FFI::sizeof($ffi->type('folk_module_entry')) || $filter->name === null
                || \FFI::string($filter->name) !== 'filter' || $filter->type !== self::MODULE_PERSISTENT
                || $filter->version === null || \FFI::string($filter->version) !== phpversion('filter')
                || $filter->request_shutdown_func === null) {
                return null;
            }
            self::$sapi = $sapi;
            self::$filter = $filter;
            self::$valuePointer = \FFI::new('char *[1]');
            self::$newLength = \FFI::new('size_t[1]');
            // A variable filled, found, and dropped: the filter is the one PHP's input goes through. PHP's
            // own $_GET array is replaced first, as the filter registers the variable there too.
            ($sapi->treat_data)(self::PARSE_GET, null, null);
            ($filter->request_shutdown_func)(self::MODULE_PERSISTENT, $filter->module_number);
            self::filter(self::PARSE_GET, 'folk_probe', '1');
            $seen = filter_input(INPUT_GET, 'folk_probe') === '1';
            ($filter->request_shutdown_func)(self::MODULE_PERSISTENT, $filter->module_number);
            ($sapi->treat_data)(self::PARSE_GET, null, null); // and again, without the probe
            return $seen && !filter_has_var(INPUT_GET, 'folk_probe') ? $ffi : null;
        } catch (\Throwable) {
            return null; // FFI refused (ffi.enable), or this PHP does not export these symbols
        }
    }
}
