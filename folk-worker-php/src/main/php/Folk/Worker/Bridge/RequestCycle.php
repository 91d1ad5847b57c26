<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

use Folk\Worker\Worker;

/**
 * The part of every framework adapter that is the same: one `http.handle` call as PHP-FPM runs
 * a request, in a process that serves many.
 *
 * For each call: build the {@see PhpRequest}, set the superglobals, reset the native session
 * ({@see NativeSession}), run the adapter's handler with output buffering (dumps included,
 * {@see PageDumps}), build the result,
 * then, after the response has been sent to the master ({@see Worker::defer()}), run the
 * adapter's terminate step and its reset, restore the superglobals of the worker and remove the
 * upload temporary files. Nothing of one request is left for the next but what the application
 * keeps itself (its services, its session storage).
 *
 * An exception the application does not catch ends the request as PHP ends it
 * ({@see ResponseResult::uncaught()}: the exception handler it set runs, else PHP's fatal error),
 * wherever it comes: from the handler (the answer is what was printed, with the status set), from
 * the response's body printer (a streamed response's callback: the answer keeps the response's
 * status and headers, which PHP-FPM sent before the body, and what was printed, followed by what
 * the exception handler prints; the terminate step does not run, as in public/index.php, where
 * send() throws before terminate()), or from the terminate step (the answer went: what the
 * handler prints goes nowhere). The adapter's reset runs after each of them.
 */
final class RequestCycle
{
    private readonly array $baseServer;
    private readonly NativeSession $session;
    /** Whether PHP keeps header() lines in this process ({@see CliHeaders}); else only {@see HeaderCapture}'s. */
    private readonly bool $keptHeaders;
    /** For the answer given if the application calls exit() ({@see answerOnExit()}): made once. */
    private ?\Closure $exitAnswer = null;
    /** Output buffering level and response code when the current request began. */
    private int $exitLevel = 0;
    private int|false $exitCode = false;
    /** @var array{0: int, 1: list<array{0: string, 1: string}>}|null status and headers, once the body is being printed */
    private ?array $exitHead = null;
    /** Whether the current call's answer may stream ({@see StreamedBody}). */
    private bool $stream = false;

    /**
     * @param \Closure(PhpRequest): array{0: int, 1: list<array{0: string, 1: string}>, 2: string|\Closure(): void, 3?: \Closure(): void, 4?: \Closure(): void} $handle
     *        returns [status, header lines, body or a closure printing it, optional terminate step (the
     *        application's work after the response, skipped after an uncaught exception in the body),
     *        optional reset (the adapter's own, after the terminate step, always)]
     * @param bool $phpSessionHeaders whether PHP's own session headers are part of the response
     *        (true for applications that call session_start() themselves)
     * @param bool $appReplaces how the framework's own emitter sends its headers ({@see ResponseResult::build()})
     * @param bool $shutdownOutput whether the shutdown functions a request registers run at the end
     *        of the handler, what they print after the response's body: what PHP-FPM does for an
     *        application that does not end its request first with fastcgi_finish_request() (as
     *        Symfony's and Laravel's send() do, and Slim's emitter does not)
     */
    public function __construct(
        private readonly Worker $worker,
        private readonly \Closure $handle,
        private readonly bool $phpSessionHeaders = true,
        private readonly bool $appReplaces = true,
        private readonly bool $shutdownOutput = false,
    ) {
        // The environment as the application saw it when it booted (env vars it set included).
        $this->baseServer = $_SERVER;
        $this->session = new NativeSession();
        $this->keptHeaders = CliHeaders::keep();
        UploadedFiles::available();
        SapiGetenv::install();
    }

    /**
     * A cycle for scripts that run at the top level of a process of their own and end it
     * ({@see \Folk\Worker\Scripts}): {@see beginScript()} sets each one's request up, and the
     * answer is made when its process ends.
     */
    public static function forScripts(Worker $worker): self
    {
        return new self($worker, static fn (): never => throw new \LogicException('a script\'s request is answered when its process ends'));
    }

    /**
     * Loads and sets up now what a script's request needs (the bridge's classes, PHP's structures
     * reached with FFI, the output callbacks, php.ini's values of what the CLI forces), which would
     * otherwise be done on first use: a worker that forks a process per request
     * ({@see \Folk\Worker\Scripts}) does it once, before it forks.
     */
    public function warmUp(): void
    {
        // Every class of the library but the framework adapters (their frameworks may be absent): a
        // request's process runs the library's code after the script (its answer, at exit), when the
        // application may have dropped the autoloaders or put first one that refuses what it does not know.
        foreach (['', 'Bridge/', 'Http/', 'MessagePack/'] as $dir) {
            foreach (glob(\dirname(__DIR__) . '/' . $dir . '[A-Z]*.php') ?: [] as $file) {
                class_exists('Folk\\Worker\\' . str_replace('/', '\\', $dir) . basename($file, '.php'));
            }
        }
        SapiGlobals::get();
        FilterInput::available();
        FpmSapi::available();
        UserIni::phpIniOverCli(); // read once: php.ini's files, not in every request's process
        RequestBody::install('');
        UnbufferedOutput::begin();
        UnbufferedOutput::end();
        PageDumps::begin();
        PageDumps::end();
    }

    /**
     * Sets $params' request up for a script that runs next at the top level of this process, which
     * ends with it (a request's own process, {@see \Folk\Worker\Scripts}): the superglobals, the
     * script's directory, php://input and the uploaded files, the native session, PHP's header lines
     * and status, output capture. Its answer is made as PHP-FPM's for a script that ends: what it
     * printed, with the status and headers it set ({@see answerOnExit()}); the caller removes the
     * request's upload temporary files once that answer went out ({@see PhpRequest::cleanup()}).
     */
    public function beginScript(mixed $params): PhpRequest
    {
        $request = PhpRequest::fromParams($params, $this->baseServer);
        $request->installGlobals();
        FilterInput::fill($request, true);
        HeaderCapture::reset();
        CliHeaders::reset();
        SapiGlobals::clearStatusLine();
        $this->session->begin($request->cookies);
        $this->stream = StreamedBody::allowed($params);
        $this->answerOnExit();
        UnbufferedOutput::begin();
        PageDumps::begin();
        // What the script prints, above the level the answer at exit reads from, in a buffer that is
        // PHP-FPM's with the script's output_buffering (its .user.ini's included): where PHP can count
        // headers as sent, it passes output on when PHP-FPM's would send it, and counts them as sent
        // then (StreamedBody::openScript()). Else, where the answer may stream, sent on at each flush()
        // without output_buffering, when that buffer is flushed with it; header() counts until then.
        $buffering = (int) ini_get('output_buffering');
        if ($this->keptHeaders && SapiGlobals::get() !== null) {
            // PHP's own: 0 passes every write on (a chunk of 1 byte here), 1 ("On") only flushes, more its bytes.
            StreamedBody::openScript($this->scriptHead(...), $buffering === 0 ? 1 : ($buffering > 1 ? $buffering : 0), $this->stream);
        } elseif ($this->stream) {
            StreamedBody::open($this->keptHeaders ? $this->scriptHead(...) : $this->printedHead(...), $buffering === 0);
        } else {
            ResponseResult::startBuffer();
        }
        return $request;
    }

    /** @return array{status: int, headers: array<string, string|list<string>>, body: string} */
    public function __invoke(mixed $params): array
    {
        $request = PhpRequest::fromParams($params, $this->baseServer);
        $saved = $request->installGlobals();
        FilterInput::fill($request, false);
        $terminate = null;
        $reset = null;
        $threw = false; // whether an uncaught exception ended the request while its body was printed
        try {
            HeaderCapture::reset();
            CliHeaders::reset();
            SapiGlobals::clearStatusLine();
            $this->session->begin($request->cookies);
            $this->answerOnExit();
            UnbufferedOutput::begin();
            PageDumps::begin();
            $status = 500;
            $headers = [];
            $body = '';
            $stream = $this->stream = StreamedBody::allowed($params);
            $ended = false;
            $run = function () use ($request, $stream, &$status, &$headers, &$body, &$terminate, &$reset, &$threw, &$ended): void {
                try {
                    $answer = ($this->handle)($request);
                } catch (\Throwable $e) {
                    // Ended as PHP ends it; nothing of the application runs after it (no terminate step), as under PHP-FPM.
                    [$status, $headers, $body] = [ResponseResult::uncaught($e, $this->exitCode), [], ''];
                    $ended = true; // as at exit: the headers of a response the handler sent itself count
                    return;
                }
                [$status, $headers, $body] = $answer;
                $terminate = $answer[3] ?? null;
                $reset = $answer[4] ?? null;
                if (!$body instanceof \Closure) {
                    return;
                }
                $this->exitHead = [$status, $headers]; // PHP-FPM would have sent them before the body
                $body = $this->printing($body, $threw);
                if (!$stream) {
                    $body = ResponseResult::capture($body);
                    return;
                }
                // Sent on as it is printed, after what the handler printed before its response.
                $before = ResponseResult::take();
                $print = $body;
                $body = '';
                $rest = StreamedBody::capture(static function () use ($before, $print): void {
                    echo $before;
                    $print();
                }, fn (): array => $this->result($status, $headers, ''));
                echo $rest; // into the buffer around, after what went out
            };
            if (!$stream) {
                $printed = ResponseResult::capture($run);
                $body = $printed . $body;
                return $this->result($status, $headers, $body . $this->shutdownFunctions($body !== ''), $ended);
            }
            // Output flushed before the application's response exists goes out with the head PHP-FPM
            // would send then: the status and headers PHP holds, not the response's (sent too late).
            $printed = StreamedBody::capture($run, $this->printedHead(...));
            $body = $printed . $body;
            $body .= $this->shutdownFunctions($body !== '' || $this->exitHead !== null);
            return StreamedBody::split($this->result($status, $headers, $body, $ended));
        } finally {
            PageDumps::end();
            UnbufferedOutput::end();
            $code = $this->exitCode;
            $after = $threw ? null : $terminate; // public/index.php's send() threw: its terminate() never runs
            $this->worker->defer(function () use ($request, $saved, $after, $reset, $code): void {
                try {
                    if ($after !== null || $reset !== null) {
                        ResponseResult::capture(static function () use ($after, $reset, $code): void {
                            try {
                                $after?->__invoke();
                            } catch (\Throwable $e) {
                                ResponseResult::uncaught($e, $code); // as PHP ends a request that throws there; its output goes nowhere
                            } finally {
                                $reset?->__invoke();
                            }
                        });
                    }
                } finally {
                    HeaderCapture::reset();
                    $this->session->end(false);
                    CliHeaders::reset(); // what terminate() sent goes nowhere, as after fastcgi_finish_request()
                    PhpRequest::restoreGlobals($saved);
                    $request->cleanup();
                }
            });
        }
    }

    /**
     * $print, run as PHP runs a response's body printer: an exception it does not catch ends the
     * request there ({@see ResponseResult::uncaught()}; $threw is set). PHP-FPM sent the
     * response's status and headers with the body's first bytes, so they stay the answer's, and
     * PHP counts headers as sent while the exception handler runs: its error page's header() lines
     * (Response::send()) refuse, as there, and what it prints follows what was printed.
     */
    private function printing(\Closure $print, bool &$threw): \Closure
    {
        return function () use ($print, &$threw): void {
            try {
                $print();
            } catch (\Throwable $e) {
                $threw = true;
                $marked = !headers_sent() && SapiGlobals::markHeadersSent();
                try {
                    ResponseResult::uncaught($e, $this->exitCode);
                } finally {
                    if ($marked) {
                        SapiGlobals::clearHeadersSent();
                    }
                }
            }
        };
    }

    /**
     * The result, with the headers PHP itself sent: the lines PHP kept ({@see CliHeaders}: every
     * header() and setcookie(), a native session's), else the native session's and those captured;
     * at exit also those of a response object the application sent itself.
     */
    private function result(int $status, array $headers, string $body, bool $atExit = false): array
    {
        $requestSession = $this->session->requestCookie();
        $phpHeaders = [...$this->session->end($this->phpSessionHeaders && !$this->keptHeaders),
            ...CliHeaders::lines($requestSession), ...HeaderCapture::lines($atExit)];
        return ResponseResult::build($status, $headers, $body, $phpHeaders, $this->appReplaces, $atExit);
    }

    /**
     * What the request's shutdown functions print, run now if this adapter's application does not
     * end its request before they run (see the constructor). Once the response's body went out
     * under PHP-FPM, so had its headers: header() and session_start() in them then refuse as there.
     */
    private function shutdownFunctions(bool $headersSent): string
    {
        return $this->shutdownOutput ? $this->worker->runShutdownFunctions($headersSent) : '';
    }

    /**
     * An application that calls exit() or die() (after echo, or a header('HTTP/1.1 403') and a
     * message), or ends with a fatal error, answers what PHP-FPM would send
     * ({@see ResponseResult::atExit()}): what it printed, with the status it set with
     * http_response_code() or a status header() line, else 200, or 500 after a fatal error (or,
     * if it ends while a streamed body is printed, the response's status and headers); the worker
     * is then replaced.
     */
    private function answerOnExit(): void
    {
        $this->exitLevel = ob_get_level();
        $this->exitCode = http_response_code(); // a CLI process keeps it from request to request: only a change counts
        $this->exitHead = null;
        Worker::answerOnExit($this->exitAnswer ??= $this->exitResult(...));
    }

    /**
     * The head PHP-FPM sends when output is flushed before the application's response is made:
     * the status set with http_response_code() or a status header() line, else 200, and the
     * headers PHP holds (a response object's own, if the application sent it itself).
     */
    private function printedHead(): array
    {
        return $this->result(ResponseResult::statusAtEnd($this->exitCode, false), [], '', true);
    }

    /**
     * The head PHP-FPM sends with a script's first output that goes out: the status set so far,
     * else 200, and the header lines PHP holds (its session's cookie among them, set by
     * session_start()). Unlike {@see printedHead()} it leaves the session open: the script goes on.
     */
    private function scriptHead(): array
    {
        $lines = [...CliHeaders::lines($this->session->requestCookie()), ...HeaderCapture::lines(true)];
        return ResponseResult::build(ResponseResult::statusAtEnd($this->exitCode, false), [], '', $lines,
            $this->appReplaces, true);
    }

    private function exitResult(): array
    {
        if (UnbufferedOutput::active()) { // while output past every buffer is the answer's
            ResponseResult::endFilterInPlaceOfCapture($this->exitLevel);
        }
        UnbufferedOutput::end(); // the process is ending: stdout is the CLI's again before FFI's callbacks go
        [$status, $output] = ResponseResult::atExit($this->exitLevel, $this->exitCode);
        $result = $this->exitHead !== null // exit() while a streamed body was printed: its status and headers are out
            ? $this->result($this->exitHead[0], $this->exitHead[1], $output, true)
            : $this->result($status, [], $output, true);
        if (($head = StreamedBody::scriptHead()) !== null) { // a script's, gone out with its first output
            [$result['status'], $result['headers']] = [$head['status'], $head['headers']];
        }
        return $this->stream ? StreamedBody::split($result) : $result;
    }
}
