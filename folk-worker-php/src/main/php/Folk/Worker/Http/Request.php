<?php

declare(strict_types=1);

namespace Folk\Worker\Http;

/**
 * An HTTP request as carried by `http.handle`: `{method, uri, headers, body}`, and the server facts
 * a FastCGI server gives PHP (`server`: REMOTE_ADDR, SERVER_NAME, HTTPS, SCRIPT_NAME,
 * DOCUMENT_ROOT...; see docs/PROTOCOL.md), which the plain handler does not put in `$_SERVER`.
 *
 * The body is raw bytes (it may arrive as msgpack bin or str; both become a PHP string).
 */
final class Request
{
    /**
     * @param string                $method  e.g. "GET"
     * @param string                $uri     path plus query string, e.g. "/items?page=2"
     * @param array<string, string> $headers header name => value, names as sent by the master
     * @param string                $body    raw body bytes
     * @param array<string, mixed>  $server  the server facts the master sent (`server`), as sent
     */
    public function __construct(
        public readonly string $method,
        public readonly string $uri,
        public readonly array $headers = [],
        public readonly string $body = '',
        public readonly array $server = [],
    ) {
    }

    /**
     * Builds a request from `http.handle` params. Accepts the quirks PHP's msgpack produces:
     * headers as an empty array or an (empty) object, body as nil.
     *
     * @throws \InvalidArgumentException when a field has the wrong type
     */
    public static function fromParams(mixed $params): self
    {
        if (is_object($params)) {
            $params = get_object_vars($params);
        }
        if (!is_array($params)) {
            throw new \InvalidArgumentException('http.handle params must be a map, got ' . get_debug_type($params));
        }
        $method = $params['method'] ?? 'GET';
        $uri = $params['uri'] ?? '/';
        $body = $params['body'] ?? '';
        $rawHeaders = $params['headers'] ?? [];
        if (!is_string($method) || !is_string($uri) || !is_string($body)) {
            throw new \InvalidArgumentException('http.handle params: method, uri and body must be strings');
        }
        if (is_object($rawHeaders)) {
            $rawHeaders = get_object_vars($rawHeaders);
        }
        if (!is_array($rawHeaders)) {
            throw new \InvalidArgumentException('http.handle params: headers must be a map, got ' . get_debug_type($rawHeaders));
        }
        $headers = [];
        foreach ($rawHeaders as $name => $value) {
            if (!is_string($value)) { // nearly every value is one: no call for it
                $value = is_array($value) ? implode(', ', array_map(self::scalarString(...), $value)) : self::scalarString($value);
            }
            $headers[(string) $name] = $value;
        }
        $server = $params['server'] ?? [];
        return new self($method, $uri, $headers, $body, is_array($server) ? $server : []);
    }

    /** A server fact the master sent ({@see $server}), e.g. `server('REMOTE_ADDR')`, or $default. */
    public function server(string $name, ?string $default = null): ?string
    {
        $value = $this->server[$name] ?? null;
        return is_string($value) ? $value : $default;
    }

    /** The path part of the URI (before "?"). */
    public function path(): string
    {
        $end = strcspn($this->uri, '?#');
        return substr($this->uri, 0, $end);
    }

    /** The raw query string (after "?", without any fragment), "" if there is none. */
    public function queryString(): string
    {
        $start = strpos($this->uri, '?');
        if ($start === false) {
            return '';
        }
        $query = substr($this->uri, $start + 1);
        $hash = strpos($query, '#');
        return $hash === false ? $query : substr($query, 0, $hash);
    }

    /** @return array<array-key, mixed> the query string parsed like $_GET */
    public function query(): array
    {
        parse_str($this->queryString(), $result);
        return $result;
    }

    /** A header's value by case-insensitive name, or $default. */
    public function header(string $name, ?string $default = null): ?string
    {
        if (isset($this->headers[$name])) {
            return $this->headers[$name];
        }
        foreach ($this->headers as $key => $value) {
            if (strcasecmp((string) $key, $name) === 0) {
                return $value;
            }
        }
        return $default;
    }

    private static function scalarString(mixed $value): string
    {
        if (is_string($value)) {
            return $value;
        }
        if (is_int($value) || is_float($value) || is_bool($value) || $value === null) {
            return (string) $value;
        }
        throw new \InvalidArgumentException('http.handle params: header values must be strings, got ' . get_debug_type($value));
    }
}
