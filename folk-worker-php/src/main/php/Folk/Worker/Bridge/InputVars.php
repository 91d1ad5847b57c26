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
        parse_str($query, $vars);
        return $vars;
    }

    /**
     * $_POST from a urlencoded body: PHP's POST reader counts every `&` piece, empty ones included,
     * and stops after the one that passes max_input_vars, which it has registered already.
     */
    public static function postBody(string $body): array
    {
        $max = (int) ini_get('max_input_vars');
        if ($body === '' || substr_count($body, '&') < $max) {
            parse_str($body, $vars);
            return $vars;
        }
        $pieces = explode('&', $body); // more than $max: every piece counts
        self::exceeded($max);
        parse_str(implode('&', array_slice($pieces, 0, $max)), $vars);
        self::add($vars, $pieces[$max]);
        return $vars;
    }

    /**
     * The fields of a multipart body, `&`-joined and urlencoded, one piece each: PHP's RFC 1867
     * parser registers the first max_input_vars of them.
     *
     * @param list<string> $fields
     */
    public static function multipartFields(array $fields): array
    {
        $max = (int) ini_get('max_input_vars');
        if (count($fields) > $max) {
            self::exceeded($max);
            $fields = array_slice($fields, 0, $max);
        }
        parse_str(implode('&', $fields), $vars);
        return $vars;
    }

    /** Registers one more `name=value` piece into $vars as parse_str() would have, after the others. */
    private static function add(array &$vars, string $piece): void
    {
        parse_str($piece, $one);
        if ($one === []) {
            return;
        }
        $top = array_key_first($one);
        $value = $one[$top];
        $rawName = urldecode(explode('=', $piece, 2)[0]);
        if (!is_array($value)) {
            $vars[$top] = $value;
            return;
        }
        // The bracket segments as written: "[]" appends to what the earlier pieces made.
        $target = &$vars[$top];
        foreach (FormBody::segments($rawName) as $segment) {
            if (!is_array($target)) {
                $target = [];
            }
            if ($segment === '') {
                $target[] = null;
                $target = &$target[array_key_last($target)];
            } else {
                $target = &$target[$segment];
            }
            $value = is_array($value) ? $value[array_key_first($value)] : $value;
        }
        $target = $value;
    }

    /** PHP-FPM's log line; not a warning the application's error handler would see. */
    public static function exceeded(?int $max = null): void
    {
        $max ??= (int) ini_get('max_input_vars');
        error_log(sprintf('PHP Warning:  Unknown: Input variables exceeded %d. To increase the limit change '
            . 'max_input_vars in php.ini. in Unknown on line 0', $max));
    }
}
