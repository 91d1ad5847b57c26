<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * The `.user.ini` files of a script's directories, applied as PHP-FPM applies them before each
 * request: the file `user_ini.filename` names (`.user.ini`; empty for none) in the document root and
 * in each directory below it down to the script's (for a script out of the document root, in the
 * script's directory only), a deeper file's settings over a shallower one's. Each setting a
 * directory may change (`upload_max_filesize`, `post_max_size`, `memory_limit`, `auto_prepend_file`:
 * those php.ini's documentation marks PHP_INI_PERDIR or PHP_INI_ALL) is set; others are left as they
 * are, as PHP-FPM leaves them. PHP-FPM keeps what it read for `user_ini.cache_ttl` seconds (300); a
 * request's process reads the files anew, so a change counts from the next request.
 *
 * Before them, php.ini's values of the settings the CLI forces its own of ({@see phpIniOverCli()}).
 *
 * PHP sets the per-directory ones only for a SAPI that reads such files, so they are set as PHP-FPM
 * sets them, with PHP's own zend_alter_ini_entry_chars() through FFI. Without ext-ffi (or with
 * `ffi.enable=0`) ini_set() sets those a script may set itself, and the others keep the worker's values.
 */
final class UserIni
{
    /** ZEND_INI_PERDIR and ZEND_INI_STAGE_HTACCESS (Zend/zend_ini.h): what PHP-FPM passes for these files. */
    private const PERDIR = 2;
    private const STAGE_HTACCESS = 32;

    /**
     * What the CLI sets over php.ini (sapi/cli's hardcoded settings, but register_argc_argv and
     * implicit_flush, which the worker answers otherwise), with PHP's own defaults, which PHP-FPM
     * starts from: PHP-FPM takes these from php.ini.
     */
    private const CLI_FORCED = ['html_errors' => '1', 'output_buffering' => '0', 'max_execution_time' => '30',
        'max_input_time' => '-1'];

    private static \FFI|false|null $ffi = null;
    /** @var array<string, string>|null {@see phpIniOverCli()}, once read */
    private static ?array $phpIni = null;

    private function __construct()
    {
    }

    /**
     * Applies, for a script in $dir under the document root $root, what PHP-FPM's request starts
     * with: php.ini's values of the settings the CLI forces its own of ({@see phpIniOverCli()}), then
     * the `.user.ini` files.
     */
    public static function apply(string $root, string $dir): void
    {
        foreach (self::phpIniOverCli() as $key => $value) {
            self::set($key, $value);
        }
        $name = (string) ini_get('user_ini.filename');
        if ($name === '') {
            return;
        }
        $root = rtrim($root, '/');
        $dirs = [$dir];
        if ($dir === $root || str_starts_with($dir, $root . '/')) {
            $dirs = [$root];
            foreach (explode('/', substr($dir, strlen($root))) as $segment) {
                if ($segment !== '') {
                    $dirs[] = end($dirs) . '/' . $segment;
                }
            }
        }
        $settings = [];
        foreach ($dirs as $each) {
            $file = $each . '/' . $name;
            if (!is_file($file)) {
                continue;
            }
            $values = @parse_ini_file($file, false, INI_SCANNER_NORMAL);
            if ($values === false) {
                error_log(sprintf('PHP Warning:  %s: %s', $file, error_get_last()['message'] ?? 'cannot be read'));
                continue;
            }
            foreach ($values as $key => $value) {
                if (!is_array($value)) {
                    $settings[(string) $key] = (string) $value;
                }
            }
        }
        foreach ($settings as $key => $value) {
            self::set($key, $value);
        }
    }

    /**
     * php.ini's values (the loaded file's, then those PHP scanned with it; PHP's defaults where they
     * set none) of the settings the CLI forces its own of, which PHP-FPM takes from its php.ini:
     * `max_execution_time` (Debian's 30 s, where the CLI has no limit), `output_buffering` (Debian's
     * 4096, where the CLI has none), `html_errors`, `max_input_time`. Not those the worker's command
     * line sets (`-d`, which PHP appends to the CLI's own in `sapi_module.ini_entries`): those stand.
     * Read once; a worker that forks a process per request reads them before it forks. Empty where
     * the CLI's settings cannot be read ({@see SapiModule}).
     *
     * @return array<string, string>
     */
    public static function phpIniOverCli(): array
    {
        if (self::$phpIni !== null) {
            return self::$phpIni;
        }
        $entries = SapiModule::iniEntries();
        if ($entries === '') {
            return self::$phpIni = [];
        }
        $lines = explode("\n", $entries);
        $values = [];
        foreach (self::CLI_FORCED as $key => $default) {
            if (count(preg_grep('/^\s*' . $key . '\s*=/', $lines)) === 1) { // the CLI's own line only: no -d
                $values[$key] = $default;
            }
        }
        $scanned = array_map('trim', explode(',', (string) php_ini_scanned_files()));
        foreach (array_filter([(string) php_ini_loaded_file(), ...$scanned]) as $file) {
            $ini = @parse_ini_file($file, false, INI_SCANNER_NORMAL);
            foreach (is_array($ini) ? array_intersect_key($ini, $values) : [] as $key => $value) {
                if (!is_array($value)) {
                    $values[$key] = (string) $value;
                }
            }
        }
        return self::$phpIni = $values;
    }

    /** Sets one setting as PHP-FPM sets it from such a file; PHP refuses one not per directory, or unknown. */
    private static function set(string $name, string $value): void
    {
        $ffi = self::ffi();
        if ($ffi === null) {
            @ini_set($name, $value);
            return;
        }
        $key = ($ffi->zend_string_init_interned)($name, strlen($name), false); // a pointer to PHP's function
        $ffi->zend_alter_ini_entry_chars($key, $value, strlen($value), self::PERDIR, self::STAGE_HTACCESS);
    }

    private static function ffi(): ?\FFI
    {
        if (self::$ffi === null) {
            self::$ffi = false;
            if (extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0' && !PHP_ZTS) {
                try {
                    self::$ffi = \FFI::cdef('typedef struct _zend_string zend_string;'
                        . ' extern zend_string *(*zend_string_init_interned)(const char *str, size_t size, bool permanent);'
                        . ' int zend_alter_ini_entry_chars(zend_string *name, const char *value, size_t value_length, int modify_type, int stage);');
                } catch (\Throwable) {
                    self::$ffi = false; // FFI refused, or this PHP does not export them: ini_set() does what it can
                }
            }
        }
        return self::$ffi === false ? null : self::$ffi;
    }
}
