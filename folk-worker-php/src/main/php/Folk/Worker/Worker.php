<?php

declare(strict_types=1);

namespace Folk\Worker;

use Folk\Worker\Bridge\SapiGlobals;
use Folk\Worker\Http\HttpHandler;
use Folk\Worker\MessagePack\Codec;
use Folk\Worker\MessagePack\DecodeException;
use Folk\Worker\MessagePack\MessagePack;
use Folk\Worker\MessagePack\UnsupportedExtException;

/**
 * A Folk pipe-protocol worker: a method registry plus the serve loop.
 *
 *     $worker = new Worker();
 *     $worker->register('sum', fn (array $numbers): int => array_sum($numbers));
 *     $worker->run();
 *
 * The loop (see {@see serve()}): check that fds 3 (tasks) and 4 (control) are sockets, send
 * `[2, "control.ready", {"pid": <pid>, "features": [...]}]` on fd 4, then answer one Request at
 * a time from fd 3 with `[1, msgid, error, result]` until fd 3 reaches end of stream.
 */
final class Worker
{
    /** Error code: no handler registered for the method. */
    public const METHOD_NOT_FOUND = -32601;
    /** Error code: the params hold a value the codec cannot decode (an ext type, without ext-msgpack). */
    public const INVALID_PARAMS = -32602;
    /** Error code: the handler threw. */
    public const HANDLER_ERROR = -32603;

    /** The Notify a master sends during a call whose answer goes nowhere (docs/PROTOCOL.md, "Streamed answers"). */
    private const ABORT = 'call.abort';

    /** Exit code: the master closed the task channel. */
    public const EXIT_OK = 0;
    /** Exit code: started without the channels (or the handshake could not be sent). */
    public const EXIT_SETUP = 1;
    /** Exit code: the master broke the wire contract. */
    public const EXIT_PROTOCOL = 2;

    /** The error types PHP cannot continue after: the process ends (exit code 255). */
    private const FATAL_ERRORS = E_ERROR | E_PARSE | E_CORE_ERROR | E_COMPILE_ERROR | E_USER_ERROR | E_RECOVERABLE_ERROR;

    /** `dispatch` is an alias of the first registered of these. */
    private const DISPATCH_TARGETS = ['http.handle' => true, 'jobs.process' => true, 'grpc.call' => true];

    /** @var array<string, \Closure(mixed): mixed> */
    private array $handlers = [];
    /** @var list<\Closure(): mixed> */
    private array $resetters = [];
    /** @var list<\Closure(): mixed> work deferred until the current response is sent */
    private array $deferred = [];
    private bool $serving = false;
    /** Whether the master said the current call's answer goes nowhere (`call.abort`: its client went away). */
    private bool $aborted = false;
    /** A frame read while looking for `call.abort` that was something else: read next by the serve loop. */
    private ?string $early = null;
    /** What reading that frame threw: thrown next by the serve loop. */
    private ?ProtocolException $earlyFailure = null;
    /** What is set back after each call, as PHP-FPM sets it back after a request ({@see captureRequestState()}). */
    private ?RequestState $requestState = null;
    /** Unseeds mt_rand() before each call, as PHP starts each request; null where it cannot. */
    private ?RandomSeed $randomSeed = null;
    /** Takes away the default stream context a call made, as PHP starts each request without one; null where it cannot. */
    private ?DefaultStreamContext $streamContext = null;
    /** Runs each call's shutdown functions after it, as PHP-FPM runs a request's at its end (null: they wait for the exit). */
    private ?ShutdownFunctions $shutdownFunctions = null;
    /** Sets back the environment a call changed with putenv(), as PHP-FPM does at a request's end (null: it stays). */
    private ?Environment $environment = null;
    /** The largest frame the master reads or sends: an answer over it fails its call, not the worker. */
    private int $maxPayload = FrameChannel::MAX_PAYLOAD;
    /** The msgid of the request being served, for the backtrace a master may ask for. */
    private ?int $msgid = null;
    /** @var array<string, string> the context of the call being served */
    private static array $context = [];
    /** The method of the call being served, for the answer given if its handler ends the process. */
    private ?string $method = null;
    /** The msgid of the call whose deferred work ({@see defer()}) runs now, for the log if it exits. */
    private ?int $deferredAfter = null;
    /** The output buffering level when the current call began. */
    private int $callLevel = 0;
    /** Whether this is the process a handler forked for its call ({@see leaveForRequestProcess()}). */
    private bool $requestProcess = false;
    /** In that process: what runs at its end before the call is answered. */
    private ?\Closure $beforeAnswer = null;
    /** In that process: what runs at its end once the call is answered. */
    private ?\Closure $afterAnswer = null;
    /**
     * While the process ends during a call, until its answer is made: what answers from a destructor
     * if exit() in a shutdown function skipped the rest of them, the answer's among them (PHP still
     * runs the destructors; PHP-FPM sends what was printed).
     */
    private static ?ExitInShutdown $exitInShutdown = null;
    /** Whether the process the current call's handler forked answered it ({@see answeredByRequestProcess()}). */
    private bool $answeredByProcess = false;
    /** The worker in its serve loop, for {@see reopenOutputAtExit()} and {@see sendPart()}. */
    private static ?self $inLoop = null;
    /** The task channel while the worker serves, for {@see sendPart()}. */
    private ?FrameChannel $task = null;
    /** @var (\Closure(): mixed)|null the current call's result should its handler call exit() ({@see answerOnExit()}) */
    private static ?\Closure $exitAnswer = null;
    /** @var array{type: int, message: string, file: string, line: int}|null {@see fatalError()} */
    private static ?array $fatal = null;
    /** @var resource|null {@see stderr()} */
    private static mixed $stderr = null;
    private readonly Codec $codec;
    /** @var \Closure(string): void */
    private readonly \Closure $log;

    /**
     * The process's stderr, for the worker's log and backtraces: the CLI's STDERR, kept here (a
     * request's process under Scripts has no such constant, as under PHP-FPM), else php://stderr.
     *
     * @return resource
     */
    public static function stderr(): mixed
    {
        return self::$stderr ??= defined('STDERR') ? STDERR : fopen('php://stderr', 'wb');
    }

    /**
     * @param Codec|null                  $codec defaults to ext-msgpack when loaded, else pure PHP
     * @param \Closure(string): void|null $log   receives diagnostic lines; defaults to stderr
     */
    public function __construct(?Codec $codec = null, ?\Closure $log = null)
    {
        $this->codec = $codec ?? MessagePack::codec();
        $this->log = $log ?? static function (string $line): void {
            fwrite(self::stderr(), 'folk-worker[' . getmypid() . ']: ' . $line . PHP_EOL);
        };
        $this->register('echo', static fn (mixed $params): mixed => $params);
    }

    /**
     * Registers (or replaces) the handler of a method. The handler receives the request params
     * and returns the result; whatever it throws becomes a -32603 error.
     *
     * @param callable(mixed): mixed $handler
     */
    public function register(string $method, callable $handler): self
    {
        $this->handlers[$method] = \Closure::fromCallable($handler);
        return $this;
    }

    /**
     * Registers `http.handle` with a handler that takes an {@see Http\Request} and returns an
     * {@see Http\Response}, a body string or null; printed output is captured into the body.
     *
     * @param callable(Http\Request): (Http\Response|string|null) $handler
     */
    public function http(callable $handler): self
    {
        return $this->register('http.handle', new HttpHandler($handler, $this));
    }

    /**
     * Adds a callable run after every call, whether it succeeded or failed (clear globals,
     * caches, static state...). A resetter that throws is reported on stderr and ignored.
     */
    public function addResetter(callable $resetter): self
    {
        $this->resetters[] = \Closure::fromCallable($resetter);
        return $this;
    }

    /**
     * Runs a callable once the response of the current call has been written to the master
     * (like PHP-FPM's fastcgi_finish_request(): a framework's terminate() work does not delay
     * the client). Outside the serve loop it runs at the end of {@see call()}. A deferred
     * callable that throws is reported on stderr and ignored.
     */
    public function defer(callable $task): self
    {
        $this->deferred[] = \Closure::fromCallable($task);
        return $this;
    }

    /**
     * Runs the shutdown functions the current call registered so far, now rather than after its
     * answer, and returns what they printed: PHP-FPM runs them when the script ends, and sends
     * what they print when the script did not end the request before (fastcgi_finish_request()).
     * With $afterOutput (the answer has a body already), PHP takes its headers as sent while they
     * run: under PHP-FPM they went out with the first byte, and header() or session_start() in a
     * shutdown function refuses. Returns "" where the worker cannot run a call's shutdown
     * functions apart (no ext-ffi: they wait for its exit).
     */
    public function runShutdownFunctions(bool $afterOutput = false): string
    {
        if ($this->shutdownFunctions === null || !$this->shutdownFunctions->added()) {
            return ''; // most calls: PHP's header state is left alone
        }
        $marked = $afterOutput && !headers_sent() && SapiGlobals::markHeadersSent();
        try {
            return $this->shutdownFunctions->runNow();
        } finally {
            if ($marked) {
                SapiGlobals::clearHeadersSent();
            }
        }
    }

    /** Writes a diagnostic line where this worker writes its own (stderr unless another log was given). */
    public function log(string $line): void
    {
        ($this->log)($line);
    }

    /**
     * Takes the settings set back after each call ({@see RequestState}: the time zone, the
     * error_reporting() level, the ini settings requests change, the locale, the error and
     * exception handlers) as they are now, the environment ({@see Environment}: putenv()), and the
     * shutdown functions registered so far as the worker's own ({@see ShutdownFunctions}: they
     * wait for its exit). The worker does it when it begins serving, after the application's
     * bootstrap. An adapter whose framework completes its bootstrap during its first request
     * (Laravel) calls it again then, so that the framework's own settings (its time zone,
     * display_errors), environment, handlers and shutdown function stay for the calls after.
     */
    public function captureRequestState(): void
    {
        $this->requestState = RequestState::capture();
        $this->environment?->capture();
        $this->shutdownFunctions?->begin();
    }

    /** @return list<string> the methods this worker answers, `dispatch` included when it resolves */
    public function methods(): array
    {
        $methods = array_keys($this->handlers);
        if (!isset($this->handlers['dispatch']) && $this->resolve('dispatch') !== null) {
            $methods[] = 'dispatch';
        }
        return array_map('strval', $methods);
    }

    /**
     * The context of the call being served: what the master sent with the request, by name, e.g.
     * `['traceparent' => '00-<trace id>-<span id>-01']` (W3C Trace Context) when the application
     * traces its calls. Empty outside a call and when the master sent none. A handler that makes
     * calls of its own (HTTP, queues) passes `traceparent` (and `tracestate` when present) on, so
     * its spans join the caller's trace.
     *
     * @return array<string, string>
     */
    public static function context(): array
    {
        return self::$context;
    }

    /**
     * Sets the answer of the current call should its handler end the process with `exit()` or
     * `die()`, or with a fatal error ({@see fatalError()} says which): in the serve loop,
     * `$answer()` then runs in a shutdown function, with the handler's output buffers still open,
     * and its return value goes to the master as the call's result, marked as the worker's last
     * (the master replaces the worker, as PHP-FPM would end the request). The HTTP adapters set
     * one that answers with the output printed so far, as PHP-FPM does. Without one, such a call
     * fails with a -32603 error that says how it ended. Cleared after every call.
     *
     * @param callable(): mixed $answer
     */
    public static function answerOnExit(callable $answer): void
    {
        self::$exitAnswer = $answer instanceof \Closure ? $answer : \Closure::fromCallable($answer);
    }

    /**
     * @internal For a handler that runs its call in a process of its own ({@see Scripts}), in that
     * process, right after fork(): leaves the serve loop, whose {@see serve()} then returns in this
     * process with the call still open. The call is answered when this process ends, as a handler's
     * call that exits is ({@see answerOnExit()}), but not as the worker's last: the worker that forked
     * it serves on. $beforeAnswer runs at the process's end just before that answer is made, after the
     * shutdown functions; $afterAnswer right after it, whenever it is made.
     */
    public function leaveForRequestProcess(?\Closure $beforeAnswer = null, ?\Closure $afterAnswer = null): never
    {
        $this->requestProcess = true;
        $this->beforeAnswer = $beforeAnswer;
        $this->afterAnswer = $afterAnswer;
        throw new RequestProcess();
    }

    /**
     * @internal For a handler that runs its call in a process of its own ({@see Scripts}), in the
     * worker, once that process ended having answered the call: the serve loop sends nothing for it.
     */
    public function answeredByRequestProcess(): void
    {
        $this->answeredByProcess = true;
    }

    /**
     * The fatal error that is ending the process during the current call, as PHP's
     * `error_get_last()` gives it (type, message, file, line), while the call's answer at exit
     * ({@see answerOnExit()}) is made; null otherwise, and after exit() or die().
     *
     * @return array{type: int, message: string, file: string, line: int}|null
     */
    public static function fatalError(): ?array
    {
        return self::$fatal;
    }

    /**
     * Runs one call the way the serve loop does: resolve, invoke, run the resetters.
     *
     * @param array<string, string> $context the call's context, {@see context()} while it runs
     * @return array{0: array{code: int, message: string}|null, 1: mixed} [error, result]
     */
    public function call(string $method, mixed $params = null, array $context = []): array
    {
        self::$context = $context;
        try {
            $handler = $this->resolve($method);
            if ($handler === null) {
                return [self::error(self::METHOD_NOT_FOUND, 'method not found: ' . $method), null];
            }
            try {
                return [null, $handler($params)];
            } catch (RequestProcess $leaving) {
                throw $leaving; // the forked process leaves the serve loop, its call still open
            } catch (\Throwable $e) {
                ($this->log)(sprintf('method "%s" threw %s: %s (%s:%d)', $method, get_class($e), $e->getMessage(), $e->getFile(), $e->getLine()));
                $message = $e->getMessage() !== '' ? $e->getMessage() : get_class($e);
                // What was thrown and where, so that the caller can tell errors apart without the log.
                return [self::error(self::HANDLER_ERROR, $message,
                    ['class' => get_class($e), 'file' => $e->getFile(), 'line' => $e->getLine()]), null];
            }
        } finally {
            self::$context = [];
            self::$exitAnswer = null;
            $this->runResetters();
            if (!$this->serving) {
                $this->runDeferred();
            }
        }
    }

    /**
     * Whether the master said that the current call's answer goes nowhere (`call.abort`: the HTTP
     * client went away, or the answer was cut), as PHP-FPM learns it when a write to its web server
     * fails: looked for each time a part is sent. {@see sendPart()} then sends nothing.
     */
    public static function callAborted(): bool
    {
        $worker = self::$inLoop;
        return $worker !== null && $worker->msgid !== null && $worker->aborted;
    }

    /** The next frame of the serve loop: one {@see abortArrived()} read ahead, else the channel's next. */
    private function nextFrame(FrameChannel $task): ?string
    {
        if ($this->earlyFailure !== null) {
            throw $this->earlyFailure;
        }
        if ($this->early !== null) {
            $frame = $this->early;
            $this->early = null;
            return $frame;
        }
        return $task->readFrame();
    }

    /** Reads a `call.abort` waiting on the task channel, without blocking; whether the call is aborted. */
    private function abortArrived(): bool
    {
        if ($this->aborted || $this->early !== null || $this->earlyFailure !== null || !$this->task->readable()) {
            return $this->aborted;
        }
        try {
            $frame = $this->task->readFrame();
            if ($frame !== null && $this->decodeRequest($frame) === null) {
                $this->aborted = true;
            } else {
                $this->early = $frame; // not ours to read now: the serve loop reads it (end of stream included)
            }
        } catch (ProtocolException $e) {
            $this->earlyFailure = $e; // not thrown into the application's output: the serve loop throws it
        }
        return $this->aborted;
    }

    /**
     * Whether {@see sendPart()} can send now: in the serve loop, during a call (not in work
     * deferred after its answer, nor in a {@see call()} made outside the loop).
     */
    public static function canSendParts(): bool
    {
        $worker = self::$inLoop;
        return $worker !== null && $worker->msgid !== null && $worker->task !== null;
    }

    /** `[2, "http.body", <bin 32 of length ...>` as MessagePack, up to the length: a large body part's head. */
    private const BODY_PART_HEAD = "\x93\x02\xa9http.body\xc6";

    /**
     * Sends `[2, $method, $params]` on the task channel during the current call, ahead of its
     * answer: a part of a streamed answer (docs/PROTOCOL.md, "Streamed answers"). Only a master
     * that asked for parts in the call's params reads them (the HTTP bridges check the
     * `stream` param); any other takes a part for a protocol error. False, sending nothing, when
     * {@see canSendParts()} is false or the master is gone (then the answer cannot be sent either,
     * and the worker exits as it does whenever the master goes).
     */
    public static function sendPart(string $method, mixed $params): bool
    {
        $worker = self::$inLoop;
        if ($worker === null || $worker->msgid === null || $worker->task === null || $worker->abortArrived()) {
            return false;
        }
        try {
            if ($method === 'http.body' && is_string($params) && strlen($params) > 0xffff) {
                // A large body part: sent from $params itself, not from two copies of it (pack() and the
                // frame's length), and as a bin 32, which PROTOCOL.md allows for the body's bytes: the
                // master takes a bin's bytes as they are, with no check of a str's UTF-8 and no String.
                $worker->task->writeFrameOf(self::BODY_PART_HEAD . pack('N', strlen($params)), $params);
            } else {
                $worker->task->writeFrame($worker->codec->pack([2, $method, $params]));
            }
            return true;
        } catch (ChannelClosedException $e) {
            ($worker->log)(sprintf('request %d: a part of the answer could not be sent: %s', $worker->msgid, $e->getMessage()));
            return false;
        }
    }

    /** The most bytes of a string a part may carry in its params, given the master's frame limit. */
    public static function partLimit(): int
    {
        return (self::$inLoop->maxPayload ?? FrameChannel::MAX_PAYLOAD) - 64;
    }

    /** Serves until the master closes the task channel, then exits with {@see serve()}'s code. */
    public function run(): never
    {
        exit($this->serve());
    }

    /**
     * The worker loop. Returns the exit code: {@see EXIT_OK} on end of stream on the task
     * channel, {@see EXIT_SETUP} if the channels are missing, {@see EXIT_PROTOCOL} on a bad frame
     * or request. Before returning after the handshake, a worker that leads its own process
     * group ends the other members of that group ({@see ProcessGroup}). In a process a handler
     * forked for its call ({@see leaveForRequestProcess()}) it returns {@see EXIT_OK} at once, that
     * call still open.
     */
    public function serve(): int
    {
        // Before anything else: make sure fds 3 and 4 are our sockets, not a file PHP opened there.
        try {
            [$task, $control] = FrameChannel::openInherited(
                self::fdFromEnv('FOLK_TASK_FD', 3),
                self::fdFromEnv('FOLK_CONTROL_FD', 4),
                FrameChannel::limitFromEnvironment(),
            );
            $this->maxPayload = $task->maxPayload();
        } catch (\RuntimeException $e) {
            ($this->log)($e->getMessage());
            return self::EXIT_SETUP;
        }

        try {
            $ready = ['pid' => getmypid(), 'features' => $this->features()];
            $control->writeFrame($this->codec->pack([2, 'control.ready', $ready]));
        } catch (ChannelClosedException $e) {
            ($this->log)('handshake failed: ' . $e->getMessage());
            return self::EXIT_SETUP;
        }

        $this->serving = true;
        self::$inLoop = $this;
        $this->task = $task;
        register_shutdown_function(fn () => $this->beforeAnswerAtExit($task));
        class_exists(ExitInShutdown::class); // loaded now: at exit the application may have dropped the autoloaders
        $this->shutdownFunctions = ShutdownFunctions::create($this->log);
        $this->environment = Environment::create();
        $this->randomSeed = RandomSeed::create();
        $this->streamContext = DefaultStreamContext::create();
        $this->captureRequestState();
        try {
            while (($frame = $this->nextFrame($task)) !== null) {
                $request = $this->decodeRequest($frame);
                if ($request === null) {
                    continue; // a call.abort that came after its call was answered
                }
                [$msgid, $method, $params, $context, $refused] = $request;
                if ($refused !== null) {
                    $task->writeFrame($this->encodeResponse($msgid, $refused, null));
                    continue;
                }
                $this->aborted = false;
                $this->msgid = $msgid;
                $this->method = $method;
                $this->requestState?->begin(); // as PHP-FPM starts a request
                $this->randomSeed?->reset();
                $this->shutdownFunctions?->begin();
                error_clear_last(); // as PHP-FPM starts each request: a fatal error at exit is this call's
                $this->callLevel = ob_get_level();
                try {
                    [$error, $result] = $this->call($method, $params, $context);
                } catch (RequestProcess) {
                    return self::EXIT_OK; // the process forked for this call, which it answers when it ends
                }
                $this->msgid = null; // answered: an exit from here on (a master gone mid-write) has no call to answer
                // PHP keeps connection_aborted() for the process once a call's client went away
                // (ignore_user_abort() on): no later call may see it, so this worker ends after its answer.
                $lastCall = $this->aborted && connection_status() !== CONNECTION_NORMAL;
                if ($this->answeredByProcess) {
                    $this->answeredByProcess = false; // the forked process sent the answer before it ended
                } else {
                    $task->writeFrame($this->encodeResponse($msgid, $error, $result, $lastCall));
                }
                $this->deferredAfter = $msgid;
                $this->runDeferred();
                $this->deferredAfter = null;
                $this->shutdownFunctions?->end(); // as PHP-FPM ends a request: its shutdown functions,
                $this->requestState?->restore(); // then its settings
                $this->environment?->restore();
                $this->streamContext?->reset();
                if ($lastCall) {
                    break; // the master said the client went away: it logs why the worker ends
                }
            }
            $code = self::EXIT_OK;
        } catch (ProtocolException $e) {
            ($this->log)('protocol error, exiting: ' . $e->getMessage());
            $code = self::EXIT_PROTOCOL;
        } catch (ChannelClosedException $e) {
            ($this->log)('master gone, exiting: ' . $e->getMessage());
            $code = self::EXIT_OK;
        }

        (new ProcessGroup($this->log))->terminateMembers();
        // $control stays open until exit: the master may watch it for end of stream.
        $task->close();
        return $code;
    }

    /**
     * What this worker supports beyond the base protocol, declared in its handshake (the master
     * sends nothing else to a worker that declares nothing). One entry per feature:
     * - `context`: requests may carry the call's context (the trace context) as a 5th element,
     *   see {@see context()};
     * - `backtrace`: on SIGUSR2 it writes its PHP stack to stderr ({@see Backtrace}); needs ext-pcntl.
     *
     * @return list<string>
     */
    private function features(): array
    {
        $features = ['context', 'abort'];
        if (Backtrace::install(fn (): ?int => $this->msgid)) {
            $features[] = 'backtrace';
        }
        return $features;
    }

    /**
     * @return array{0: int, 1: string, 2: mixed, 3: array<string, string>, 4: array{code: int, message: string}|null}|null
     *         [msgid, method, params, context, the error to answer instead of calling the handler],
     *         or null for the Notify `call.abort` (we declared the `abort` feature)
     */
    private function decodeRequest(string $frame): ?array
    {
        $refused = null;
        try {
            $message = $this->codec->unpack($frame);
        } catch (UnsupportedExtException $e) {
            // A well-formed request the codec cannot read all of: the call fails, the worker serves on.
            $message = $e->decoded;
            $refused = self::error(self::INVALID_PARAMS, sprintf('invalid params: they hold a MessagePack ext value '
                . '(type %d%s), which this worker\'s MessagePack codec (%s) cannot decode', $e->extType, $e->extType === -1 ? ', a timestamp' : '',
                $this->codec->name()));
        } catch (DecodeException $e) {
            throw new ProtocolException('undecodable request payload: ' . $e->getMessage(), 0, $e);
        }
        if (is_array($message) && ($message[0] ?? null) === 2 && ($message[1] ?? null) === self::ABORT) {
            return null;
        }
        // A 5th element (the call's context) comes only because we declared the `context` feature.
        if (!is_array($message) || !array_is_list($message) || (count($message) !== 4 && count($message) !== 5)
            || $message[0] !== 0) {
            throw new ProtocolException('expected a Request [0, msgid, method, params(, context)], got ' . self::describe($message));
        }
        [, $msgid, $method, $params] = $message;
        $context = $message[4] ?? [];
        if ($context instanceof \stdClass) {
            $context = (array) $context; // an empty map
        }
        if (!is_array($context)) {
            throw new ProtocolException('request context is not a map: ' . self::describe($context));
        }
        if (!is_int($msgid) || $msgid < 0 || $msgid > 0xffffffff) {
            throw new ProtocolException('request msgid is not an unsigned 32-bit int: ' . self::describe($msgid));
        }
        if (!is_string($method)) {
            throw new ProtocolException('request method is not a string: ' . self::describe($method));
        }
        return [$msgid, $method, $params, $context === [] ? [] // most calls: no closure to make
            : array_filter($context, static fn (mixed $v, int|string $k): bool => is_string($k) && is_string($v), ARRAY_FILTER_USE_BOTH), $refused];
    }

    /** `[1, msgid, error, result]`, with `{"exiting": true}` as a 5th element if this is the worker's last. */
    private function encodeResponse(int $msgid, ?array $error, mixed $result, bool $exiting = false): string
    {
        $notes = $exiting ? [['exiting' => true]] : [];
        try {
            $payload = $this->codec->pack([1, $msgid, $error, $result, ...$notes]);
        } catch (\Throwable $e) {
            ($this->log)(sprintf('cannot encode the result of request %d: %s', $msgid, $e->getMessage()));
            return $this->codec->pack([1, $msgid, self::error(self::HANDLER_ERROR, 'cannot encode the result: ' . $e->getMessage()), null, ...$notes]);
        }
        if (strlen($payload) > $this->maxPayload) {
            $message = sprintf('response of %d bytes exceeds the %d byte frame limit (a Folk pool\'s max-frame-length sets it)', strlen($payload), $this->maxPayload);
            ($this->log)(sprintf('request %d: %s', $msgid, $message));
            return $this->codec->pack([1, $msgid, self::error(self::HANDLER_ERROR, $message), null, ...$notes]);
        }
        return $payload;
    }

    /**
     * The first shutdown function of a worker that ends during a call: lets the others run first,
     * because a framework renders its error page for a fatal error in one of its own (Symfony's
     * ErrorHandler, Laravel's HandleExceptions), and under PHP-FPM that page is the answer. Their
     * output goes into a buffer: PHP has dropped the call's own buffers if it ran out of memory.
     */
    private function beforeAnswerAtExit(FrameChannel $task): void
    {
        if ($this->msgid === null) {
            if ($this->deferredAfter !== null) {
                // No call to answer, but the master will see a worker exit it did not ask for: say why.
                $fatal = self::lastFatalError();
                ($this->log)(sprintf('work deferred after request %d (a framework\'s terminate()) ended the PHP process with %s; the worker exits',
                    $this->deferredAfter, $fatal === null ? 'exit() or die()' : sprintf('a fatal error: %s in %s on line %d', $fatal['message'], $fatal['file'], $fatal['line'])));
            }
            return;
        }
        self::reopenOutputAtExit();
        // Made now, after the call's objects: destructed after them, should exit() skip what follows.
        $guard = self::$exitInShutdown = new ExitInShutdown(fn () => $this->answerAtExit($task));
        if ($this->beforeAnswer !== null) {
            $before = $this->beforeAnswer;
            register_shutdown_function(static function () use ($guard, $before): void {
                $guard->disarm(); // the shutdown functions ran to here: the answer follows ($before may run destructors)
                $before();
            });
        }
        register_shutdown_function(fn () => $this->answerAtExit($task)); // runs after those registered so far
    }

    /**
     * @internal a shutdown function of autoload.php, registered before the application's own: if
     * the process is ending during a call and PHP dropped that call's output buffers (it does when
     * memory runs out), opens one, so that what the application's shutdown functions print (a
     * framework's error page) becomes the call's answer, as PHP-FPM would send it.
     */
    public static function reopenOutputAtExit(): void
    {
        $worker = self::$inLoop;
        if ($worker === null || $worker->msgid === null) {
            return;
        }
        self::$fatal ??= self::lastFatalError(); // before other shutdown functions raise errors of their own
        while (ob_get_level() <= $worker->callLevel) {
            if (!ob_start()) {
                break;
            }
        }
    }

    /**
     * Runs at the end of the process: if a handler called exit() or die(), or ended with a fatal
     * error, during a call, answers that call ({@see answerOnExit()}) and tells the master it is
     * the worker's last answer. A fatal error is also logged here, whatever display_errors and
     * log_errors say, so that the master's log has it even when PHP printed it into the answer.
     */
    private function answerAtExit(FrameChannel $task): void
    {
        self::$exitInShutdown?->disarm();
        $msgid = $this->msgid;
        if ($msgid === null) {
            return;
        }
        $method = (string) $this->method;
        self::$fatal ??= self::lastFatalError();
        if (self::$fatal !== null) {
            // PHP set memory_limit back when the error struck; a process that held nearly that much
            // still needs room for the answer, and it ends right after.
            ini_set('memory_limit', '-1');
        }
        $fatal = self::$fatal === null ? null : sprintf('%s in %s on line %d', self::$fatal['message'], self::$fatal['file'], self::$fatal['line']);
        $answer = self::$exitAnswer;
        $error = null;
        $result = null;
        try {
            if ($answer !== null) {
                $result = $answer();
            } elseif ($fatal !== null) {
                $error = self::error(self::HANDLER_ERROR, sprintf('the handler of "%s" ended the PHP process with a fatal error: %s', $method, $fatal));
            } else {
                $error = self::error(self::HANDLER_ERROR, sprintf('the handler of "%s" ended the PHP process with exit() or die(); return from it instead', $method));
            }
        } catch (\Throwable $e) {
            // A script's own process (Scripts) always answers at its end, exit() or not: the script is named instead.
            $error = self::error(self::HANDLER_ERROR, $this->requestProcess
                ? sprintf('%s %s, and its answer failed: %s', $_SERVER['SCRIPT_NAME'] ?? 'the script',
                    $fatal === null ? 'ended' : 'ended with a fatal error', $e->getMessage())
                : sprintf('the handler of "%s" %s, and its answer failed: %s', $method,
                    $fatal === null ? 'called exit()' : 'ended with a fatal error', $e->getMessage()));
        }
        $this->msgid = null; // only now: the answer may have sent parts ahead of itself (sendPart())
        $outcome = $error === null ? 'answered' : 'answered with an error';
        if ($this->requestProcess) {
            // A script's own process (Scripts): its end is the request's, and the worker serves on.
            if ($fatal !== null) {
                // PHP logged the error itself (log_errors, as PHP-FPM has it): its first line names it here, not its
                // stack trace a second time.
                $named = $fatal;
                if (self::$fatal !== null && (bool) ini_get('log_errors')) {
                    $first = strtok(self::$fatal['message'], "\n"); // an uncaught exception's, with its file and line
                    $named = (str_contains($first, self::$fatal['file']) ? $first
                        : sprintf('%s in %s on line %d', $first, self::$fatal['file'], self::$fatal['line'])) . ' (logged above)';
                }
                ($this->log)(sprintf('%s ended with a PHP fatal error (request %d): %s; %s', $_SERVER['SCRIPT_NAME'] ?? 'the script',
                    $msgid, $named, $outcome));
            }
        } elseif ($fatal !== null || !$this->aborted || (connection_status() & CONNECTION_ABORTED) === 0) {
            // A request PHP ended because its client went away is no fault: the master, which said so, logs
            // the worker's exit (at INFO), and this process's stderr reaches its log as warnings.
            ($this->log)($fatal !== null
                ? sprintf('the handler of "%s" ended with a PHP fatal error (request %d): %s; %s; the worker exits', $method, $msgid, $fatal, $outcome)
                : sprintf('the handler of "%s" called exit() or die() (request %d): %s; the worker exits', $method, $msgid, $outcome));
        }
        try {
            $task->writeFrame($this->encodeResponse($msgid, $error, $result, !$this->requestProcess));
        } catch (\Throwable $e) {
            ($this->log)('could not send the answer: ' . $e->getMessage());
        }
        if ($this->afterAnswer !== null) {
            ($this->afterAnswer)();
        }
    }

    /** @return array{type: int, message: string, file: string, line: int}|null error_get_last() if it is fatal */
    private static function lastFatalError(): ?array
    {
        $last = error_get_last();
        return $last !== null && ($last['type'] & self::FATAL_ERRORS) !== 0 ? $last : null;
    }

    private function resolve(string $method): ?\Closure
    {
        if (isset($this->handlers[$method])) {
            return $this->handlers[$method];
        }
        if ($method === 'dispatch') {
            foreach ($this->handlers as $name => $handler) {
                if (isset(self::DISPATCH_TARGETS[$name])) {
                    return $handler;
                }
            }
        }
        return null;
    }

    private function runResetters(): void
    {
        foreach ($this->resetters as $resetter) {
            try {
                $resetter();
            } catch (\Throwable $e) {
                ($this->log)(sprintf('resetter threw %s: %s (%s:%d)', get_class($e), $e->getMessage(), $e->getFile(), $e->getLine()));
            }
        }
    }

    private function runDeferred(): void
    {
        while (($task = array_shift($this->deferred)) !== null) {
            try {
                $task();
            } catch (\Throwable $e) {
                ($this->log)(sprintf('deferred task threw %s: %s (%s:%d)', get_class($e), $e->getMessage(), $e->getFile(), $e->getLine()));
            }
        }
    }

    /** @return array{code: int, message: string} */
    /** @param array{class: string, file: string, line: int}|null $data what the handler threw */
    private static function error(int $code, string $message, ?array $data = null): array
    {
        return $data === null ? ['code' => $code, 'message' => $message]
            : ['code' => $code, 'message' => $message, 'data' => $data];
    }

    private static function fdFromEnv(string $name, int $default): int
    {
        $value = getenv($name);
        return is_string($value) && preg_match('/^[0-9]{1,4}$/', $value) === 1 ? (int) $value : $default;
    }

    private static function describe(mixed $value): string
    {
        $text = is_scalar($value) || $value === null ? var_export($value, true) : get_debug_type($value);
        return strlen($text) > 80 ? substr($text, 0, 77) . '...' : $text;
    }
}
