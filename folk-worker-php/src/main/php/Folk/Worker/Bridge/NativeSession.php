<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * PHP's native session functions in a long-running CLI worker, made to behave as under PHP-FPM.
 *
 * The pitfalls: in the CLI the session id survives session_write_close() (the next
 * session_start() would reopen the previous client's session), session_start() reads the id
 * from `$_COOKIE` only while PHP holds no id at all, which session_id('') does not give back
 * (it sets an empty one), `$_SESSION` keeps the last data, and the headers PHP sends itself
 * (the session cookie, the cache limiter's Expires/Cache-Control/Pragma) go nowhere because the
 * CLI has no header list. So, around every request: {@see begin()} closes any open session,
 * removes `$_SESSION` (PHP-FPM has none before session_start()) and leaves PHP without an id, as
 * a PHP-FPM request starts: session_id() is "" and session_start() finds the id in the request's
 * cookie itself (under the session name set then, with PHP's own checks). That takes writing
 * the id field of PHP's session globals with FFI ({@see forgetId()}); without FFI the id is set
 * from the request's cookie with session_id() instead, which session_id() then reports before
 * session_start() (a known difference, README). {@see end()} writes and closes the session and
 * returns the headers PHP-FPM would have sent.
 *
 * Output written to stdout makes the CLI consider the headers sent, after which session ids
 * cannot be set and session_start() refuses to run: the adapters buffer all output of a
 * request for that reason, and in a worker that printed anyway this class only removes
 * `$_SESSION`. The session settings a request changes (session_name(),
 * session_set_cookie_params(), session_cache_limiter()) stay: frameworks set them once, on a
 * session service that lives on (Symfony's NativeSessionStorage), not at every request.
 */
final class NativeSession
{
    /**
     * php_ps_globals (ext/session/php_session.h, PHP 8.0 to 8.3) up to the cookie lifetime, and
     * zend_string; trusted only after the checks of {@see probe()}.
     */
    private const LAYOUT = <<<'C'
        typedef struct { uint32_t refcount; uint32_t type_info; uint64_t h; size_t len; char val[1]; } folk_zend_string;
        typedef struct {
            char *save_path; char *session_name; folk_zend_string *id; char *extern_referer_chk;
            char *cache_limiter; int64_t cookie_lifetime;
        } folk_ps_globals;
        extern folk_ps_globals ps_globals;
        C;

    /** zend_string's GC flag of an interned string (IS_STR_INTERNED, Zend/zend_types.h): nothing to free. */
    private const INTERNED = 1 << 6;

    private static \FFI|false|null $globals = null;

    /** The id of the request's session cookie, if it names one PHP would take. */
    private ?string $requestId = null;

    /** Whether begin() set the id with session_id() (no FFI): PHP then sends a cookie for it. */
    private bool $idSet = false;

    /** @param array<array-key, mixed> $cookies the request's parsed cookies */
    public function begin(array $cookies): void
    {
        if (!function_exists('session_status') || session_status() === PHP_SESSION_DISABLED) {
            return;
        }
        if (session_status() === PHP_SESSION_ACTIVE) {
            self::close();
        }
        unset($_SESSION); // none until session_start(): legacy code starts one `if (!isset($_SESSION))`
        if (headers_sent()) {
            return; // session ids can no longer be set (and session_start() refuses): see above
        }
        $value = $cookies[session_name()] ?? null;
        // PHP ignores (and replaces) an id made of characters a session id never has.
        $this->requestId = is_string($value) && preg_match('/^[a-zA-Z0-9,-]{1,256}$/', $value) === 1 ? $value : null;
        $this->idSet = !self::forgetId();
        if ($this->idSet && $this->requestId !== null) {
            session_id($this->requestId);
        }
    }

    /**
     * `name=id` of the session the request's cookie named, if begin() had to set it with
     * session_id() (no FFI): PHP then sends it back in a Set-Cookie line, which it does not under
     * PHP-FPM, where it finds the id in the request's cookies itself ({@see CliHeaders::lines()}
     * drops it). Null otherwise.
     */
    public function requestCookie(): ?string
    {
        return !$this->idSet || $this->requestId === null ? null : rawurlencode(session_name()) . '=' . rawurlencode($this->requestId);
    }

    /**
     * Writes and closes a session the request opened and forgets it.
     *
     * @param bool $phpHeaders whether to return the headers PHP itself would send (the session
     *                         cookie and the cache limiter); false for frameworks that put the
     *                         session cookie on their response object themselves
     * @return list<array{0: string, 1: string}>
     */
    public function end(bool $phpHeaders): array
    {
        if (!function_exists('session_status') || session_status() === PHP_SESSION_DISABLED) {
            return [];
        }
        $active = session_status() === PHP_SESSION_ACTIVE;
        $id = session_id();
        if ($active) {
            self::close();
        }
        $headers = [];
        // The id is "" at begin() unless the request had a cookie: one set now means a session ran.
        if ($phpHeaders && $id !== '' && $id !== false && ($active || $id !== $this->requestId)) {
            if ($id !== $this->requestId && filter_var(ini_get('session.use_cookies'), FILTER_VALIDATE_BOOLEAN)) {
                $headers[] = ['Set-Cookie', self::cookie(session_name(), $id)];
            }
            array_push($headers, ...self::cacheLimiterHeaders());
        }
        unset($_SESSION);
        if (!headers_sent()) {
            self::forgetId();
        }
        $this->requestId = null;
        $this->idSet = false;
        return $headers;
    }

    /**
     * Writes and closes the open session as PHP-FPM does at a request's end, where what fails
     * (a save handler that cannot write, a full disk, a handler that throws) is logged and the
     * page goes out: raised, a warning would reach the application's error handler, which
     * frameworks make an exception, and fail the request; the session is closed either way, so
     * that the next request does not find it still open.
     */
    private static function close(): void
    {
        set_error_handler(static function (int $type, string $message): bool {
            error_log('PHP Warning:  Unknown: ' . preg_replace('/^session_write_close\(\): /', '', $message) . ' in Unknown on line 0');
            return true;
        });
        try {
            session_write_close();
        } catch (\Throwable $e) {
            error_log(sprintf('PHP Fatal error:  Uncaught %s: %s in %s:%d', get_class($e), $e->getMessage(), $e->getFile(), $e->getLine()));
        } finally {
            restore_error_handler();
        }
        if (session_status() === PHP_SESSION_ACTIVE) {
            session_abort();
        }
    }

    /**
     * Leaves PHP without a session id, as every PHP-FPM request starts: session_id('') releases
     * the previous one but sets an empty one, which session_start() takes as "make a new id"
     * without looking at `$_COOKIE`; the id field is then cleared with FFI (the empty string is
     * interned: nothing to free). False if only the empty id could be had (no usable FFI). Called
     * with no session open and headers not counted as sent (session_id() refuses otherwise).
     */
    private static function forgetId(): bool
    {
        session_id('');
        $ffi = self::globals();
        $id = $ffi?->ps_globals->id;
        if ($ffi === null || ($id !== null && ($id->len !== 0 || ($id->type_info & self::INTERNED) === 0))) {
            return false; // no FFI, or not the empty string PHP interns: leave it to PHP
        }
        $ffi->ps_globals->id = null;
        return true;
    }

    /** The FFI scope whose `ps_globals` is PHP's session globals, checked; null where that cannot be had (decided once). */
    private static function globals(): ?\FFI
    {
        if (self::$globals === null) {
            self::$globals = self::probe() ?? false;
        }
        return self::$globals === false ? null : self::$globals;
    }

    /**
     * The layout is not PHP's API: it is trusted only if the save path, the session name and the
     * cookie lifetime read through it are what PHP reports, and an id set with session_id() reads
     * back (integers and strings PHP owns are compared before any write). Without ext-ffi, with
     * `ffi.enable=0`, in a thread-safe build, on another PHP whose layout differs, or without the
     * session extension's symbols, null.
     */
    private static function probe(): ?\FFI
    {
        if (!FpmSapi::underCli() || PHP_ZTS || PHP_INT_SIZE !== 8 || PHP_OS_FAMILY !== 'Linux' || !extension_loaded('ffi')
            || headers_sent() || session_status() !== PHP_SESSION_NONE) {
            return null;
        }
        try {
            $ffi = \FFI::cdef(self::LAYOUT);
            $ps = $ffi->ps_globals;
            if ($ps->save_path === null || $ps->session_name === null
                || \FFI::string($ps->save_path) !== (string) ini_get('session.save_path')
                || \FFI::string($ps->session_name) !== session_name()
                || $ps->cookie_lifetime !== (int) ini_get('session.cookie_lifetime')) {
                return null;
            }
            $before = session_id();
            $probe = 'folkprobe' . bin2hex(random_bytes(6));
            session_id($probe);
            $id = $ps->id;
            $seen = $id === null ? null : \FFI::string(\FFI::cast('char *', \FFI::addr($id->val)), min($id->len, 64));
            session_id($before === false ? '' : $before);
            return $seen === $probe ? $ffi : null;
        } catch (\Throwable) {
            return null; // FFI refused (ffi.enable), or this PHP does not export ps_globals
        }
    }

    private static function cookie(string $name, string $id): string
    {
        $p = session_get_cookie_params();
        $cookie = rawurlencode($name) . '=' . rawurlencode($id);
        if ($p['lifetime'] > 0) {
            $expires = time() + $p['lifetime'];
            $cookie .= '; expires=' . gmdate('D, d M Y H:i:s', $expires) . ' GMT; Max-Age=' . $p['lifetime'];
        }
        if ($p['path'] !== '') {
            $cookie .= '; path=' . $p['path'];
        }
        if ($p['domain'] !== '') {
            $cookie .= '; domain=' . $p['domain'];
        }
        if ($p['secure']) {
            $cookie .= '; secure';
        }
        if ($p['httponly']) {
            $cookie .= '; HttpOnly';
        }
        if (($p['samesite'] ?? '') !== '') {
            $cookie .= '; SameSite=' . $p['samesite'];
        }
        return $cookie;
    }

    /** @return list<array{0: string, 1: string}> what session.cache_limiter makes PHP send */
    private static function cacheLimiterHeaders(): array
    {
        $expire = (int) session_cache_expire() * 60;
        return match (session_cache_limiter()) {
            'nocache' => [
                ['Expires', 'Thu, 19 Nov 1981 08:52:00 GMT'],
                ['Cache-Control', 'no-store, no-cache, must-revalidate'],
                ['Pragma', 'no-cache'],
            ],
            'private' => [
                ['Expires', 'Thu, 19 Nov 1981 08:52:00 GMT'],
                ['Cache-Control', 'private, max-age=' . $expire],
            ],
            'private_no_expire' => [['Cache-Control', 'private, max-age=' . $expire]],
            'public' => [
                ['Expires', gmdate('D, d M Y H:i:s', time() + $expire) . ' GMT'],
                ['Cache-Control', 'public, max-age=' . $expire],
            ],
            default => [],
        };
    }
}
