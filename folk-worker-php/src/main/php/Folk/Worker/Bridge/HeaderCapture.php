<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * Keeps the headers that library code sends with header()/setcookie() during a request.
 *
 * The CLI SAPI throws such headers away (headers_list() is always empty), while PHP-FPM sends
 * them. Framework adapters take the headers from the framework's response object, but some
 * framework code calls header() directly (Symfony's session handlers send a Cache-Control
 * line when they open a session, SessionUtils pops PHP's session cookie). PHP resolves an
 * unqualified function call inside a namespace to `Namespace\header` when such a function
 * exists, so {@see install()} defines header(), header_remove(), headers_list() and
 * setcookie() in the namespaces an adapter names, recording into this class. It must run
 * before code of those namespaces first calls these functions (PHP caches the resolution).
 * Code that sends a whole response object that way (Symfony's Response::send()) is recorded
 * apart ({@see installForResponses()}).
 */
final class HeaderCapture
{
    /** @var list<array{0: string, 1: string}> */
    private static array $lines = [];
    /** @var list<array{0: string, 1: string}> what a response object's send() sent ({@see installForResponses()}) */
    private static array $responseLines = [];

    /** Defines the recording functions in each namespace (once; a namespace that already has them is left alone). */
    public static function install(string ...$namespaces): void
    {
        $self = '\\' . self::class;
        self::define($namespaces, "
            function header(string \$header, bool \$replace = true, int \$code = 0): void { $self::header(\$header, \$replace, \$code); }
            function header_remove(?string \$name = null): void { $self::remove(\$name); }
            function headers_list(): array { return $self::list(); }
            function setcookie(string \$name, string \$value = '', array|int \$expires_or_options = 0, string \$path = '', string \$domain = '', bool \$secure = false, bool \$httponly = false): bool {
                return $self::cookie(\$name, \$value, \$expires_or_options, \$path, \$domain, \$secure, \$httponly);
            }");
    }

    /**
     * As {@see install()}, for code that sends a whole response object with header() (Symfony's
     * Response::send(), which Laravel's responses inherit): header() only. An adapter answers with
     * the response object's own headers, so these lines count only for a request that ends the
     * process after sending one (legacy `$response->send(); exit;`, a framework's error page for a
     * fatal error): {@see lines()} with $atExit.
     */
    public static function installForResponses(string ...$namespaces): void
    {
        $self = '\\' . self::class;
        self::define($namespaces, "
            function header(string \$header, bool \$replace = true, int \$code = 0): void { $self::responseHeader(\$header, \$replace, \$code); }");
    }

    /** @param list<string> $namespaces each gets $functions, unless it has a header() already */
    private static function define(array $namespaces, string $functions): void
    {
        foreach ($namespaces as $namespace) {
            if (preg_match('/^[A-Za-z_][A-Za-z0-9_]*(\\\\[A-Za-z_][A-Za-z0-9_]*)*$/', $namespace) !== 1) {
                throw new \InvalidArgumentException('not a namespace: ' . $namespace);
            }
            if (!function_exists($namespace . '\\header')) {
                eval("namespace $namespace;" . $functions);
            }
        }
    }

    /** Forgets the headers of the previous request. */
    public static function reset(): void
    {
        self::$lines = [];
        self::$responseLines = [];
    }

    /**
     * @param bool $atExit also the lines a response object's send() sent: for the answer of a
     *                     request that ended the process
     * @return list<array{0: string, 1: string}> the recorded header lines, in order
     */
    public static function lines(bool $atExit = false): array
    {
        return $atExit ? [...self::$lines, ...self::$responseLines] : self::$lines;
    }

    /** header() from a response object's send(): recorded apart, see {@see installForResponses()}. */
    public static function responseHeader(string $header, bool $replace = true, int $code = 0): void
    {
        self::record(self::$responseLines, $header, $replace, $code);
    }

    /** header() as PHP implements it for a "Name: value" line (status lines set the response code). */
    public static function header(string $header, bool $replace = true, int $code = 0): void
    {
        self::record(self::$lines, $header, $replace, $code);
    }

    public static function remove(?string $name): void
    {
        self::$lines = $name === null ? [] : self::without(self::$lines, $name);
    }

    /** @param list<array{0: string, 1: string}> $lines where the line goes */
    private static function record(array &$lines, string $header, bool $replace, int $code): void
    {
        if ($code > 0) {
            http_response_code($code);
        }
        if (preg_match('#^HTTP/\S+\s+(\d{3})#', $header, $m) === 1) {
            http_response_code((int) $m[1]);
            return;
        }
        $colon = strpos($header, ':');
        if ($colon === false) {
            return;
        }
        $name = rtrim(substr($header, 0, $colon));
        if ($replace) {
            $lines = self::without($lines, $name);
        }
        $lines[] = [$name, ltrim(substr($header, $colon + 1))];
    }

    /** @param list<array{0: string, 1: string}> $lines */
    private static function without(array $lines, string $name): array
    {
        return array_values(array_filter($lines, static fn (array $line): bool => strcasecmp($line[0], $name) !== 0));
    }

    /** @return list<string> "Name: value" lines, as headers_list() */
    public static function list(): array
    {
        return array_map(static fn (array $line): string => $line[0] . ': ' . $line[1], self::$lines);
    }

    /** setcookie() with PHP's formatting of the Set-Cookie line. */
    public static function cookie(string $name, string $value, array|int $options, string $path, string $domain, bool $secure, bool $httponly): bool
    {
        $expires = is_array($options) ? (int) ($options['expires'] ?? 0) : $options;
        if (is_array($options)) {
            $path = (string) ($options['path'] ?? '');
            $domain = (string) ($options['domain'] ?? '');
            $secure = (bool) ($options['secure'] ?? false);
            $httponly = (bool) ($options['httponly'] ?? false);
        }
        $sameSite = is_array($options) ? (string) ($options['samesite'] ?? '') : '';
        if ($value === '') {
            $line = $name . '=deleted; expires=' . gmdate('D, d M Y H:i:s', 1) . ' GMT; Max-Age=0';
        } else {
            $line = $name . '=' . rawurlencode($value);
            if ($expires > 0) {
                $line .= '; expires=' . gmdate('D, d M Y H:i:s', $expires) . ' GMT; Max-Age=' . max(0, $expires - time());
            }
        }
        foreach (['path' => $path, 'domain' => $domain] as $key => $part) {
            if ($part !== '') {
                $line .= "; $key=$part";
            }
        }
        $line .= ($secure ? '; secure' : '') . ($httponly ? '; HttpOnly' : '') . ($sameSite !== '' ? '; SameSite=' . $sameSite : '');
        self::$lines[] = ['Set-Cookie', $line];
        return true;
    }
}
