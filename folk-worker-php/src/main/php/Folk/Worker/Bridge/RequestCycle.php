<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

use Folk\Worker\Worker;

/**
 * The part of every framework adapter that is the same: one `http.handle` call as PHP-FPM runs
 * a request, in a process that serves many.
 *
 * For each call: build the {@see PhpRequest}, set the superglobals, reset the native session
 * ({@see NativeSession}), run the adapter's handler with output buffering, build the result,
 * then, after the response has been sent to the master ({@see Worker::defer()}), run the
 * adapter's terminate step, restore the superglobals of the worker and remove the upload
 * temporary files. Nothing of one request is left for the next but what the application
 * keeps itself (its services, its session storage).
 */
final class RequestCycle
{
    private readonly array $baseServer;
    private readonly NativeSession $session;

    /**
     * @param \Closure(PhpRequest): array{0: int, 1: list<array{0: string, 1: string}>, 2: string|\Closure(): void, 3?: \Closure(): void} $handle
     *        returns [status, header lines, body or a closure printing it, optional terminate step]
     * @param bool $phpSessionHeaders whether PHP's own session headers are part of the response
     *        (true for applications that call session_start() themselves)
     * @param bool $appReplaces how the framework's own emitter sends its headers ({@see ResponseResult::build()})
     */
    public function __construct(
        private readonly Worker $worker,
        private readonly \Closure $handle,
        private readonly bool $phpSessionHeaders = true,
        private readonly bool $appReplaces = true,
    ) {
        // The environment as the application saw it when it booted (env vars it set included).
        $this->baseServer = $_SERVER;
        $this->session = new NativeSession();
    }

    /** @return array{status: int, headers: array<string, string|list<string>>, body: string} */
    public function __invoke(mixed $params): array
    {
        $request = PhpRequest::fromParams($params, $this->baseServer);
        $saved = $request->installGlobals();
        $terminate = null;
        try {
            HeaderCapture::reset();
            $this->session->begin($request->cookies);
            $status = 500;
            $headers = [];
            $body = '';
            $printed = ResponseResult::capture(function () use ($request, &$status, &$headers, &$body, &$terminate): void {
                $answer = ($this->handle)($request);
                [$status, $headers, $body] = $answer;
                $terminate = $answer[3] ?? null;
                if ($body instanceof \Closure) {
                    $body = ResponseResult::capture($body);
                }
            });
            $phpHeaders = [...$this->session->end($this->phpSessionHeaders), ...HeaderCapture::lines()];
            return ResponseResult::build($status, $headers, $printed . $body, $phpHeaders, $this->appReplaces);
        } finally {
            $this->worker->defer(function () use ($request, $saved, $terminate): void {
                try {
                    if ($terminate !== null) {
                        ResponseResult::capture($terminate);
                    }
                } finally {
                    HeaderCapture::reset();
                    $this->session->end(false);
                    PhpRequest::restoreGlobals($saved);
                    $request->cleanup();
                }
            });
        }
    }
}
