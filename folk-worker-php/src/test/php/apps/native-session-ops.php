<?php

/*
 * Native session operations for the applications' /session-ops (?ops=start,set:a=1,...): start,
 * write, regenerate, destroy, close, abort, reset, the session's settings (name, cookie path, cache
 * limiter), session_id() and legacy code's start when it is "" (`if (session_id() == '')
 * session_start();`). Returns what the session holds then, and whether its id is the one the
 * request's cookie named (ids are random: they are compared, not shown). Shared so that every
 * application answers alike.
 */

declare(strict_types=1);

return static function (string $ops): array {
    $cookieId = $_COOKIE[session_name()] ?? null;
    $seen = [];
    foreach (array_filter(explode(',', $ops)) as $op) {
        [$verb, $arg] = explode(':', $op, 2) + [1 => ''];
        $ok = match ($verb) {
            'start' => @session_start(),
            'set' => (function () use ($arg): bool { [$k, $v] = explode('=', $arg, 2) + [1 => '']; $_SESSION[$k] = $v; return true; })(),
            'unset' => (function () use ($arg): bool { unset($_SESSION[$arg]); return true; })(),
            'regenerate' => @session_regenerate_id(true),
            'regenerate-keep' => @session_regenerate_id(false),
            'destroy' => @session_destroy(),
            'close' => @session_write_close(),
            'abort' => @session_abort(),
            'reset' => @session_reset(),
            'unset-all' => @session_unset(),
            'name' => @session_name($arg) !== false,
            'path' => @session_set_cookie_params(['path' => $arg]),
            'cache' => @session_cache_limiter($arg) !== false,
            'id' => match (session_id()) { '' => 'none', $_COOKIE[session_name()] ?? $cookieId => 'cookie', default => 'other' },
            'start-if-no-id' => session_id() == '' ? @session_start() : 'skipped',
            default => null,
        };
        $seen[] = [$op, $ok, session_status()];
    }
    return ['ops' => $seen, 'session' => $_SESSION ?? null, 'name' => session_name(),
        'id is the cookie\'s' => session_id() === ($_COOKIE[session_name()] ?? $cookieId), 'no id' => session_id() === '',
        'cookie params' => session_get_cookie_params(), 'cache limiter' => session_cache_limiter()];
};
