<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

use Folk\Worker\ShutdownFunctions;

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
 * The table is reached through {@see SapiGlobals}, whose layout is checked on the fields on both
 * sides of the table's pointer, and trusted here after one file registered and forgotten. Without
 * ext-ffi (`php -n` loads none), with `ffi.enable=0`, a thread-safe (ZTS) build, a layout that
 * fails a check, or the environment variable `FOLK_CLI_UPLOADS=0`, nothing changes: both
 * functions say no, and applications move uploads with rename() (Symfony's and Laravel's
 * UploadedFile do).
 */
final class UploadedFiles
{
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
        if ($paths === [] || !self::available() || ($ffi = SapiGlobals::get()) === null) {
            return;
        }
        $globals = $ffi->sapi_globals;
        if ($globals->rfc1867_uploaded_files === null) {
            // As PHP's parser creates it (per-request memory; PHP frees it when the process ends).
            $globals->rfc1867_uploaded_files = $ffi->_zend_new_array(8);
        }
        if (!self::$forgetAtExit) {
            // A process that ends during a request (exit(), a fatal error) takes them out too: PHP's
            // own clean-up at the end expects entries of its parser, which ours are not.
            self::$forgetAtExit = ShutdownFunctions::forTheProcess(static fn () => self::forget(array_keys(self::$registered)));
        }
        foreach ($paths as $path) {
            $ffi->zend_hash_str_add_empty_element($globals->rfc1867_uploaded_files, $path, strlen($path));
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
        if ($paths === [] || self::$usable !== true || ($ffi = SapiGlobals::get()) === null) {
            return;
        }
        $table = $ffi->sapi_globals->rfc1867_uploaded_files;
        if ($table === null) {
            return;
        }
        foreach ($paths as $path) {
            $ffi->zend_hash_str_del($table, $path, strlen($path));
            unset(self::$registered[$path]);
        }
    }

    private static function probe(): bool
    {
        return getenv('FOLK_CLI_UPLOADS') !== '0' && SapiGlobals::get() !== null && self::roundTrip();
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
