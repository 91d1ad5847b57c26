<?php

declare(strict_types=1);

namespace Folk\Worker\Http;

use Folk\Worker\Bridge\CliHeaders;
use Folk\Worker\Bridge\PageDumps;
use Folk\Worker\Bridge\ResponseResult;
use Folk\Worker\Worker;

/**
 * Adapts `callable(Request): Response|string|null` to the `http.handle` method.
 *
 * Output the handler prints (echo, print, templates, dump(): {@see PageDumps}) is captured with
 * output buffering, the way PHP-FPM would send it, and becomes the body; when the handler also
 * returns a body (a string or a Response), the printed output is appended to it. Output of a handler that
 * throws is discarded. A handler that calls exit() or die(), or ends with a fatal error, answers
 * what PHP-FPM would send ({@see ResponseResult::atExit()}), and the worker is replaced.
 */
final class HttpHandler
{
    private readonly \Closure $handler;
    /** The answer if the handler calls exit(), made once; the buffering level and response code at the call's start. */
    private ?\Closure $exitAnswer = null;
    private int $level = 0;
    private int|false $code = false;

    public function __construct(callable $handler)
    {
        $this->handler = \Closure::fromCallable($handler);
    }

    /** @return array{status: int, headers: array<string, string|list<string>>, body: string} */
    public function __invoke(mixed $params): array
    {
        $request = Request::fromParams($params);
        CliHeaders::reset(); // header() lines another part of the worker kept are not this request's
        $level = ob_get_level();
        ob_start();
        $this->level = $level;
        $this->code = http_response_code();
        Worker::answerOnExit($this->exitAnswer ??= $this->exitResult(...));
        PageDumps::begin();
        try {
            $returned = ($this->handler)($request);
        } finally {
            PageDumps::end();
            $output = ResponseResult::endBuffers($level); // ours and any the handler left open
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

    /** What PHP-FPM sends for a script that exits or ends with a fatal error ({@see ResponseResult::atExit()}). */
    private function exitResult(): array
    {
        [$status, $body] = ResponseResult::atExit($this->level, $this->code);
        return (new Response($body, $status))->toArray();
    }
}
