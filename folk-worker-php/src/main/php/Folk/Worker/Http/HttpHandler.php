<?php

declare(strict_types=1);

namespace Folk\Worker\Http;

use Folk\Worker\Bridge\CliHeaders;
use Folk\Worker\Bridge\FormBody;
use Folk\Worker\Bridge\NativeSession;
use Folk\Worker\Bridge\PageDumps;
use Folk\Worker\Bridge\RequestBody;
use Folk\Worker\Bridge\ResponseResult;
use Folk\Worker\Bridge\SapiGlobals;
use Folk\Worker\Bridge\SpooledOutput;
use Folk\Worker\Bridge\StreamedBody;
use Folk\Worker\Bridge\UnbufferedOutput;
use Folk\Worker\Worker;

/**
 * Adapts `callable(Request): Response|string|null` to the `http.handle` method.
 *
 * Output the handler prints (echo, print, templates, dump(): {@see PageDumps}) is captured with
 * output buffering, the way PHP-FPM would send it, and becomes the body; when the handler also
 * returns a body (a string or a Response), the printed output is appended to it. A handler that
 * throws an exception it does not catch answers what PHP-FPM sends for a script that does
 * ({@see ResponseResult::uncaught()}): the exception handler the application set runs, else PHP's
 * fatal error "Uncaught ..." is logged (and printed where display_errors is on), and the answer is
 * what was printed, with the status set, else 500 (200 where display_errors is on); the worker
 * serves on. A handler that returns something else than a Response, a string or null fails the
 * call (`-32603`: the gateway's 502), as a malformed answer. Where PHP keeps header lines ({@see CliHeaders}, with ext-ffi), what the
 * handler sends through PHP itself counts too: header() and setcookie() lines, and the status
 * set with http_response_code() or a status, CGI `Status:` or Location header() unless it returns a Response.
 * A handler that calls exit() or die(), or ends with a fatal error, answers what PHP-FPM would
 * send ({@see ResponseResult::atExit()}), and the worker is replaced. A body over
 * {@see StreamedBody::THRESHOLD} goes to a master that asked for parts (the Spring gateway) in
 * parts, so that it is not bound by the frame limit; it is not sent while the handler prints it
 * (its status and headers come when it returns), and printed output past
 * {@see SpooledOutput::MEMORY} waits in a temporary file meanwhile, so that it need not fit in
 * PHP's memory. To a master that did not ask for parts, a body must fit in one frame.
 * Shutdown functions the handler registers run when it returns (with ext-ffi; {@see
 * Worker::runShutdownFunctions()}), and what they print follows the body, as PHP-FPM sends it.
 */
final class HttpHandler
{
    private readonly \Closure $handler;
    /** The answer if the handler calls exit(), made once; the buffering level and response code at the call's start. */
    private ?\Closure $exitAnswer = null;
    private int $level = 0;
    private int|false $code = false;
    /** The current call's printed output. */
    private ?SpooledOutput $output = null;
    /** Whether PHP keeps the handler's header() lines ({@see CliHeaders}). */
    private readonly bool $phpHeaders;
    /** Whether the current call's answer may stream ({@see StreamedBody::split()}). */
    private bool $stream = false;
    /** Closes a native session a call left behind ({@see closeSession()}). */
    private ?NativeSession $session = null;

    /** @param ?Worker $worker the worker serving it, whose call's shutdown functions run at the handler's end */
    public function __construct(callable $handler, private readonly ?Worker $worker = null)
    {
        $this->handler = \Closure::fromCallable($handler);
        $this->phpHeaders = CliHeaders::keep();
    }

    /** @return array{status: int, headers: array<string, string|list<string>>, body: string} */
    public function __invoke(mixed $params): array
    {
        $request = Request::fromParams($params);
        $this->stream = StreamedBody::allowed($params);
        CliHeaders::reset(); // header() lines another part of the worker kept are not this request's
        // php://input, as under PHP-FPM (empty for a multipart body PHP would have parsed). An empty
        // body is empty either way: most requests skip the Content-Type lookup.
        $body = $request->body;
        RequestBody::install($body === '' || FormBody::consumes($request->method, $request->header('content-type'), strlen($body))
            ? '' : $body);
        $level = ob_get_level();
        $this->output = SpooledOutput::start();
        $this->level = $level;
        $this->code = http_response_code(); // 200 where PHP keeps header lines (CliHeaders::reset())
        Worker::answerOnExit($this->exitAnswer ??= $this->exitResult(...));
        UnbufferedOutput::begin();
        PageDumps::begin();
        $returned = null;
        $uncaught = null; // the status PHP answers for an exception the handler did not catch
        $threw = true;
        try {
            try {
                $returned = ($this->handler)($request);
            } catch (\Throwable $e) {
                // As PHP ends a script with an uncaught exception: the application's exception
                // handler, else PHP's fatal error "Uncaught ...", printed into the output still captured.
                $uncaught = ResponseResult::uncaught($e, $this->code);
            }
            $threw = false;
        } finally {
            PageDumps::end();
            UnbufferedOutput::end();
            RequestBody::clear();
            $this->closeSession();
            $printed = $this->output->end($level); // ours and any the handler left open
            if ($threw) {
                $printed->release(); // no answer: the call fails
            }
        }
        try {
            return $uncaught !== null
                ? $this->answerWith(new Response('', $uncaught), true, $printed) // the status PHP decided
                : $this->respond($returned, $printed);
        } finally {
            $printed->release();
        }
    }

    /**
     * A native session the handler opened (session_start()) is written, closed and forgotten, as at
     * the end of a PHP-FPM request: left open, the next call's session_start() would be ignored and
     * its `$_SESSION` would be this call's client's. This handler gives PHP no `$_COOKIE`, so a
     * session is never resumed here (the framework adapters and `Scripts` resume it).
     */
    private function closeSession(): void
    {
        if (isset($_SESSION) || (function_exists('session_status') && session_status() === PHP_SESSION_ACTIVE)) {
            ($this->session ??= new NativeSession())->end(false);
        }
    }

    /**
     * The answer to a handler that returned $returned and printed $printed: the returned body, then
     * the printed output, then what the call's shutdown functions print.
     */
    private function respond(mixed $returned, SpooledOutput $printed): array
    {
        $response = match (true) {
            $returned instanceof Response => $returned,
            $returned === null => new Response(),
            is_string($returned) => new Response($returned),
            $returned instanceof \Stringable => new Response((string) $returned),
            default => throw new \UnexpectedValueException(
                'an http handler must return a Response, a string or null, got ' . get_debug_type($returned),
            ),
        };
        return $this->answerWith($response, $returned instanceof Response, $printed);
    }

    /**
     * The answer of $response's body, then the printed output, then what the call's shutdown
     * functions print, with the header lines PHP kept and, unless $statusSet, the status the
     * handler set through PHP.
     */
    private function answerWith(Response $response, bool $statusSet, SpooledOutput $printed): array
    {
        $late = $this->worker?->runShutdownFunctions($response->body !== '' || $printed->length() > 0) ?? '';
        if ($this->phpHeaders) {
            $response = $this->withPhpHeaders($response, $statusSet);
        }
        return $this->withOutput($response, $printed, $late);
    }

    /**
     * The answer of $response with the printed output, then $late, after its body: read back from
     * the temporary file ({@see answerSpilled()}) if the output went there.
     */
    private function withOutput(Response $response, SpooledOutput $printed, string $late): array
    {
        if ($printed->spilled()) {
            return $this->answerSpilled($response->toArray(), $printed, $late);
        }
        $result = $response->toArray();
        $result['body'] .= $printed->contents() . $late; // not withBody(): its headers need no second check
        return $this->answer($result);
    }

    /** The answer, its body sent ahead in parts if it is too large for one frame and the master asked for parts. */
    private function answer(array $result): array
    {
        return $this->stream ? StreamedBody::split($result) : $result;
    }

    /**
     * The answer whose body is $result's, then the output in $printed's temporary file, then $late:
     * in parts read from the file, to a master that asked for parts; else whole, in the answer,
     * if it fits in a frame (as any answer must for such a master).
     *
     * @throws \LengthException if it does not fit and the master did not ask for parts
     */
    private function answerSpilled(array $result, SpooledOutput $printed, string $late): array
    {
        if ($this->stream) {
            return StreamedBody::splitSpooled($result, $printed, $late);
        }
        $length = strlen($result['body']) + $printed->length() + strlen($late);
        if ($length > Worker::partLimit()) { // the frame's room for a body; read back, it would fail the call anyway
            throw new \LengthException(sprintf('the answer\'s body of %d bytes is over what one frame can carry (%d bytes), '
                . 'and the master did not ask for a streamed answer (the "stream" param); serve it through a master that '
                . 'takes streamed answers (the Spring gateway does), or raise the pool\'s max-frame-length', $length, Worker::partLimit()));
        }
        $result['body'] .= $printed->contents() . $late;
        return $result;
    }

    /**
     * The response with what the handler sent through PHP itself: its header() and setcookie()
     * lines (a returned Response's headers replace those of the same name, Set-Cookie lines add
     * up) and, unless it returned a Response, the status it set.
     */
    private function withPhpHeaders(Response $response, bool $returnedResponse, bool $phpStatus = false): Response
    {
        $now = http_response_code();
        if (!$returnedResponse && is_int($now) && $now !== $this->code) {
            $response = $response->withStatus($now);
        }
        $lines = CliHeaders::lines();
        if ($lines === []) {
            return $response;
        }
        // CGI's "Status:" line (`header('Status: 404 Not Found')`, `Status: 301` beside a Location in
        // legacy scripts): PHP-FPM passes it on and nginx takes it as the status, never as a header.
        // It decides PHP's own status unless a header('HTTP/1.1 ...') line set one, as
        // ResponseResult::build() decides it; a returned Response keeps its status unless that is 200.
        $cgiStatus = null;
        foreach ($lines as $i => [$name, $value]) {
            if (strcasecmp($name, 'Status') === 0) {
                if ($cgiStatus === null && preg_match('/^\s*([2-5][0-9][0-9])(?![0-9])/', $value, $code) === 1) {
                    $cgiStatus = (int) $code[1];
                }
                unset($lines[$i]);
            }
        }
        if ($cgiStatus !== null && ($response->status === 200
                || (($phpStatus || !$returnedResponse) && SapiGlobals::statusLineCode() === null))) {
            $response = $response->withStatus($cgiStatus);
        }
        $merged = new Response($response->body, $response->status);
        foreach ($lines as [$name, $value]) {
            $merged = $merged->withAddedHeader($name, $value);
        }
        foreach ($response->headers as $name => $value) {
            if (strcasecmp($name, 'Set-Cookie') !== 0) {
                $merged = $merged->withHeader($name, $value);
                continue;
            }
            foreach ((array) $value as $cookie) {
                $merged = $merged->withAddedHeader($name, $cookie);
            }
        }
        return $merged;
    }

    /** What PHP-FPM sends for a script that exits or ends with a fatal error ({@see ResponseResult::atExit()}). */
    private function exitResult(): array
    {
        UnbufferedOutput::end(); // the process is ending: stdout is the CLI's again before FFI's callbacks go
        $printed = $this->output->end($this->level);
        $status = ResponseResult::statusAtEnd($this->code, Worker::fatalError() !== null);
        try {
            return $this->withOutput($this->withPhpHeaders(new Response('', $status), true, true), $printed, '');
        } finally {
            $printed->release();
        }
    }
}
