<?php

declare(strict_types=1);

namespace Folk\Worker\Http;

/**
 * Adapts `callable(Request): Response|string|null` to the `http.handle` method.
 *
 * Output the handler prints (echo, print, templates) is captured with output buffering, the
 * way PHP-FPM would send it, and becomes the body; when the handler also returns a body
 * (a string or a Response), the printed output is appended to it. Output of a handler that
 * throws is discarded.
 */
final class HttpHandler
{
    private readonly \Closure $handler;

    public function __construct(callable $handler)
    {
        $this->handler = \Closure::fromCallable($handler);
    }

    /** @return array{status: int, headers: array<string, string|list<string>>, body: string} */
    public function __invoke(mixed $params): array
    {
        $request = Request::fromParams($params);
        $level = ob_get_level();
        ob_start();
        try {
            $returned = ($this->handler)($request);
        } finally {
            $output = self::endBuffers($level);
        }
        $response = match (true) {
            $returned instanceof Response => $returned,
            $returned === null => new Response(),
            is_string($returned) => new Response($returned),
            $returned instanceof \Stringable => new Response((string) $returned),
            default => throw new \UnexpectedValueException(
                'an http handler must return a Response, a string or null, got ' . get_debug_type($returned),
            ),
        };
        if ($output !== '') {
            $response = $response->withBody($response->body . $output);
        }
        return $response->toArray();
    }

    /** Closes our buffer and any the handler left open, returning their contents in order. */
    private static function endBuffers(int $level): string
    {
        $output = '';
        while (ob_get_level() > $level) {
            $chunk = ob_get_clean();
            if ($chunk === false) {
                break; // a buffer that refuses removal
            }
            $output = $chunk . $output;
        }
        return $output;
    }
}
