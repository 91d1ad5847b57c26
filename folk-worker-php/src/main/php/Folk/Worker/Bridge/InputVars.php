<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * `$_GET` and `$_POST` within max_input_vars, as PHP-FPM makes them (`$_COOKIE`:
 * {@see PhpRequest::parseCookies()}).
 *
 * PHP's SAPI parses a request's variables before any application code runs: past max_input_vars
 * (1000 by default) it drops the rest, logs "Input variables exceeded" and runs the request.
 * A worker parses them during the call, where parse_str() would raise that warning into the
 * application's error handler, which frameworks turn into an exception: a form that outgrew the
 * limit (a permission matrix, a product's variations) would fail instead of losing its last fields.
 * So the limit is applied here, with PHP's own counts, and the warning goes only to the log.
 */
final class InputVars
{
    /** What C's isspace() takes for white space (ext-ctype is not always loaded). */
    public const WHITE_SPACE = " \t\n\r\v\f";

    /** $_GET from a query string: PHP registers the first max_input_vars non-empty `&` pieces. */
    public static function query(string $query): array
    {
        $max = (int) ini_get('max_input_vars');
        // Fewer `&` than the limit: fewer pieces, parse_str()'s own limit is not reached either.
        if ($query !== '' && substr_count($query, '&') >= $max) {
            $pieces = array_values(array_filter(explode('&', $query), static fn (string $p): bool => $p !== ''));
            if (count($pieces) > $max) {
                self::exceeded($max);
                $query = implode('&', array_slice($pieces, 0, $max));
            }
        }
        return self::parse($query);
    }

    /**
     * $_POST from a urlencoded body: PHP's POST reader counts every `&` piece, empty ones included,
     * and stops after the one that passes max_input_vars, which it has registered already.
     */
    public static function postBody(string $body): array
    {
        if (str_contains($body, "\0")) {
            // parse_str() stops at a NUL byte, PHP's POST reader does not: a NUL is a NUL either way once decoded.
            $body = str_replace("\0", '%00', $body);
        }
        $max = (int) ini_get('max_input_vars');
        if ($body === '' || substr_count($body, '&') < $max) {
            return self::parse($body);
        }
        $pieces = explode('&', $body); // more than $max: every piece counts
        self::exceeded($max);
        $vars = self::parse(implode('&', array_slice($pieces, 0, $max)));
        $last = explode('=', $pieces[$max], 2);
        if ($last[0] !== '') {
            self::register($vars, urldecode($last[0]), urldecode($last[1] ?? ''));
        }
        return $vars;
    }

    /**
     * Registers one variable into $table as PHP's SAPI registers request variables (what parse_str()
     * does for a whole string into a fresh array): the name is cut at a NUL, its leading spaces
     * dropped, spaces and dots before its first `[` made `_`; `[key]` nests (one white space
     * character before a `]` alone makes `[ ]` an append, as `[]`), text after a `]` that does not
     * open another index is ignored, an unclosed `[` at the first level becomes part of the name
     * (`a[b` is `a_b`); past max_input_nesting_level the whole variable is dropped. A name that
     * mangling made start with `__Host-` or `__Secure-`, or one that does not start so with an
     * index that does, drops the value, as PHP does (the cookie prefixes must not be forged).
     */
    public static function register(array &$table, string $name, mixed $value): void
    {
        $nul = strpos($name, "\0");
        if ($nul !== false) {
            $name = substr($name, 0, $nul);
        }
        $name = ltrim($name, ' ');
        $open = strpos($name, '[');
        $var = strtr($open === false ? $name : substr($name, 0, $open), ' .', '__');
        if ($var === '' || (str_starts_with($var, '__Host-') && !str_starts_with($name, '__Host-'))
                || (str_starts_with($var, '__Secure-') && !str_starts_with($name, '__Secure-'))) {
            return;
        }
        if ($open === false) {
            $table[$var] = $value;
            return;
        }
        $maxNesting = (int) ini_get('max_input_nesting_level');
        $length = strlen($name);
        $node = &$table;
        $index = $var; // null: append
        $at = $open;   // at a '['
        for ($level = 1; ; $level++) {
            if ($level > $maxNesting) {
                unset($table[$var]);
                return;
            }
            $start = $at + 1;
            $look = $start + strspn($name, self::WHITE_SPACE, $start, 1);
            if ($look < $length && $name[$look] === ']') {
                $key = null;
                $close = $look;
            } else {
                $close = strpos($name, ']', $look);
                if ($close === false) {
                    if ($level === 1) {
                        $index = $var . '_' . strtr(substr($name, $start), ' .[', '___');
                    }
                    break; // the index so far takes the value
                }
                $key = substr($name, $start, $close - $start);
            }
            if ($index === null) {
                $node[] = [];
                $node = &$node[array_key_last($node)];
            } else {
                if (!isset($node[$index]) || !is_array($node[$index])) {
                    $node[$index] = [];
                }
                $node = &$node[$index];
            }
            if ($key !== null && ((str_starts_with($key, '__Host-') && !str_starts_with($name, '__Host-'))
                    || (str_starts_with($key, '__Secure-') && !str_starts_with($name, '__Secure-')))) {
                return; // the levels made so far stay
            }
            $index = $key;
            $at = $close + 1;
            if ($at >= $length || $name[$at] !== '[') {
                break;
            }
        }
        if ($index === null) {
            $node[] = $value;
        } else {
            $node[$index] = $value;
        }
    }

    /**
     * parse_str() of $text, its warnings (a variable past max_input_nesting_level, which it drops)
     * logged as PHP-FPM logs them at a request's start: raised, they would reach the application's
     * error handler, which frameworks turn into an exception, and a client's query could fail
     * every page of the application.
     */
    public static function parse(string $text): array
    {
        if ($text === '') {
            return [];
        }
        set_error_handler(static function (int $type, string $message): bool {
            error_log('PHP Warning:  PHP Request Startup: ' . preg_replace('/^parse_str\(\): /', '', $message)
                . ' in Unknown on line 0');
            return true;
        }, E_WARNING);
        try {
            parse_str($text, $vars);
        } finally {
            restore_error_handler();
        }
        return $vars;
    }

    /** PHP-FPM's log line; not a warning the application's error handler would see. */
    public static function exceeded(?int $max = null): void
    {
        $max ??= (int) ini_get('max_input_vars');
        error_log(sprintf('PHP Warning:  PHP Request Startup: Input variables exceeded %d. To increase the limit change '
            . 'max_input_vars in php.ini. in Unknown on line 0', $max));
    }
}
