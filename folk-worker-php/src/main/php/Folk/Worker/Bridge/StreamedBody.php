<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

use Folk\Worker\Worker;

/**
 * A streamed `http.handle` answer (docs/PROTOCOL.md, "Streamed answers"): a body the master
 * could not take in one frame, or one the application flushes as it prints it (a download, a
 * report written row by row, server-sent events), goes to the master in parts, as PHP-FPM sends
 * a response to its web server while the script still runs: first `http.head` with the status
 * and headers, then `http.body` parts, then the answer with what is left.
 *
 * Only when the master asks for it: the request's params carry `stream: true` (the Spring
 * gateway's do). A body up to {@see THRESHOLD} that is not flushed goes in the answer, as before.
 */
final class StreamedBody
{
    /**
     * Output past this many bytes is sent on, as PHP-FPM sends on each output_buffering's worth
     * (4 KiB in Debian's php.ini); here larger, so that pages of usual size go in one frame.
     */
    public const THRESHOLD = 1 << 20;

    /**
     * The output buffer's chunk size: its handler takes output out every this many bytes and keeps
     * it until {@see THRESHOLD}. A chunk size of THRESHOLD itself would make PHP allocate a buffer
     * that large for every request: measured, a third of a FrameworkBundle page's rate.
     */
    private const CHUNK = 64 * 1024;

    /**
     * How long output a script's capture passed on ({@see openScript()}) may wait for more to join it
     * in one part: when its buffer passes output on again and the last part went (or the script began)
     * this many seconds ago, what it holds goes. PHP-FPM writes each output on to its web server (in
     * 8 KiB FastCGI records); a part per write would cost the gateway a frame each (a page printed with
     * output_buffering off passes every echo on). A page printed within this time goes in one frame, as
     * before; a script that prints for longer sends at most one part per this time, the first at once,
     * so that its client sees it print (a progress page, a report written row by row). Short, so that
     * the client hardly sees a delay; long against the time PHP takes to print a page.
     */
    public const LATENCY = 0.05;

    /** Whether the current call's head went out as a part. */
    private static bool $headSent = false;
    /** Whether the current call's answer was ended early ({@see finish()}): what follows goes nowhere. */
    private static bool $finished = false;
    /** @var list<array{0: int, 1: \Closure}> the captures running now, outermost first: [level below, head] */
    private static array $captures = [];
    /** Whether a script's capture is open ({@see open()}): its first part makes PHP count headers as sent. */
    private static bool $script = false;
    /** The level of a script's eager capture ({@see open()}), whose output flush() sends on; null without one. */
    private static ?int $eager = null;
    /** The status and headers that went out, from PHP's view, with a script's first output ({@see openScript()}). */
    private static ?array $scriptHead = null;
    /** When the last part of a script's capture went, or it opened ({@see LATENCY}). */
    private static float $lastPart = 0.0;
    /** Whether sending a part of a script's capture failed: the master is gone, and nothing more can go. */
    private static bool $scriptFailed = false;

    /**
     * Whether the answer to a call with these params may stream: the master asked, the worker
     * can. Called at each call's start.
     */
    public static function allowed(mixed $params): bool
    {
        self::$headSent = false;
        self::$finished = false;
        self::$captures = [];
        self::$script = false;
        self::$eager = null;
        self::$scriptHead = null;
        self::$scriptFailed = false;
        return is_array($params) && ($params['stream'] ?? false) === true && Worker::canSendParts();
    }

    /**
     * PHP-FPM's fastcgi_finish_request() for a streamed answer: everything printed so far goes
     * out, with the head if it had not, and the answer ends (`http.end`); the client has it
     * while the script goes on. As under PHP-FPM, the output buffers are closed, and what is
     * printed afterwards, headers included, goes nowhere. False, doing nothing, where the call
     * cannot stream (a master that did not ask, no capture running, the plain http() handler).
     */
    public static function finish(): bool
    {
        if (self::$finished) {
            return true;
        }
        if (self::$captures === [] || !Worker::canSendParts()) {
            return false;
        }
        $head = self::innermostHead();
        $output = ResponseResult::endBuffers(self::$captures[0][0]);
        if (!self::$headSent) {
            self::head($head());
        }
        self::body($output);
        Worker::sendPart('http.end', null);
        self::$finished = true;
        // Output from here on is dropped, as PHP-FPM drops it: a buffer for the captures to close.
        ob_start(static fn (): string => '');
        return true;
    }

    /**
     * Runs $print with output buffering, as {@see ResponseResult::capture()} does, and sends what
     * it prints on as parts once past {@see THRESHOLD} bytes or when it flushes the buffer
     * (ob_flush(), or its own buffer's end with ob_end_flush()): $head() first, as `http.head`.
     * Output the application discards (ob_clean()) is never sent.
     *
     * @param \Closure(): array{status: int, headers: array<string, string|list<string>>} $head
     *        the status and headers, asked for once, when the first part goes
     * @return string the output not yet sent
     */
    public static function capture(\Closure $print, \Closure $head): string
    {
        $level = ob_get_level();
        $failure = null;
        self::$captures[] = [$level, $head];
        ResponseResult::kept($level + 1); // nothing of an earlier buffer at that level
        ob_start(self::handler($head, $level + 1, $failure), self::CHUNK);
        try {
            $print();
        } finally {
            $output = ResponseResult::endBuffers($level);
            array_pop(self::$captures);
        }
        if ($failure !== null) {
            throw $failure;
        }
        return self::$finished ? '' : $output;
    }

    /**
     * Opens the capture of a script's output for the rest of its process ({@see RequestCycle::beginScript()}):
     * what it prints goes out past {@see THRESHOLD} bytes or when the script flushes the buffer itself
     * (ob_flush(), ob_end_flush(): PHP-FPM's `output_buffering` buffer), $head() first; what is held
     * when the process ends goes with its answer. $eager for PHP-FPM without `output_buffering`, which
     * sends each write: every write is then taken out of the buffer at once and held, and goes out
     * at the script's next flush() too ({@see flushed()}).
     */
    public static function open(\Closure $head, bool $eager): void
    {
        $level = ob_get_level();
        $failure = null; // the master is gone: the answer cannot go either, and the worker exits
        self::$captures[] = [$level, $head];
        self::$script = true;
        self::$eager = $eager ? $level + 1 : null;
        ResponseResult::kept($level + 1);
        ob_start(self::handler($head, $level + 1, $failure), $eager ? 1 : self::CHUNK);
    }

    /**
     * Opens the capture of a script's output for the rest of its process ({@see RequestCycle::beginScript()})
     * as PHP-FPM's `output_buffering` buffer, where PHP can count headers as sent ({@see SapiGlobals}):
     * its chunk size is $chunk (1 for a script without output_buffering, whose every write PHP-FPM
     * passes on; 0 for `On`, only flushes and the end; else the setting's bytes), so that its handler
     * runs when PHP-FPM's buffer would pass output on to the web server. What reaches it so has gone
     * out from the script's point of view: with the first of it PHP counts headers as sent, and the
     * status and headers as $head() gives them then are the answer's, whenever they go; ob_clean(),
     * ob_end_clean() and ob_get_clean() discard only what the buffer still holds. Where the answer may
     * stream ($stream), what it passed on goes to the master past {@see THRESHOLD} bytes, when the
     * buffer passes on more {@see LATENCY} after the last part, at flush() ({@see flushed()}), at a
     * flush of the buffer (ob_flush(), ob_end_flush()) and at the end; else all of it with the answer.
     *
     * @param \Closure(): array{status: int, headers: array<string, string|list<string>>} $head
     */
    public static function openScript(\Closure $head, int $chunk, bool $stream): void
    {
        $level = ob_get_level();
        $frozen = static fn (): array => self::$scriptHead ??= $head();
        self::$script = true;
        self::$lastPart = microtime(true);
        if ($stream) {
            self::$captures[] = [$level, $frozen];
            self::$eager = $level + 1; // flush() sends what it passed on, as PHP-FPM's flush()
        }
        ResponseResult::kept($level + 1);
        ob_start(self::scriptHandler($frozen, $level + 1, $stream), $chunk);
    }

    /**
     * The status and headers that went out with a script's first output ({@see openScript()}), which
     * its answer keeps whatever it sets later; null while none went.
     *
     * @return array{status: int, headers: array<string, string|list<string>>}|null
     */
    public static function scriptHead(): ?array
    {
        return self::$scriptHead;
    }

    /** The handler of a script's capture at $bufferLevel ({@see openScript()}). It never throws. */
    private static function scriptHandler(\Closure $head, int $bufferLevel, bool $stream): \Closure
    {
        return static function (string $buffer, int $phase) use ($head, $bufferLevel, $stream): string {
            $cleaned = ($phase & PHP_OUTPUT_HANDLER_CLEAN) !== 0; // $buffer discarded: never passed on
            if (!$cleaned && $buffer !== '' && !self::$finished) {
                if (self::$scriptHead === null) {
                    try {
                        $head(); // what PHP-FPM sends with the first output its buffer passes on
                    } catch (\Throwable) {
                        // a status outside 200..599: the answer at exit says so
                    }
                    SapiGlobals::markHeadersSent(); // header() after it refuses, with PHP's warning, as under PHP-FPM
                }
                ResponseResult::keep($bufferLevel, $buffer);
            }
            if (self::$finished || self::$scriptFailed) {
                ResponseResult::kept($bufferLevel); // nothing can go
                return self::clientGoneWrite();
            }
            $final = ($phase & PHP_OUTPUT_HANDLER_FINAL) !== 0;
            if (!$stream) {
                if ($final) { // the buffer is gone: what it passed on comes before what is printed past every buffer now
                    UnbufferedOutput::hold(ResponseResult::kept($bufferLevel));
                }
                return '';
            }
            if ($final || (!$cleaned && (($phase & PHP_OUTPUT_HANDLER_FLUSH) !== 0
                    || ResponseResult::keptLength($bufferLevel) >= self::THRESHOLD
                    || microtime(true) - self::$lastPart >= self::LATENCY))) {
                self::sendKept($bufferLevel);
            }
            return self::clientGoneWrite();
        };
    }

    /**
     * What a script's capture hands PHP's SAPI once a part found the client gone (`call.abort`): a
     * byte, so that PHP writes it there ({@see UnbufferedOutput}), whose write then does what a web
     * SAPI does when its write fails, as PHP-FPM's fails once the client left: connection_aborted()
     * 1, and unless ignore_user_abort() the script ends. Done by the write, after the handler has
     * returned: ending the request inside an output handler would leave PHP's output layer running
     * it. Nothing otherwise, and once the connection counts as aborted.
     */
    private static function clientGoneWrite(): string
    {
        return self::$scriptFailed && Worker::callAborted() && UnbufferedOutput::active()
            && (connection_status() & CONNECTION_ABORTED) === 0 ? "\n" : '';
    }

    /**
     * Sends what a script's capture at $bufferLevel ({@see open()}, {@see openScript()}) holds, with
     * the head the first time. It never throws: called from an output handler and PHP's SAPI flush.
     */
    private static function sendKept(int $bufferLevel): void
    {
        if (self::$scriptFailed || self::$finished || ResponseResult::keptLength($bufferLevel) === 0) {
            return;
        }
        try {
            if (!self::$headSent) {
                self::head((self::$captures[0][1])());
            }
            if (!self::body(ResponseResult::kept($bufferLevel))) {
                self::$scriptFailed = true;
            }
        } catch (\Throwable) {
            self::$scriptFailed = true; // the master is gone: the answer cannot go either, and the worker exits
        }
        self::$lastPart = microtime(true);
    }

    /**
     * flush() during a script's eager capture ({@see open()}): what the script printed so far,
     * outside buffers of its own, goes out, as PHP-FPM's flush() sends it without `output_buffering`
     * (with the head the first time); during a capture of {@see openScript()}, with any
     * `output_buffering`, what its buffer passed on, as PHP-FPM's flush() sends what its buffer
     * passed on to the SAPI. Called from PHP's SAPI flush ({@see UnbufferedOutput}): it never throws.
     */
    public static function flushed(): void
    {
        if (self::$eager === null || self::$finished || ResponseResult::keptLength(self::$eager) === 0
            || !Worker::canSendParts()) {
            return;
        }
        self::sendKept(self::$eager);
    }

    /**
     * The handler of a capture's buffer at $bufferLevel: keeps what is printed until
     * {@see THRESHOLD} bytes or a flush of the buffer, then sends it on ($head() first). A failure
     * to send goes to $failure: an output handler must not throw.
     */
    private static function handler(\Closure $head, int $bufferLevel, ?\Throwable &$failure): \Closure
    {
        return static function (string $buffer, int $phase) use ($head, $bufferLevel, &$failure): string {
            if (($phase & PHP_OUTPUT_HANDLER_CLEAN) !== 0) {
                ResponseResult::kept($bufferLevel); // discarded (ob_clean()), with what was held of it
                return '';
            }
            if ($failure !== null || self::$finished) {
                return ''; // nothing can go
            }
            $flushed = ($phase & (PHP_OUTPUT_HANDLER_FLUSH | PHP_OUTPUT_HANDLER_FINAL)) !== 0;
            if (!$flushed && ResponseResult::keptLength($bufferLevel) + strlen($buffer) < self::THRESHOLD) {
                ResponseResult::keep($bufferLevel, $buffer); // not enough to send yet
                return '';
            }
            try {
                if (!self::$headSent) {
                    self::head($head());
                }
                self::body(ResponseResult::kept($bufferLevel) . $buffer);
            } catch (\Throwable $e) {
                $failure = $e; // thrown once the printing ends
            }
            return '';
        };
    }

    /**
     * Sends on output printed past every buffer ({@see UnbufferedOutput}), which PHP-FPM sends at
     * once: with the head PHP-FPM would send then, the innermost capture's, if it had not gone.
     * False, sending nothing, where the call cannot stream (the bytes then go into the body);
     * after {@see finish()} the bytes go nowhere.
     */
    public static function sendOn(string $bytes): bool
    {
        if (self::$finished) {
            return true;
        }
        if (self::$captures === [] || !Worker::canSendParts()) {
            return false;
        }
        if (!self::$headSent) {
            self::head((self::innermostHead())());
        }
        self::body($bytes);
        return true;
    }

    /** The innermost capture's head: what PHP-FPM would send with output that goes out now. */
    private static function innermostHead(): \Closure
    {
        return self::$captures[count(self::$captures) - 1][1];
    }

    /**
     * The answer of a call that may stream, its body sent as parts first if it is over
     * {@see THRESHOLD} (the master's frame limit may be lower than the body); with the head first
     * unless it went out already (an answer at exit while a streamed body was printed).
     *
     * @param array{status: int, headers: array<string, string|list<string>>, body: string} $result
     * @return array{status: int, headers: array<string, string|list<string>>, body: string}
     */
    public static function split(array $result): array
    {
        if (self::$finished) {
            $result['body'] = ''; // the answer ended early: the master has all of it
            return $result;
        }
        if (strlen($result['body']) <= self::THRESHOLD) {
            return $result;
        }
        if (!self::$headSent) {
            self::head($result);
        }
        self::body($result['body']);
        $result['body'] = '';
        return $result;
    }

    /**
     * The answer of a call that may stream whose body is $result's, then the output kept in
     * $printed, then $after: the head, then the body in parts, those of $printed read from its
     * temporary file, so that no more than a part of it is in memory at a time. The answer's body
     * is then empty.
     *
     * @param array{status: int, headers: array<string, string|list<string>>, body: string} $result
     * @return array{status: int, headers: array<string, string|list<string>>, body: string}
     */
    public static function splitSpooled(array $result, SpooledOutput $printed, string $after): array
    {
        $before = $result['body'];
        $result['body'] = '';
        if (self::$finished) {
            return $result;
        }
        if (!self::$headSent) {
            self::head($result);
        }
        if (self::body($before)) {
            foreach ($printed->pieces(min(Worker::partLimit(), self::THRESHOLD)) as $piece) {
                if (!self::body($piece)) {
                    return $result; // the master is gone
                }
            }
            self::body($after);
        }
        return $result;
    }

    /** @param array{status: int, headers: array<string, string|list<string>>} $result */
    private static function head(array $result): void
    {
        Worker::sendPart('http.head', ['status' => $result['status'], 'headers' => $result['headers']]);
        self::$headSent = true;
        if (self::$script) {
            SapiGlobals::markHeadersSent(); // a script's header() after it refuses, with PHP's warning, as under PHP-FPM
        }
    }

    /** Sends $bytes as `http.body` parts, each within the master's frame limit; false if the master is gone. */
    private static function body(string $bytes): bool
    {
        $length = strlen($bytes);
        $limit = Worker::partLimit();
        for ($offset = 0; $offset < $length; $offset += $limit) {
            if (!Worker::sendPart('http.body', $offset === 0 && $length <= $limit ? $bytes : substr($bytes, $offset, $limit))) {
                return false; // the master is gone
            }
        }
        return true;
    }
}
