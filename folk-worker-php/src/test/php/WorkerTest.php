<?php

declare(strict_types=1);

namespace Folk\Worker\Tests;

use Folk\Worker\Http\HttpHandler;
use Folk\Worker\Http\Request;
use Folk\Worker\Http\Response;
use Folk\Worker\RequestState;
use Folk\Worker\ShutdownFunctions;
use Folk\Worker\Worker;

/**
 * Runs $run with display_errors as given and PHP's error log in a temporary file (what error_log()
 * writes, PHP's "Uncaught ..." line among it): returns [what $run returned, what was logged].
 */
function withErrorLog(\Closure $run, string $displayErrors = '0'): array
{
    $log = tempnam(sys_get_temp_dir(), 'folk-log-');
    $saved = ['error_log' => ini_set('error_log', $log), 'display_errors' => ini_set('display_errors', $displayErrors),
        'html_errors' => ini_set('html_errors', '0')];
    try {
        $result = $run();
    } finally {
        foreach ($saved as $name => $value) {
            ini_set($name, (string) $value);
        }
        $logged = (string) file_get_contents($log);
        unlink($log);
    }
    return [$result, $logged];
}

/** A worker whose diagnostics go to $log instead of stderr. */
function quietWorker(?array &$log = null): Worker
{
    $log = [];
    return new Worker(null, static function (string $line) use (&$log): void {
        $log[] = $line;
    });
}

test('echo returns its params unchanged', function (): void {
    $worker = quietWorker();
    foreach ([null, 1, 'hi', [1, 2], ['a' => ['b' => "\xff\x00"]], 1.5] as $value) {
        assertSame([null, $value], $worker->call('echo', $value));
    }
});

test('Worker::context() is the context of the call being served, empty outside it', function (): void {
    $worker = quietWorker();
    $worker->register('seen', static fn (): array => Worker::context());
    $context = ['traceparent' => '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'];
    assertSame([null, $context], $worker->call('seen', null, $context));
    assertSame([], Worker::context(), 'cleared after the call');
    assertSame([null, []], $worker->call('seen'));
    $worker->register('boom', static function (): never {
        throw new \RuntimeException('boom');
    });
    $worker->call('boom', null, $context);
    assertSame([], Worker::context(), 'cleared after a call that threw');
});

test('an unknown method is a -32601 error', function (): void {
    assertSame([['code' => -32601, 'message' => 'method not found: nope'], null], quietWorker()->call('nope', 1));
});

test('a throwing handler is a -32603 error and the worker keeps serving', function (): void {
    $worker = quietWorker($log);
    $line = __LINE__ + 1;
    $worker->register('boom', static fn () => throw new \RuntimeException('kaputt'));
    $worker->register('divide', static fn (array $p): int => intdiv(...$p));
    $worker->register('silent', static fn () => throw new \LogicException());
    // data says what was thrown and where: the caller tells errors apart without the worker's log.
    $thrown = static fn (string $class, int $at): array => ['class' => $class, 'file' => __FILE__, 'line' => $at];
    assertSame([['code' => -32603, 'message' => 'kaputt', 'data' => $thrown('RuntimeException', $line)], null],
        $worker->call('boom'));
    assertSame([['code' => -32603, 'message' => 'Division by zero', 'data' => $thrown('DivisionByZeroError', $line + 1)],
        null], $worker->call('divide', [1, 0]));
    assertSame([['code' => -32603, 'message' => 'LogicException', 'data' => $thrown('LogicException', $line + 2)], null],
        $worker->call('silent'));
    assertSame([null, 3], $worker->call('divide', [7, 2]));
    assertSame(3, count($log), 'one log line per failure');
    assertContains('method "boom" threw RuntimeException: kaputt', $log[0]);
});

test('a handler returning null gives a nil result and no error', function (): void {
    $worker = quietWorker();
    $worker->register('nothing', static fn () => null);
    assertSame([null, null], $worker->call('nothing'));
});

test('resetters run after every call, also after errors; a throwing resetter is reported', function (): void {
    $worker = quietWorker($log);
    $calls = [];
    $worker->register('boom', static fn () => throw new \RuntimeException('x'));
    $worker->addResetter(static function () use (&$calls): void {
        $calls[] = 'first';
    });
    $worker->addResetter(static fn () => throw new \RuntimeException('resetter broke'));
    $worker->addResetter(static function () use (&$calls): void {
        $calls[] = 'third';
    });
    $worker->call('echo', 1);
    $worker->call('boom');
    $worker->call('missing');
    assertSame(['first', 'third', 'first', 'third', 'first', 'third'], $calls);
    assertSame([null, 2], $worker->call('echo', 2));
    $resetterLines = array_values(array_filter($log, static fn (string $l): bool => str_contains($l, 'resetter broke')));
    assertSame(4, count($resetterLines));
});

test('dispatch aliases the first registered of http.handle, jobs.process, grpc.call', function (): void {
    $worker = quietWorker();
    assertSame('method not found: dispatch', $worker->call('dispatch')[0]['message'] ?? null);
    $worker->register('other', static fn () => 'other');
    $worker->register('grpc.call', static fn ($p) => ['grpc' => $p]);
    $worker->register('jobs.process', static fn ($p) => ['jobs' => $p]);
    assertSame([null, ['grpc' => 5]], $worker->call('dispatch', 5));
    assertSame(['echo', 'other', 'grpc.call', 'jobs.process', 'dispatch'], $worker->methods());

    $worker = quietWorker();
    $worker->register('jobs.process', static fn ($p) => ['jobs' => $p]);
    $worker->http(static fn (Request $r): string => 'http');
    assertSame([null, ['jobs' => 1]], $worker->call('dispatch', 1));

    $worker->register('dispatch', static fn () => 'explicit');
    assertSame([null, 'explicit'], $worker->call('dispatch'));
});

test('http: request fields, header quirks and helpers', function (): void {
    $request = Request::fromParams(['method' => 'POST', 'uri' => '/a/b?x=1&y[]=2#frag', 'headers' => ['Content-Type' => 'text/plain', 'X-N' => 5], 'body' => "\x00\xff"]);
    assertSame('POST', $request->method);
    assertSame('/a/b', $request->path());
    assertSame('x=1&y[]=2', $request->queryString());
    assertSame(['x' => '1', 'y' => ['2']], $request->query());
    assertSame('text/plain', $request->header('content-type'));
    assertSame('5', $request->header('X-N'));
    assertSame(null, $request->header('missing'));
    assertSame("\x00\xff", $request->body);
    // Empty headers arrive as an empty array (0x90) or an empty object (0x80); body may be nil.
    assertSame([], Request::fromParams(['method' => 'GET', 'uri' => '/', 'headers' => [], 'body' => null])->headers);
    assertSame([], Request::fromParams((object) ['method' => 'GET', 'uri' => '/', 'headers' => new \stdClass()])->headers);
    assertSame('', Request::fromParams(['uri' => '/'])->queryString());
    assertThrows(\InvalidArgumentException::class, fn () => Request::fromParams('GET /'));
    assertThrows(\InvalidArgumentException::class, fn () => Request::fromParams(['method' => 'GET', 'uri' => 5]));
    // The server facts the gateway sends: the handler reads them here (it leaves $_SERVER alone).
    $served = Request::fromParams(['uri' => '/', 'server' => ['REMOTE_ADDR' => '10.0.0.7', 'DOCUMENT_ROOT' => '/srv/app/public']]);
    assertSame('10.0.0.7', $served->server('REMOTE_ADDR'));
    assertSame('/srv/app/public', $served->server['DOCUMENT_ROOT']);
    assertSame('-', $served->server('HTTPS', '-'));
    assertSame([], Request::fromParams(['uri' => '/', 'server' => 'not a map'])->server);
});

test('http: printed output becomes, or is appended to, the body', function (): void {
    $params = ['method' => 'GET', 'uri' => '/', 'headers' => [], 'body' => ''];
    $level = ob_get_level();
    $run = static fn (\Closure $handler): array => (new HttpHandler($handler))($params);

    assertSame(['status' => 200, 'headers' => [], 'body' => 'printed'], $run(static function (): void {
        echo 'printed';
    }));
    assertSame('returned+printed', $run(static function (): string {
        echo '+printed';
        return 'returned';
    })['body']);
    assertSame(
        ['status' => 404, 'headers' => ['X-A' => '1'], 'body' => 'body+printed'],
        $run(static function (): Response {
            echo '+printed';
            return new Response('body', 404, ['X-A' => '1']);
        }),
    );
    // Buffers the handler opened and left open are collected in order and closed.
    assertSame('outer inner', $run(static function (): void {
        echo 'outer ';
        ob_start();
        echo 'inner';
    })['body']);
    assertSame($level, ob_get_level(), 'output buffering level restored');

    // An exception it does not catch: what PHP-FPM sends (the output so far, 500), the error logged.
    [$result, $logged] = withErrorLog(fn () => $run(static function (): void {
        echo 'printed, ';
        ob_start();
        echo 'then an exception';
        throw new \RuntimeException('handler failed');
    }));
    assertSame(['status' => 500, 'headers' => [], 'body' => 'printed, then an exception'], $result);
    assertContains('PHP Fatal error:  Uncaught RuntimeException: handler failed in ' . __FILE__, $logged);
    assertSame($level, ob_get_level(), 'output buffering level restored after a throw');
    // A return value that is no answer is a failed call (the gateway's 502), not PHP's exception.
    assertThrows(\UnexpectedValueException::class, fn () => $run(static fn (): int => 42), 'got int');
});

test('http: printed output past SpooledOutput::MEMORY waits in a temporary file, not in PHP\'s memory, in order, and ob_clean() still discards it', function (): void {
    $params = ['method' => 'GET', 'uri' => '/', 'headers' => [], 'body' => ''];
    $level = ob_get_level();
    $run = static fn (\Closure $handler): array => (new HttpHandler($handler))($params);
    $mib = static fn (string $letter, int $n): string => str_repeat($letter, $n << 20);

    // 12 MiB printed: what the handler's PHP holds meanwhile grows by a few MiB at most.
    $grown = 0;
    $result = $run(static function () use (&$grown): string {
        $before = memory_get_usage();
        for ($k = 0; $k < 12; $k++) {
            echo str_repeat(chr(65 + $k), 1 << 20);
        }
        $grown = memory_get_usage() - $before;
        return 'returned:';
    });
    assertTrue($grown < (8 << 20), "PHP held $grown bytes of the 12 MiB printed");
    $expected = 'returned:';
    for ($k = 0; $k < 12; $k++) {
        $expected .= str_repeat(chr(65 + $k), 1 << 20);
    }
    assertTrue($result['body'] === $expected, 'the body, in order (outside the loop: whole, it fits in a frame)');
    unset($result, $expected);

    // The order and ob_clean() rules of small output hold across the file.
    assertSame('ab', $run(static function () use ($mib): void {
        echo 'a';
        ob_flush(); // sent, under PHP-FPM: it stays
        echo $mib('x', 5);
        ob_clean(); // not sent: it goes, however much of it is in the file
        echo 'b';
    })['body']);
    assertTrue($run(static function () use ($mib): string {
        echo $mib('x', 3);
        ob_start();
        echo $mib('y', 3), 'inner';
        ob_end_flush();
        ob_start();
        echo 'left open';
        return 'r';
    })['body'] === 'r' . $mib('x', 3) . $mib('y', 3) . 'innerleft open', 'buffers flushed into the capture and left open, in order');
    assertTrue($run(static function () use ($mib): void {
        echo $mib('x', 5);
        ob_end_flush(); // the handler closes the capture itself
        ob_start();
        echo 'after';
    })['body'] === $mib('x', 5) . 'after', 'the capture closed by the handler');
    assertSame($level, ob_get_level(), 'output buffering level restored');

    // Over the frame limit, to a master that takes no parts: an error that says what to do.
    assertThrows(\LengthException::class, fn () => $run(static function () use ($mib): void {
        for ($k = 0; $k < 17; $k++) {
            echo $mib('z', 1);
        }
    }), 'did not ask for a streamed answer');
    // An exception after output past MEMORY: the answer is that output (from the file), with 500.
    [$result, $logged] = withErrorLog(fn () => $run(static function () use ($mib): void {
        echo $mib('z', 5);
        throw new \RuntimeException('failed after printing');
    }));
    assertSame(500, $result['status']);
    assertTrue($result['body'] === $mib('z', 5), 'the 5 MiB printed before the exception');
    assertContains('Uncaught RuntimeException: failed after printing', $logged);
    assertSame($level, ob_get_level(), 'output buffering level restored after a throw');
});

test('http: a handler that throws answers as PHP-FPM does, through the application\'s exception handler if it set one; the worker serves on; bad params are a -32603 error', function (): void {
    $worker = quietWorker($log);
    $worker->http(static function (Request $r): string {
        if ($r->path() === '/fine') {
            return 'fine';
        }
        echo "printed before\n";
        if ($r->path() === '/handled') {
            set_exception_handler(static function (\Throwable $e): void {
                http_response_code(503);
                echo 'handled: ', $e->getMessage(), "\n";
            });
        }
        throw new \DomainException('no such page');
    });
    $http = static fn (string $uri): array => $worker->call('http.handle', ['method' => 'GET', 'uri' => $uri]);

    // display_errors off: PHP's fatal error "Uncaught ..." logged, 500 with what was printed.
    [$answer, $logged] = withErrorLog(fn () => $http('/'));
    assertSame([null, ['status' => 500, 'headers' => [], 'body' => "printed before\n"]], $answer, 'an answer, not a failed call (the gateway\'s 502)');
    assertContains('PHP Fatal error:  Uncaught DomainException: no such page in ' . __FILE__, $logged);
    assertContains("\n  thrown in " . __FILE__ . ' on line ', $logged);
    assertSame([], $log, 'nothing of the worker\'s own: the call did not fail');
    // display_errors on: PHP's rule keeps 200, and the error is printed after the output, as PHP prints it.
    [[$error, $result]] = withErrorLog(fn () => $http('/'), '1');
    assertSame([null, 200], [$error, $result['status']]);
    assertTrue(str_starts_with($result['body'], "printed before\n\nFatal error: Uncaught DomainException: no such page in " . __FILE__ . ':'), $result['body']);
    // The exception handler the application set runs instead: its output and status, nothing logged.
    http_response_code(200); // without ext-ffi the CLI keeps an earlier test's status, and only a change counts
    try {
        [$answer, $logged] = withErrorLog(fn () => $http('/handled'));
    } finally {
        restore_exception_handler(); // the serve loop sets a request's handlers back after it (RequestState)
    }
    assertSame([null, ['status' => 503, 'headers' => [], 'body' => "printed before\nhandled: no such page\n"]], $answer);
    assertSame('', $logged);
    assertSame([null, ['status' => 200, 'headers' => [], 'body' => 'fine']], $http('/fine'), 'the next call as ever');
    // Params that are no request: no handler ran, the call fails.
    [$error, $result] = $worker->call('http.handle', 1);
    assertSame([-32603, 'http.handle params must be a map, got int', 'InvalidArgumentException', null],
        [$error['code'], $error['message'], $error['data']['class'], $result]);
});

test('http: Response headers, multi-values and validation', function (): void {
    $response = (new Response('x'))
        ->withHeader('Content-Type', 'text/plain')
        ->withAddedHeader('Set-Cookie', 'a=1')
        ->withAddedHeader('set-cookie', 'b=2')
        ->withHeader('content-type', 'text/html')
        ->withStatus(201);
    assertSame(
        ['status' => 201, 'headers' => ['Set-Cookie' => ['a=1', 'b=2'], 'content-type' => 'text/html'], 'body' => 'x'],
        $response->toArray(),
    );
    assertSame(['a=1', 'b=2'], $response->header('SET-COOKIE'));
    assertSame(['X-Count' => '3', 'X-List' => ['1', '2']], (new Response('', 200, ['X-Count' => 3, 'X-List' => [1, 2], 'X-Empty' => []]))->headers);
    $json = Response::json(['a' => '/é'], 202);
    assertSame('{"a":"/é"}', $json->body);
    assertSame('application/json', $json->header('content-type'));
    assertSame('a/b', Response::json([], 200, ['content-type' => 'a/b'])->header('Content-Type'));
    assertThrows(\InvalidArgumentException::class, fn () => new Response('', 99));
    assertThrows(\InvalidArgumentException::class, fn () => new Response('', 600));
    assertThrows(\InvalidArgumentException::class, fn () => new Response('', 200, ['Bad Name' => 'x']));
    assertThrows(\InvalidArgumentException::class, fn () => new Response('', 200, ['X' => "a\r\nInjected: 1"]));
    assertThrows(\InvalidArgumentException::class, fn () => new Response('', 200, ['X' => ['ok', new \stdClass()]]));
});

test('defer: outside the serve loop, deferred work runs at the end of call(), after the resetters', function (): void {
    $order = [];
    $worker = new Worker(log: static function (string $line) use (&$order): void {
        $order[] = 'log: ' . $line;
    });
    $worker->addResetter(static function () use (&$order): void {
        $order[] = 'reset';
    });
    $worker->register('work', static function () use ($worker, &$order): string {
        $worker->defer(static function () use (&$order): void {
            $order[] = 'deferred';
        });
        $worker->defer(static function (): never {
            throw new \RuntimeException('deferred failure');
        });
        $order[] = 'handler';
        return 'done';
    });
    assertSame([null, 'done'], $worker->call('work'));
    assertSame('handler', $order[0]);
    assertSame('reset', $order[1]);
    assertSame('deferred', $order[2]);
    assertContains('deferred task threw RuntimeException: deferred failure', $order[3]);
    $order = [];
    $worker->call('echo', 1);
    assertSame(['reset'], $order, 'deferred work runs once');
});

test('a backtrace block is bounded: at most 4000 bytes, frames counted, function of each location', function (): void {
    $frames = [['file' => '/app/a.php', 'line' => 3, 'function' => '{closure}']];
    for ($i = 0; $i < 300; $i++) {
        $frames[] = ['file' => '/app/' . str_repeat('deep/', 20) . 'b.php', 'line' => $i, 'function' => 'f' . $i, 'class' => 'App\\C', 'type' => '->'];
    }
    $block = \Folk\Worker\Backtrace::format($frames, 7, 99);
    assertTrue(strlen($block) <= \Folk\Worker\Backtrace::MAX_BYTES, 'block of ' . strlen($block) . ' bytes');
    $lines = explode("\n", rtrim($block, "\n"));
    assertSame('folk-backtrace-begin pid=99 msgid=7', $lines[0]);
    assertSame('#0 /app/a.php:3 App\\C->f0()', $lines[1]);
    assertTrue(preg_match('/^\.\.\. \d+ more frames$/', $lines[count($lines) - 2]) === 1, 'truncation line: ' . $lines[count($lines) - 2]);
    assertSame('folk-backtrace-end', end($lines));
    $short = \Folk\Worker\Backtrace::format([['file' => '/app/x.php', 'line' => 5, 'function' => 'h'], ['function' => 'array_map']], null, 1);
    assertSame("folk-backtrace-begin pid=1 msgid=-\n#0 /app/x.php:5 array_map()\n#1 [internal] {main}\nfolk-backtrace-end\n", $short);
});

test('the backtrace handler is installed only where SIGUSR2 is free or already ours', function (): void {
    if (!function_exists('pcntl_signal')) {
        assertSame(false, \Folk\Worker\Backtrace::install(static fn (): ?int => null), 'no ext-pcntl: nothing to declare');
        return;
    }
    $async = pcntl_async_signals();
    try {
        pcntl_signal(12, static function (): void {
        });
        assertSame(false, \Folk\Worker\Backtrace::install(static fn (): ?int => null), 'the application owns SIGUSR2');
        pcntl_signal(12, SIG_DFL);
        assertSame(true, \Folk\Worker\Backtrace::install(static fn (): ?int => null));
        assertSame(true, \Folk\Worker\Backtrace::install(static fn (): ?int => 1), 'a second worker in the process');
        assertSame(true, pcntl_async_signals());
    } finally {
        pcntl_signal(12, SIG_DFL);
        pcntl_async_signals($async);
    }
});

test('ShutdownFunctions: a call\'s functions run at its end; the library\'s own clean-up, registered in a call, waits for the exit (with ext-ffi)', function (): void {
    $shutdown = ShutdownFunctions::create(static function (string $line): void {
    });
    if ($shutdown === null) {
        assertTrue(!extension_loaded('ffi') || (string) ini_get('ffi.enable') === '0' || PHP_ZTS, 'available where FFI is');
        skip('needs ext-ffi with ffi.enable on a non-thread-safe PHP (php -n loads no FFI)');
    }
    $ran = [];
    $shutdown->begin();
    assertTrue(ShutdownFunctions::forTheProcess(static function () use (&$ran): void {
        $ran[] = 'the process\'s';
    }), 'the first the call registers: the process\'s');
    register_shutdown_function(static function () use (&$ran): void {
        $ran[] = 'the call\'s';
    });
    assertTrue(!ShutdownFunctions::forTheProcess(static function () use (&$ran): void {
        $ran[] = 'after one of the call\'s';
    }), 'after one of the call\'s: not the process\'s');
    $shutdown->end();
    assertSame(['the call\'s', 'after one of the call\'s'], $ran);
    $shutdown->begin();
    $shutdown->end();
    assertSame(['the call\'s', 'after one of the call\'s'], $ran, 'each once; the process\'s waits for the exit');
});

test('RequestState: the error and exception handlers captured are current again after a call that pushed more than it may pop, or popped them', function (): void {
    $current = static function (): array {
        $error = set_error_handler(null);
        restore_error_handler();
        $exception = set_exception_handler(null);
        restore_exception_handler();
        return [$error, $exception];
    };
    [$runnerError, $runnerException] = $current();
    $error = static fn (): bool => false;
    $exception = static function (\Throwable $e): void {
    };
    set_error_handler($error);
    set_exception_handler($exception);
    try {
        $state = RequestState::capture();
        for ($i = 0; $i < 100; $i++) { // past the handlers restore() pops one by one
            set_error_handler(static fn (): bool => true);
            set_exception_handler(static function (\Throwable $e): void {
            });
        }
        $state->restore();
        assertSame([$error, $exception], $current(), 'after a call that pushed 100 of each');
        restore_error_handler();
        restore_exception_handler();
        $state->restore();
        assertSame([$error, $exception], $current(), 'after a call that popped the captured ones');
    } finally {
        // Setting them again dropped the ones below (the runner's): back to the runner's alone.
        for ($i = 0; $i < 200 && $current() !== [null, null]; $i++) {
            restore_error_handler();
            restore_exception_handler();
        }
        set_error_handler($runnerError);
        set_exception_handler($runnerException);
    }
});
