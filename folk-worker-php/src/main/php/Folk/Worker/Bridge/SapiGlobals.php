<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * PHP's SAPI globals (`SG()`, main/SAPI.h) through FFI, for what PHP-FPM starts each request
 * with and a CLI process sets only once: whether headers count as sent ({@see clearHeadersSent()}),
 * the request's uploaded files ({@see UploadedFiles}) and its body stream ({@see RequestBody}); and
 * for the header callback PHP-FPM runs and a CLI process never does ({@see runHeaderCallback()}).
 *
 * Their layout is not part of PHP's API, so it is read as PHP 8.2 declares `sapi_globals_struct`
 * on 64-bit Linux (another version whose layout differs fails the checks) and trusted only after
 * checks against what PHP reports of
 * the same struct: the response code (read, and set and read back while PHP allows it),
 * `default_mimetype` and `default_charset`, and `post_max_size` after the uploaded files' table;
 * the header callback's place, further on, by the table before it and the callback's type.
 * Integers are compared first, so a wrong layout is found before any pointer in it is read.
 * Without ext-ffi (`php -n` loads none), with `ffi.enable=0`, in a thread-safe (ZTS) build, or
 * with a layout that fails a check, {@see get()} is null and nothing is touched.
 */
final class SapiGlobals
{
    /**
     * sapi_globals_struct (PHP 8.2) up to the header callback, the hash functions used on the
     * uploaded files' table, and the function that sends headers (which runs the callback).
     */
    private const LAYOUT = <<<'C'
        typedef struct {
            void *head; void *tail; size_t count; size_t size; void *dtor; unsigned char persistent;
            void *traverse_ptr;
        } folk_llist;
        typedef struct {
            const char *request_method; char *query_string; char *cookie_data; int64_t content_length;
            char *path_translated; char *request_uri; void *request_body; const char *content_type;
            unsigned char headers_only; unsigned char no_headers; unsigned char headers_read;
            void *post_entry; char *content_type_dup; char *auth_user; char *auth_password;
            char *auth_digest; char *argv0; char *current_user; int current_user_length; int argc;
            char **argv; int proto_num;
        } folk_request_info;
        typedef struct {
            uint32_t refcount; uint32_t gc_type_info; uint32_t flags; uint32_t nTableMask; void *arData;
            uint32_t nNumUsed; uint32_t nNumOfElements; uint32_t nTableSize; uint32_t nInternalPointer;
            int64_t nNextFreeElement; void *pDestructor;
        } folk_hashtable;
        typedef struct { uint64_t value; uint32_t type_info; uint32_t u2; } folk_zval;
        typedef struct {
            folk_llist headers; int http_response_code; unsigned char send_default_content_type;
            char *mimetype; char *http_status_line;
        } folk_sapi_headers;
        typedef struct {
            void *server_context; folk_request_info request_info; folk_sapi_headers sapi_headers;
            int64_t read_post_bytes; unsigned char post_read; unsigned char headers_sent;
            int64_t global_stat[18];
            char *default_mimetype; char *default_charset; void *rfc1867_uploaded_files;
            int64_t post_max_size; int options; unsigned char sapi_started; double global_request_time;
            folk_hashtable known_post_content_types; folk_zval callback_func;
        } folk_sapi_globals;
        extern folk_sapi_globals sapi_globals;
        int sapi_send_headers(void);
        void *_zend_new_array(uint32_t size);
        void *zend_hash_str_add_empty_element(void *ht, const char *key, size_t len);
        int zend_hash_str_del(void *ht, const char *key, size_t len);
        void _efree(void *ptr);
        C;

    /** zval types (Zend/zend_types.h) a registered header callback can have: a function's name, [object, method], a closure. */
    private const CALLABLE_TYPES = [6 => true, 7 => true, 8 => true];

    private static \FFI|false|null $ffi = null;
    /** Whether {@see runHeaderCallback()} found the callback where the layout says (decided once). */
    private static ?bool $callbackFound = null;

    /** The FFI scope whose `sapi_globals` is PHP's, checked; null where that cannot be had (decided once). */
    public static function get(): ?\FFI
    {
        if (self::$ffi === null) {
            self::$ffi = self::probe() ?? false;
        }
        return self::$ffi === false ? null : self::$ffi;
    }

    /**
     * Makes headers count as not sent, as at the start of a PHP-FPM request. A CLI process counts
     * them as sent from its first output that reaches stdout (a worker script's "starting..." at
     * boot, a deferred task's echo) to its end, and header() then refuses every line with "headers
     * already sent". True if they now count as not sent.
     */
    public static function clearHeadersSent(): bool
    {
        if (!headers_sent()) {
            return true;
        }
        $ffi = self::get();
        if ($ffi === null) {
            return false;
        }
        $ffi->sapi_globals->headers_sent = 0;
        return !headers_sent();
    }

    /**
     * Makes headers count as sent, as they are under PHP-FPM once output went out: header() and
     * session_start() then refuse, with PHP's own warning. True if they now count as sent.
     */
    public static function markHeadersSent(): bool
    {
        $ffi = self::get();
        if ($ffi !== null) {
            $ffi->sapi_globals->headers_sent = 1;
        }
        return headers_sent();
    }

    /**
     * The status of the line header('HTTP/1.1 404 Not Found') set, read as PHP's CGI SAPI reads it
     * for PHP-FPM (the number after the first space of a line that starts with "HTTP/"); null
     * without one, or without FFI.
     */
    public static function statusLineCode(): ?int
    {
        $line = self::get()?->sapi_globals->sapi_headers->http_status_line;
        if ($line === null) {
            return null;
        }
        $text = \FFI::string($line);
        $space = strpos($text, ' ');
        return $space !== false && $space >= 5 && strncasecmp($text, 'HTTP/', 5) === 0 ? (int) substr($text, $space + 1) : null;
    }

    /**
     * Forgets the status line of the previous request: every PHP-FPM request starts without one,
     * but a CLI process keeps it (http_response_code() leaves it, header_remove() too).
     */
    public static function clearStatusLine(): void
    {
        $ffi = self::get();
        $headers = $ffi?->sapi_globals->sapi_headers;
        if ($headers !== null && $headers->http_status_line !== null) {
            $ffi->_efree($headers->http_status_line);
            $headers->http_status_line = null;
        }
    }

    /**
     * Runs the callback the request registered with header_register_callback(), as PHP-FPM runs it
     * when it sends the headers: once, just before, where it can still add, change or remove
     * lines (MediaWiki marks every answer that sets a cookie `Cache-Control: private` there, and
     * adds its `X-Request-Id`). The CLI SAPI never sends headers, so it never runs the callback.
     * Called when the answer's head is taken from PHP's lines ({@see CliHeaders::lines()}). PHP's
     * own sapi_send_headers() runs it, with headers counting as not sent for that time; it adds
     * PHP's default Content-Type line first where the request set none, as PHP-FPM's does. After it
     * headers count as sent or not as before, and a status line header() set is kept. Without FFI,
     * or where the callback is not where PHP 8.2 keeps it, nothing runs.
     */
    public static function runHeaderCallback(): void
    {
        $ffi = self::get();
        if ($ffi === null) {
            return;
        }
        $globals = $ffi->sapi_globals;
        $type = $globals->callback_func->type_info & 0xff;
        if ($type === 0) { // IS_UNDEF: none registered (most requests: one field read)
            return;
        }
        if (!(self::$callbackFound ??= isset(self::CALLABLE_TYPES[$type]) && self::knownPostTypesLookRight($globals))) {
            return;
        }
        $headers = $globals->sapi_headers;
        $sent = $globals->headers_sent;
        $noHeaders = $globals->request_info->no_headers;
        $defaultType = $headers->send_default_content_type;
        $mimetype = $headers->mimetype;
        $statusLine = $headers->http_status_line; // sapi_send_headers() frees it once the headers are out
        $headers->http_status_line = null;
        $globals->headers_sent = 0;
        $globals->request_info->no_headers = 0;
        // PHP-FPM adds its default Content-Type line before the callback, where header() set none
        // in the request; a CLI process keeps the flag that says so from its first Content-Type on.
        $headers->send_default_content_type = self::hasContentType() ? 0 : 1;
        try {
            $ffi->sapi_send_headers();
        } finally {
            $globals->headers_sent = $sent;
            $globals->request_info->no_headers = $noHeaders;
            $headers->send_default_content_type = $defaultType;
            if ($headers->mimetype !== null && ($mimetype === null || $headers->mimetype != $mimetype)) {
                $ffi->_efree($headers->mimetype); // PHP's copy of the default, which it frees at a request's end
                $headers->mimetype = $mimetype;
            }
            if ($headers->http_status_line === null) {
                $headers->http_status_line = $statusLine;
            } elseif ($statusLine !== null) { // a line the callback set, where PHP kept it
                $ffi->_efree($statusLine);
            }
        }
    }

    /**
     * Makes $file the script PHP describes, as PHP-FPM's SCRIPT_FILENAME is (getlastmod(),
     * getmyinode(), get_current_user(), the Last-Modified of a session's `private` and `public` cache
     * limiters); a CLI process describes the worker's script. For a request's own process, which
     * ends with its script: the copy of $file is never freed.
     */
    public static function describeScript(string $file): void
    {
        $ffi = self::get();
        if ($ffi === null) {
            return;
        }
        $length = strlen($file);
        $copy = \FFI::new('char[' . ($length + 1) . ']', false);
        \FFI::memcpy($copy, $file, $length);
        $copy[$length] = "\0";
        $info = $ffi->sapi_globals->request_info;
        $info->path_translated = $ffi->cast('char *', \FFI::addr($copy));
        $info->current_user = null; // get_current_user() keeps the owner it found first
        $info->current_user_length = 0;
    }

    private static function hasContentType(): bool
    {
        foreach (headers_list() as $line) {
            if (strncasecmp($line, 'Content-Type:', 13) === 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the table before the callback looks as PHP fills it: the request body types PHP
     * parses itself (form-urlencoded and multipart/form-data, and any an extension adds), in a
     * table whose size is a power of two.
     */
    private static function knownPostTypesLookRight(\FFI\CData $globals): bool
    {
        $table = $globals->known_post_content_types;
        $size = $table->nTableSize;
        return $size >= 8 && ($size & ($size - 1)) === 0 && $table->nNumOfElements >= 2
            && $table->nNumOfElements <= $table->nNumUsed && $table->nNumUsed <= $size;
    }

    private static function probe(): ?\FFI
    {
        if (!FpmSapi::underCli() || PHP_ZTS || PHP_INT_SIZE !== 8 || PHP_OS_FAMILY !== 'Linux' || !extension_loaded('ffi')) {
            return null;
        }
        try {
            $ffi = \FFI::cdef(self::LAYOUT);
            $globals = $ffi->sapi_globals;
            $code = $globals->sapi_headers->http_response_code;
            if ($code !== (int) http_response_code()) {
                return null;
            }
            if (!headers_sent()) { // else PHP refuses a new code
                http_response_code(299);
                $seen = $globals->sapi_headers->http_response_code;
                $globals->sapi_headers->http_response_code = $code; // as it was, "none" included
                if ($seen !== 299) {
                    return null;
                }
            }
            if ($globals->headers_sent !== (headers_sent() ? 1 : 0)
                || $globals->post_max_size !== FormBody::iniBytes('post_max_size')
                || $globals->default_mimetype === null || $globals->default_charset === null
                || \FFI::string($globals->default_mimetype) !== (string) ini_get('default_mimetype')
                || \FFI::string($globals->default_charset) !== (string) ini_get('default_charset')) {
                return null;
            }
            return $ffi;
        } catch (\Throwable) {
            return null; // FFI refused (ffi.enable), or this PHP does not export these symbols
        }
    }
}
