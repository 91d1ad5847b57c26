<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * move_uploaded_file() and is_uploaded_file() as PHP-FPM has them, for the files of a request a
 * worker parsed ({@see FormBody}).
 *
 * Both functions accept only the files PHP's own multipart parser wrote for the current request:
 * it lists them in a hash table of its SAPI globals (`SG(rfc1867_uploaded_files)`). A CLI process
 * never parses a request body, so without help legacy upload code (`move_uploaded_file($_FILES[
 * 'f']['tmp_name'], $target)`) gets false, and the file is lost with the request. {@see register()}
 * lists a request's files in that table with FFI, as the parser would, and {@see forget()} takes
 * them out after the request; PHP's functions then behave as under PHP-FPM (the rename, the
 * permissions, the entry removed once moved).
 *
 * The table's place is not part of PHP's API, so it is found in PHP 8's layout of
 * `sapi_globals_struct` (main/SAPI.h) and trusted only after checks against what PHP reports of
 * the same struct: the response code (read, and set and read back while PHP allows it), the fields
 * on both sides of the table's pointer (`default_mimetype` and `default_charset` before it,
 * `post_max_size` after it), then one file registered and forgotten. Without ext-ffi (`php -n`
 * loads none), with `ffi.enable=0`, a thread-safe (ZTS) build, a layout that fails a check, or
 * the environment variable `FOLK_CLI_UPLOADS=0`, nothing changes: both functions say no, and
 * applications move uploads with rename() (Symfony's and Laravel's UploadedFile do).
 */
final class UploadedFiles
{
    /** sapi_globals_struct up to the table and the field after it, as PHP 8.0 to 8.4 declare it on 64-bit Linux. */
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
            folk_llist headers; int http_response_code; unsigned char send_default_content_type;
            char *mimetype; char *http_status_line;
        } folk_sapi_headers;
        typedef struct {
            void *server_context; folk_request_info request_info; folk_sapi_headers sapi_headers;
            int64_t read_post_bytes; unsigned char post_read; unsigned char headers_sent;
            int64_t global_stat[18];
            char *default_mimetype; char *default_charset; void *rfc1867_uploaded_files;
            int64_t post_max_size;
        } folk_sapi_globals;
        extern folk_sapi_globals sapi_globals;
        void *_zend_new_array(uint32_t size);
        void *zend_hash_str_add_empty_element(void *ht, const char *key, size_t len);
        int zend_hash_str_del(void *ht, const char *key, size_t len);
        C;

    private static ?\FFI $ffi = null;
    private static ?bool $usable = null;
    /** @var array<string, true> the paths in the table now */
    private static array $registered = [];
    private static bool $forgetAtExit = false;

    /** Whether a request's files can be registered in this process (decided once). */
    public static function available(): bool
    {
        return self::$usable ??= self::probe();
    }

    /**
     * Lists $paths as files PHP received with the current request: is_uploaded_file() says yes
     * and move_uploaded_file() moves them.
     *
     * @param list<string> $paths
     */
    public static function register(array $paths): void
    {
        if ($paths === [] || !self::available() || self::$ffi === null) {
            return;
        }
        $globals = self::$ffi->sapi_globals;
        if ($globals->rfc1867_uploaded_files === null) {
            // As PHP's parser creates it (per-request memory; PHP frees it when the process ends).
            $globals->rfc1867_uploaded_files = self::$ffi->_zend_new_array(8);
        }
        if (!self::$forgetAtExit) {
            // A process that ends during a request (exit(), a fatal error) takes them out too: PHP's
            // own clean-up at the end expects entries of its parser, which ours are not.
            register_shutdown_function(static fn () => self::forget(array_keys(self::$registered)));
            self::$forgetAtExit = true;
        }
        foreach ($paths as $path) {
            self::$ffi->zend_hash_str_add_empty_element($globals->rfc1867_uploaded_files, $path, strlen($path));
            self::$registered[$path] = true;
        }
    }

    /**
     * Takes $paths out of the list again (those still in it: a file moved away is out already).
     *
     * @param list<string> $paths
     */
    public static function forget(array $paths): void
    {
        if ($paths === [] || self::$usable !== true || self::$ffi === null) {
            return;
        }
        $table = self::$ffi->sapi_globals->rfc1867_uploaded_files;
        if ($table === null) {
            return;
        }
        foreach ($paths as $path) {
            self::$ffi->zend_hash_str_del($table, $path, strlen($path));
            unset(self::$registered[$path]);
        }
    }

    private static function probe(): bool
    {
        if (PHP_SAPI !== 'cli' || PHP_ZTS || PHP_INT_SIZE !== 8 || PHP_OS_FAMILY !== 'Linux'
            || !extension_loaded('ffi') || getenv('FOLK_CLI_UPLOADS') === '0') {
            return false;
        }
        try {
            $ffi = \FFI::cdef(self::LAYOUT);
            $globals = $ffi->sapi_globals;
            // Integers first: reading them cannot fault whatever the layout; pointers only once they match.
            $code = $globals->sapi_headers->http_response_code;
            if ($code !== (int) http_response_code()) {
                return false;
            }
            if (!headers_sent()) { // else PHP refuses a new code
                http_response_code(299);
                $seen = $globals->sapi_headers->http_response_code;
                $globals->sapi_headers->http_response_code = $code; // as it was, "none" included
                if ($seen !== 299) {
                    return false;
                }
            }
            // The fields on both sides of the table's pointer: default_charset before, post_max_size after.
            if ($globals->post_max_size !== FormBody::iniBytes('post_max_size')
                || $globals->default_mimetype === null || $globals->default_charset === null
                || \FFI::string($globals->default_mimetype) !== (string) ini_get('default_mimetype')
                || \FFI::string($globals->default_charset) !== (string) ini_get('default_charset')) {
                return false;
            }
            self::$ffi = $ffi;
            return self::roundTrip();
        } catch (\Throwable) {
            self::$ffi = null;
            return false;
        }
    }

    /** One file registered, seen by is_uploaded_file(), forgotten and no longer seen. */
    private static function roundTrip(): bool
    {
        $file = tempnam(sys_get_temp_dir(), 'folk');
        if ($file === false) {
            return false;
        }
        try {
            self::$usable = true;
            self::register([$file]);
            $seen = is_uploaded_file($file);
            self::forget([$file]);
            return $seen && !is_uploaded_file($file);
        } finally {
            self::$usable = null;
            @unlink($file);
        }
    }
}
