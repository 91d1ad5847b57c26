<?php

declare(strict_types=1);

namespace Folk\Worker\Http;

/**
 * An immutable HTTP response: status, headers and a raw (binary-safe) body.
 *
 * Headers map a name to one value, or to a list of values for multi-valued headers such as
 * Set-Cookie. On the wire this becomes `{status: int, headers: map (or empty array), body: str}`.
 */
final class Response
{
    public readonly int $status;
    /** @var array<string, string|list<string>> */
    public readonly array $headers;

    /**
     * @param array<string, string|int|float|\Stringable|list<string|int|float|\Stringable>> $headers
     * @throws \InvalidArgumentException on a status outside 100..599 or a malformed header
     */
    public function __construct(
        public readonly string $body = '',
        int $status = 200,
        array $headers = [],
    ) {
        if ($status < 100 || $status > 599) {
            throw new \InvalidArgumentException('HTTP status must be within 100..599, got ' . $status);
        }
        $this->status = $status;
        $normalized = [];
        foreach ($headers as $name => $value) {
            $name = self::checkName((string) $name);
            $value = self::normalizeValue($name, $value);
            if ($value !== []) {
                $normalized[$name] = $value;
            }
        }
        $this->headers = $normalized;
    }

    /**
     * A JSON response (Content-Type: application/json).
     *
     * @throws \JsonException
     */
    public static function json(mixed $data, int $status = 200, array $headers = []): self
    {
        $json = json_encode($data, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        $response = new self($json, $status, $headers);
        return $response->header('Content-Type') === null
            ? $response->withHeader('Content-Type', 'application/json')
            : $response;
    }

    public function withStatus(int $status): self
    {
        return new self($this->body, $status, $this->headers);
    }

    public function withBody(string $body): self
    {
        return new self($body, $this->status, $this->headers);
    }

    /**
     * Sets a header, replacing any existing one of the same (case-insensitive) name.
     *
     * @param string|list<string> $value
     */
    public function withHeader(string $name, string|array $value): self
    {
        $headers = $this->withoutName($name);
        $headers[$name] = $value;
        return new self($this->body, $this->status, $headers);
    }

    /** Adds a value to a header, turning it into a list if it already has one. */
    public function withAddedHeader(string $name, string $value): self
    {
        $existing = $this->header($name);
        if ($existing === null) {
            return $this->withHeader($name, $value);
        }
        $values = is_array($existing) ? $existing : [$existing];
        $values[] = $value;
        $headers = $this->withoutName($name);
        $headers[$this->headerKey($name) ?? $name] = $values;
        return new self($this->body, $this->status, $headers);
    }

    /** @return string|list<string>|null a header by case-insensitive name */
    public function header(string $name): string|array|null
    {
        $key = $this->headerKey($name);
        return $key === null ? null : $this->headers[$key];
    }

    /**
     * The `http.handle` result shape.
     *
     * @return array{status: int, headers: array<string, string|list<string>>, body: string}
     */
    public function toArray(): array
    {
        return ['status' => $this->status, 'headers' => $this->headers, 'body' => $this->body];
    }

    private function headerKey(string $name): ?string
    {
        foreach ($this->headers as $key => $_) {
            if (strcasecmp((string) $key, $name) === 0) {
                return (string) $key;
            }
        }
        return null;
    }

    /** @return array<string, string|list<string>> */
    private function withoutName(string $name): array
    {
        $headers = $this->headers;
        foreach ($headers as $key => $_) {
            if (strcasecmp((string) $key, $name) === 0) {
                unset($headers[$key]);
            }
        }
        return $headers;
    }

    private static function checkName(string $name): string
    {
        if ($name === '' || strpbrk($name, ":\r\n\0 \t") !== false) {
            throw new \InvalidArgumentException(sprintf('invalid HTTP header name "%s"', addcslashes($name, "\0..\37")));
        }
        return $name;
    }

    /** @return string|list<string> */
    private static function normalizeValue(string $name, mixed $value): string|array
    {
        if (is_array($value)) {
            return array_values(array_map(static fn (mixed $v): string => self::valueString($name, $v), $value));
        }
        return self::valueString($name, $value);
    }

    private static function valueString(string $name, mixed $value): string
    {
        if (is_int($value) || is_float($value) || $value instanceof \Stringable) {
            $value = (string) $value;
        }
        if (!is_string($value)) {
            throw new \InvalidArgumentException(sprintf('header "%s": values must be strings, got %s', $name, get_debug_type($value)));
        }
        if (strpbrk($value, "\r\n\0") !== false) {
            throw new \InvalidArgumentException(sprintf('header "%s": value contains CR, LF or NUL', $name));
        }
        return $value;
    }
}
