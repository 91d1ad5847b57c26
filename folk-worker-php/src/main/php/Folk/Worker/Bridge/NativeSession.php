<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * PHP's native session functions in a long-running CLI worker, made to behave as under PHP-FPM.
 *
 * The pitfalls: in the CLI the session id survives session_write_close() (the next
 * session_start() would reopen the previous client's session), session_start() reads the id
 * from the request's cookie only once per process, `$_SESSION` keeps the last data, and the
 * headers PHP sends itself (the session cookie, the cache limiter's Expires/Cache-Control/
 * Pragma) go nowhere because the CLI has no header list. So, around every request:
 * {@see begin()} closes any open session, removes `$_SESSION` (PHP-FPM has none before
 * session_start()) and sets the id from the request's cookie (or none); {@see end()} writes and closes the session and returns the headers PHP-FPM
 * would have sent.
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
    private ?string $requestId = null;

    /** @param array<array-key, mixed> $cookies the request's parsed cookies */
    public function begin(array $cookies): void
    {
        if (!function_exists('session_status') || session_status() === PHP_SESSION_DISABLED) {
            return;
        }
        if (session_status() === PHP_SESSION_ACTIVE) {
            session_write_close();
        }
        unset($_SESSION); // none until session_start(): legacy code starts one `if (!isset($_SESSION))`
        if (headers_sent()) {
            return; // session ids can no longer be set (and session_start() refuses): see above
        }
        $value = $cookies[session_name()] ?? null;
        // PHP ignores (and replaces) an id made of characters a session id never has.
        $this->requestId = is_string($value) && preg_match('/^[a-zA-Z0-9,-]{1,256}$/', $value) === 1 ? $value : null;
        session_id($this->requestId ?? '');
    }

    /**
     * `name=id` of the session the request's cookie named, or null. PHP, given that id with
     * session_id() as here, sends it back in a Set-Cookie line, which it does not under PHP-FPM,
     * where it finds the id in the request's cookies itself ({@see CliHeaders::lines()} drops it).
     */
    public function requestCookie(): ?string
    {
        return $this->requestId === null ? null : rawurlencode(session_name()) . '=' . rawurlencode($this->requestId);
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
            session_write_close();
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
            session_id('');
        }
        $this->requestId = null;
        return $headers;
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
