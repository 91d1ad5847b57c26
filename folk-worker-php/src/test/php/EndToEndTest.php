<?php

declare(strict_types=1);

namespace Folk\Worker\Tests;

use Folk\Worker\MessagePack\MessagePack;
use Folk\Worker\Worker;

const TEST_WORKER = __DIR__ . '/fixtures/test-worker.php';
const ECHO_WORKER = __DIR__ . '/../../main/php/bin/echo-worker.php';

/** Runs $body against the test worker. */
function withWorker(\Closure $body, bool $ownGroup = false, string $script = TEST_WORKER, array $phpArgs = []): mixed
{
    return TestMaster::with($script, $body, $ownGroup, $phpArgs);
}

test('handshake: control.ready with the worker pid and its features before any task', function (): void {
    withWorker(function (TestMaster $m): void {
        assertSame(readyParams($m->pid()), $m->ready());
        $info = $m->result('info');
        assertSame($m->pid(), $info['pid']);
        assertSame(MessagePack::codec()->name(), $info['codec'], 'the worker runs in the same mode as the tests');
        assertSame(extension_loaded('posix'), $info['posix']);
        assertSame('pipe', $info['env']);
    });
});

test('context: the handshake declares it; a 5th request element is the context of that call only', function (): void {
    withWorker(function (TestMaster $m): void {
        assertSame(readyParams($m->pid()), $m->ready(), 'the handshake declares context');
        $codec = MessagePack::codec();
        $context = ['traceparent' => '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'tracestate' => 'k=v'];
        $m->send($codec->pack([0, 7, 'context', null, $context]));
        assertSame([1, 7, null, $context], $m->receive());
        assertSame([null, []], $m->call('context'), 'a 4-element request carries no context');
        $m->send($codec->pack([0, 8, 'context', null, 'not a map']));
        assertSame(2, $m->waitExit(), 'a context that is not a map is a protocol error');
        assertContains('request context is not a map', $m->stderr());
    });
});

test('dump() during an HTTP request prints VarDumper\'s HTML into the page, with its script and styles in every page; elsewhere it goes to stdout', function (): void {
    if (stream_resolve_include_path('Symfony/Component/VarDumper/autoload.php') === false || !extension_loaded('mbstring')) {
        skip('needs php-symfony-var-dumper, and mbstring for its HtmlDumper');
    }
    withWorker(function (TestMaster $m): void {
        $m->ready();
        foreach (['1', '2'] as $n) {
            [$error, $result] = $m->call('http.handle', ['method' => 'GET', 'uri' => '/dump?n=' . $n, 'headers' => [], 'body' => '']);
            assertSame(null, $error);
            assertSame(200, $result['status']);
            $body = $result['body'];
            assertContains('Sfdump = window.Sfdump', $body, "page $n: VarDumper's script, as PHP-FPM prints it in each page");
            assertContains('<pre class=sf-dump id=sf-dump-', $body, "page $n");
            assertContains('"<span class=sf-dump-key>page</span>" => "<span class=sf-dump-str title="3 characters">n=' . $n . '</span>"', $body, "page $n: its own dump");
            assertTrue(str_starts_with($body, 'after the dump<script>'), "page $n: what the handler printed after what it returned");
        }
        assertSame([null, 'dumped'], $m->call('dump', 'outside a request'));
        waitUntil(fn (): bool => str_contains($m->stdout(), '"outside a request"'), 5.0, 'the dump on stdout');
        assertTrue(!str_contains($m->stdout(), 'sf-dump'), 'the CLI format on stdout: ' . $m->stdout());
    });
});

test('exit() in a handler: the call is answered, marked as the worker\'s last, and the worker exits with that code', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        assertSame([null, 'before'], $m->call('echo', 'before'));
        [$error, $result] = $m->callExiting('http.handle', ['method' => 'GET', 'uri' => '/exit', 'headers' => [], 'body' => '']);
        assertSame(null, $error);
        assertSame(['status' => 403, 'headers' => [], 'body' => 'printed, then exit'], $result, 'what PHP-FPM would send: the output so far, the status set');
        assertSame(3, $m->waitExit(), 'the exit code the handler gave');
        assertContains('the handler of "http.handle" called exit() or die() (request 2): answered; the worker exits', $m->stderr());
    });
    withWorker(function (TestMaster $m): void {
        $m->ready();
        [$error, $result] = $m->callExiting('exit', 0);
        assertSame(['code' => -32603, 'message' => 'the handler of "exit" ended the PHP process with exit() or die(); return from it instead'], $error);
        assertSame(null, $result);
        assertSame(0, $m->waitExit());
        assertContains('the handler of "exit" called exit() or die() (request 1): answered with an error; the worker exits', $m->stderr());
    });
});

test('a fatal error in a handler: the call is answered as PHP-FPM would, marked as the worker\'s last, and the error is logged', function (): void {
    $line = static function (string $marker): int {
        foreach (file(TEST_WORKER) as $i => $text) {
            if (str_contains($text, $marker)) {
                return $i + 1;
            }
        }
        throw new \LogicException($marker);
    };
    $http = static fn (string $uri): array => ['method' => 'GET', 'uri' => $uri, 'headers' => [], 'body' => ''];
    $off = ['-d', 'display_errors=0', '-d', 'log_errors=0'];
    withWorker(function (TestMaster $m) use ($http, $line): void {
        $m->ready();
        assertSame([null, 'before'], $m->call('echo', 'before'));
        [$error, $result] = $m->callExiting('http.handle', $http('/fatal'));
        assertSame(null, $error);
        assertSame(['status' => 500, 'headers' => extension_loaded('ffi') ? ['X-Before' => '1'] : [], 'body' => 'printed, then a fatal error'], $result,
            'PHP-FPM with display_errors off: 500, the header() line sent (where PHP keeps them: CliHeaders) and the output so far');
        assertSame(255, $m->waitExit(), 'PHP\'s exit code after a fatal error');
        assertContains('the handler of "http.handle" ended with a PHP fatal error (request 2): the application gave up in '
            . TEST_WORKER . ' on line ' . $line("E_USER_ERROR);") . '; answered; the worker exits', $m->stderr());
    }, phpArgs: $off);
    withWorker(function (TestMaster $m) use ($http): void {
        $m->ready();
        [, $result] = $m->callExiting('http.handle', $http('/fatal?status=403'));
        assertSame(403, $result['status'], 'a status the script set stays');
    }, phpArgs: $off);
    withWorker(function (TestMaster $m) use ($http): void {
        $m->ready();
        [$error, $result] = $m->callExiting('http.handle', $http('/fatal?what=memory'));
        assertSame(null, $error);
        assertSame(['status' => 500, 'headers' => extension_loaded('ffi') ? ['X-Before' => '1'] : [], 'body' => ''], $result,
            'PHP drops the output of a request that ran out of memory');
        assertContains('ended with a PHP fatal error (request 1): Allowed memory size of 33554432 bytes exhausted', $m->stderr());
    }, phpArgs: $off);
    withWorker(function (TestMaster $m) use ($http): void {
        $m->ready();
        [, $result] = $m->callExiting('http.handle', $http('/fatal'));
        assertSame(200, $result['status'], 'display_errors on: PHP does not set 500');
        assertTrue(str_starts_with($result['body'], 'printed, then a fatal error'), $result['body']);
        assertContains('Fatal error: the application gave up', $result['body'], 'the error displayed in the page, as PHP-FPM would');
    }, phpArgs: ['-d', 'display_errors=1', '-d', 'html_errors=0']);
    withWorker(function (TestMaster $m) use ($line): void {
        $m->ready();
        [$error, $result] = $m->callExiting('fatal');
        assertSame(['code' => -32603, 'message' => 'the handler of "fatal" ended the PHP process with a fatal error: a job gave up in '
            . TEST_WORKER . ' on line ' . $line("'a job gave up'")], $error);
        assertSame(null, $result);
        assertSame(255, $m->waitExit());
    }, phpArgs: $off);
});

test('exit() in deferred work (a framework\'s terminate()): the call was answered; the worker says why it exits', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        assertSame([null, 'answered'], $m->call('exit_deferred'));
        assertSame(0, $m->waitExit());
        assertContains('work deferred after request 1 (a framework\'s terminate()) ended the PHP process with exit() or die(); the worker exits', $m->stderr());
    });
});

test('the request cycle answers with the header() and setcookie() lines of the application, and a native session\'s, as PHP-FPM would; without ext-ffi, with what it captures', function (): void {
    $sessions = sys_get_temp_dir() . '/folk-sessions-' . getmypid();
    @mkdir($sessions);
    $args = ['-d', 'session.save_path=' . $sessions, '-d', 'session.cache_limiter=nocache'];
    $call = static fn (TestMaster $m, string $uri, array $headerList = []): array => $m->result('cycle.handle',
        ['method' => 'GET', 'uri' => $uri, 'headers' => [], 'header_list' => $headerList, 'body' => '']);
    $sessionCookie = static function (array $result): ?string {
        foreach ((array) ($result['headers']['Set-Cookie'] ?? []) as $cookie) {
            if (str_starts_with($cookie, 'PHPSESSID=')) {
                return explode(';', $cookie)[0];
            }
        }
        return null;
    };
    try {
        if (extension_loaded('ffi')) { // the workers run with the runner's php.ini
            $m = TestMaster::start(TEST_WORKER, phpArgs: $args);
            try {
                $m->ready();
                $first = $call($m, '/?session=1');
                assertSame('from header()', $first['headers']['X-Global'] ?? null, 'a header() line of the application: ' . show($first));
                assertContains('plain=from%20setcookie%28%29', implode("\n", (array) $first['headers']['Set-Cookie']));
                $cookie = $sessionCookie($first);
                assertTrue($cookie !== null, 'PHP\'s session cookie for a new session');
                assertSame('no-store, no-cache, must-revalidate', $first['headers']['Cache-Control'] ?? null, 'the session cache limiter\'s');
                $second = $call($m, '/?session=1', [['Cookie', $cookie]]);
                assertSame('cycle 2', $second['body']);
                assertSame(null, $sessionCookie($second), 'the id the client sent is not sent back, as under PHP-FPM');
                $plain = $call($m, '/');
                assertSame(null, $sessionCookie($plain), 'nothing of the previous request\'s lines');
                assertTrue(!isset($plain['headers']['Cache-Control']), show($plain));
            } finally {
                $m->close();
            }
        }
        $m = TestMaster::start(TEST_WORKER, env: ['FOLK_CLI_HEADERS' => '0'], phpArgs: $args);
        try {
            $m->ready();
            $first = $call($m, '/?session=1');
            assertTrue(!isset($first['headers']['X-Global']), 'lost without ext-ffi\'s help, as documented: ' . show($first));
            $cookie = $sessionCookie($first);
            assertTrue($cookie !== null, 'the session cookie, made by NativeSession: ' . show($first));
            assertSame(null, $sessionCookie($call($m, '/?session=1', [['Cookie', $cookie]])));
        } finally {
            $m->close();
        }
    } finally {
        array_map('unlink', glob($sessions . '/*') ?: []);
        @rmdir($sessions);
    }
});

test('header() lines count after output reached stdout, at boot or between requests, as each PHP-FPM request starts with none sent', function (): void {
    if (!extension_loaded('ffi')) {
        skip('needs ext-ffi, as Bridge\\CliHeaders does');
    }
    $m = TestMaster::start(TEST_WORKER, env: ['FOLK_TEST_PRINT_AT_BOOT' => '1']);
    try {
        $m->ready();
        $call = static fn (): array => $m->result('cycle.handle', ['method' => 'GET', 'uri' => '/', 'headers' => [], 'body' => '']);
        assertSame('from header()', $call()['headers']['X-Global'] ?? null, 'after output at boot');
        assertSame([null, 'printed to stdout'], $m->call('print', "to stdout between requests\n"));
        // A Content-Length line makes PHP turn zlib.output_compression off, which PHP refuses with a
        // warning ("headers already sent") once output reached the SAPI, unless each request starts
        // with none sent (Bridge\UnbufferedOutput); frameworks turn that warning into an exception.
        $sized = $m->result('cycle.handle', ['method' => 'GET', 'uri' => '/?sized=1', 'headers' => [], 'body' => '']);
        assertSame('from header()', $sized['headers']['X-Global'] ?? null, 'after output between requests');
        assertSame('7', $sized['headers']['Content-Length'] ?? null);
        waitUntil(fn (): bool => str_contains($m->stdout(), 'to stdout between requests'), 5.0, 'the output on stdout');
        assertTrue(!str_contains($m->stderr(), 'headers already sent'), $m->stderr());
        assertTrue(!str_contains($m->stderr() . $m->stdout(), 'zlib.output_compression'), $m->stderr() . $m->stdout());
    } finally {
        $m->close();
    }
});

test('http(): where PHP keeps header lines, the handler\'s header(), setcookie() and status count, as under PHP-FPM; a returned Response wins', function (): void {
    if (!extension_loaded('ffi')) {
        skip('needs ext-ffi (the workers run with the runner\'s php.ini)');
    }
    $get = static fn (string $uri): array => ['method' => 'GET', 'uri' => $uri, 'headers' => [], 'body' => ''];
    withWorker(function (TestMaster $m) use ($get): void {
        $m->ready();
        foreach ([1, 2] as $n) { // the same status set again in the next request counts again
            $result = $m->result('http.handle', $get('/php-headers'));
            assertSame(201, $result['status'], "request $n");
            assertSame('application/json', $result['headers']['Content-Type'] ?? null, show($result));
            assertSame(['one', 'two'], $result['headers']['X-Twice'] ?? null);
            assertSame('php=set%20with%20setcookie%28%29', $result['headers']['Set-Cookie'] ?? null);
            assertSame('{"ok":true}', $result['body']);
        }
        $result = $m->result('http.handle', $get('/php-headers?returns=response'));
        assertSame(202, $result['status'], 'the Response\'s status');
        assertSame('the Response\'s', $result['headers']['X-Twice'], 'the Response\'s header replaces PHP\'s of the name');
        assertSame(['php=set%20with%20setcookie%28%29', 'response=1'], $result['headers']['Set-Cookie'], 'cookies add up');
        // header_register_callback(): run once, just before the head is made, as PHP-FPM runs it when it sends headers.
        $result = $m->result('http.handle', $get('/php-headers?callback=1'));
        assertSame(201, $result['status'], show($result));
        assertSame('4 lines, a cookie', $result['headers']['X-Callback'] ?? null, show($result));
        assertSame('private, max-age=0', $result['headers']['Cache-Control'] ?? null);
        $result = $m->result('http.handle', $get('/php-headers'));
        assertTrue(!isset($result['headers']['X-Callback']), 'the callback was that request\'s: ' . show($result));
        $plain = $m->result('http.handle', $get('/print'));
        assertSame(['status' => 200, 'headers' => [], 'body' => 'printed GET'], $plain, 'nothing left from the previous request');
        [, $redirect] = $m->callExiting('http.handle', $get('/php-redirect'));
        assertSame(302, $redirect['status'], 'PHP\'s Location rule');
        assertSame('/elsewhere', $redirect['headers']['Location'] ?? null, show($redirect));
    });
    $m = TestMaster::start(TEST_WORKER, env: ['FOLK_CLI_HEADERS' => '0']);
    try {
        $m->ready();
        $result = $m->result('http.handle', $get('/php-headers'));
        assertSame(200, $result['status'], 'turned off: as documented, header() and http_response_code() do not count');
        assertSame([], $result['headers']);
    } finally {
        $m->close();
    }
});

test('max_execution_time counts per request, as under PHP-FPM: a request over it fails, the worker\'s total never does', function (): void {
    // PHP's timer counts the process's CPU time from its start; PHP-FPM starts it again with each request.
    withWorker(function (TestMaster $m): void {
        $m->ready();
        for ($i = 0; $i < 3; $i++) { // 1.2 s of CPU in all, each request well under the limit
            assertSame([null, 'burnt'], $m->call('burn', ['ms' => 400], 30.0), "request $i");
        }
        // A request that lifts its own limit lifts it for itself only.
        assertSame([null, 'burnt'], $m->call('burn', ['ms' => 1100, 'limit' => 0], 30.0));
        // Well over the limit: the kernel charges PHP's CPU timer by ticks, and on a crowded machine
        // it can fall far behind the CPU time getrusage() counts (3 s of it was not enough beside two
        // busy loops). The timer ends the call after about a second anyway: the rest is only a bound.
        [$error] = $m->callExiting('burn', ['ms' => 8000], 60.0);
        assertContains('Maximum execution time of 1 second exceeded', (string) ($error['message'] ?? ''));
    }, phpArgs: ['-d', 'max_execution_time=1']);
});

test('what PHP-FPM sets back after a request is set back after a call: ini settings a request changed, the time zone, the locale, error and exception handlers, libxml\'s error collection', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        [$error, $before] = $m->call('request_state', true);
        assertSame(null, $error);
        assertTrue($before['timezone'] !== 'Pacific/Auckland' && $before['memory_limit'] !== '512M'
            && $before['locale'] !== 'C.utf8' && $before['intl'] !== 'fr_FR', 'the test changes something');
        assertTrue($before['handlers'] !== ['Closure', 'Closure'], 'the call sets handlers the worker did not have');
        assertTrue($before['libxml'] === null || $before['libxml'] === [false, 0], 'libxml collects no errors to begin with');
        assertSame([null, $before], $m->call('request_state', false), 'the next call sees the settings the worker started with');
    });
});

test('the environment a call changes with putenv() is set back after it, as at a PHP-FPM request\'s end (with ext-ffi); the bootstrap\'s stays', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $restores = extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0' && !PHP_ZTS;
        $start = ['set by a call' => false, 'inherited' => 'pipe', 'set at boot' => 'by the bootstrap', 'unset at boot' => false];
        assertSame($start, $m->result('environment', true));
        $changed = ['set by a call' => '1', 'inherited' => 'changed by a call', 'set at boot' => false,
            'unset at boot' => 'set by a call'];
        assertSame($restores ? $start : $changed, $m->result('environment', true), 'what the next call sees');
        assertSame($restores ? $start : $changed, $m->result('environment', false), 'every time');
        if (!$restores) {
            skip('needs ext-ffi with ffi.enable on a non-thread-safe PHP (php -n loads no FFI): the environment stays changed');
        }
    });
});

test('a seed a call gives mt_srand() is not the next call\'s: each call starts unseeded, as a PHP-FPM request does (with ext-ffi)', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        mt_srand(42);
        $sequence = [mt_rand(), mt_rand(), mt_rand(), mt_rand()];
        mt_srand();
        assertSame(array_slice($sequence, 0, 2), $m->result('draw', 42), 'the call\'s own seed decides its draws');
        $next = $m->result('draw', null);
        $resets = extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0' && !PHP_ZTS && PHP_VERSION_ID < 80400;
        if (!$resets) {
            assertSame(array_slice($sequence, 2, 2), $next, 'without the reset the seed stays');
            skip('needs ext-ffi with ffi.enable on a non-thread-safe PHP 8.2 or 8.3 (php -n loads no FFI): the seed stays');
        }
        assertTrue($next !== array_slice($sequence, 2, 2), 'the next call does not go on with the seeded sequence');
        assertTrue($m->result('draw', null) !== $next, 'and each call draws anew');
    });
});

test('the default stream context a call sets is not the next call\'s, as PHP starts each request without one (with ext-ffi)', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        assertSame([], $m->result('stream_context', true), 'none to begin with');
        $next = $m->result('stream_context', true);
        $resets = extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0' && !PHP_ZTS;
        if (!$resets) {
            assertSame(['http' => ['proxy' => 'tcp://proxy.invalid:3128']], $next, 'without the reset it stays');
            skip('needs ext-ffi with ffi.enable on a non-thread-safe PHP (php -n loads no FFI): the context stays');
        }
        assertSame([], $next, 'the next call starts without the proxy the previous one set');
        assertSame([], $m->result('stream_context', false), 'every time');
    });
});

test('shutdown functions a call registers run once after it, as PHP-FPM runs a request\'s at its end (with ext-ffi); the worker\'s own stay', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $runs = extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0' && !PHP_ZTS;
        $expect = static fn (array $names): array => $runs ? $names : [];
        assertSame([], $m->result('register_shutdown', ['name' => 'one']));
        assertSame($expect(['one']), $m->result('register_shutdown', ['name' => 'two', 'nested' => true]), 'once, after its call');
        assertSame($expect(['one', 'two', 'two, registered by it']), $m->result('register_shutdown', ['name' => 'three', 'throw' => true]));
        assertSame($expect(['one', 'two', 'two, registered by it', 'three']), $m->result('register_shutdown', ['name' => 'four']),
            'the worker goes on after a shutdown function threw');
        if ($runs) {
            assertContains('threw RuntimeException: thrown by a shutdown function', $m->stderr());
        }
        assertTrue(!str_contains($m->stdout(), 'printed by a shutdown function'),
            'what they print is dropped, as after fastcgi_finish_request()');
    });
    // exit() in a call: the worker's own shutdown function answers it, and the call's runs at the exit;
    // an earlier call's ran after that call (with ext-ffi), or runs at the exit (without): once either way.
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $file = tempnam(sys_get_temp_dir(), 'folk-shutdown-');
        try {
            assertSame([], $m->result('register_shutdown', ['name' => 'one', 'file' => $file]));
            $m->callExiting('register_shutdown', ['name' => 'two', 'exit' => true, 'file' => $file]);
            assertSame(0, $m->waitExit());
            assertSame("one\ntwo\n", file_get_contents($file));
        } finally {
            @unlink($file);
        }
    });
    // exit() in a shutdown function then skips the rest of them, the worker's answer among them; PHP
    // still runs the destructors, and the call is answered from one.
    withWorker(function (TestMaster $m): void {
        $m->ready();
        [$error, $result] = $m->callExiting('register_shutdown', ['name' => 'one', 'exit' => true, 'exit_in_shutdown' => true]);
        assertSame(['code' => -32603, 'message' => 'the handler of "register_shutdown" ended the PHP process with exit() or die(); return from it instead'], $error);
        assertSame(null, $result);
        assertSame(4, $m->waitExit());
    });
});

/**
 * Runs $calls on a worker with ext-ffi, then closes its tasks and waits for its exit; returns the lines its
 * shutdown functions wrote to the file $calls was given, and the worker's stderr.
 *
 * @return array{list<string>, string}
 */
function shutdownLines(string $prefix, \Closure $calls): array
{
    if (!extension_loaded('ffi') || (string) ini_get('ffi.enable') === '0' || PHP_ZTS) {
        skip('needs ext-ffi with ffi.enable on a non-thread-safe PHP');
    }
    $file = tempnam(sys_get_temp_dir(), $prefix);
    try {
        $stderr = withWorker(function (TestMaster $m) use ($file, $calls): string {
            $m->ready();
            $calls($m, $file);
            $m->closeTasks();
            assertSame(0, $m->waitExit());
            return $m->stderr();
        });
        return [file($file, FILE_IGNORE_NEW_LINES), $stderr];
    } finally {
        @unlink($file);
    }
}

test('a shutdown function bound to an object that outlives its call runs at the call\'s end and once more at the exit (with ext-ffi), so that what it gathered later is not lost', function (): void {
    $runs = extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0' && !PHP_ZTS;
    $file = tempnam(sys_get_temp_dir(), 'folk-buffered-');
    try {
        withWorker(function (TestMaster $m) use ($file): void {
            $m->ready();
            foreach (['one', 'two', 'three'] as $name) {
                assertSame($name, $m->result('buffered_log', ['name' => $name, 'file' => $file]));
            }
            $m->closeTasks();
            assertSame(0, $m->waitExit());
        });
        $lines = file($file, FILE_IGNORE_NEW_LINES);
        if (!$runs) {
            // Without FFI every function waits for the exit: the buffer's once, the kept closure and the calls' thrice.
            assertSame(['one', 'two', 'three'], array_values(array_diff($lines, ['kept', 'made'])));
            skip('needs ext-ffi with ffi.enable on a non-thread-safe PHP: a call\'s shutdown functions run at the worker\'s exit');
        }
        // The buffer's close ran after the first call (PHP-FPM's request end) and again at the exit, with the
        // records of the calls after it; the closure the application keeps and registers at every call after
        // each call only (registered again, it is one per call, as under PHP-FPM); the closure made for a call
        // only after it.
        assertSame(['one', 'two', 'three'], array_values(array_diff($lines, ['kept', 'made'])));
        assertSame(['one', 'kept', 'made'], array_slice($lines, 0, 3), 'the first call\'s functions, after it');
        assertSame(3, count(array_keys($lines, 'kept')), 'registered at each of the 3 calls: run after each, not again at the exit');
        assertSame(3, count(array_keys($lines, 'made')), 'made for a call: after it only');
        assertSame(['two', 'three'], array_slice($lines, -2), 'at the exit: the buffer');
    } finally {
        @unlink($file);
    }
});

test('a shutdown function whose object the next call replaced is let go, not run again at the exit; one kept that throws at the exit does not keep the others from running (with ext-ffi)', function (): void {
    [$lines, $stderr] = shutdownLines('folk-replaced-', static function (TestMaster $m, string $file): void {
        assertSame('one', $m->result('replaced_object', ['name' => 'one', 'file' => $file, 'throw' => true]));
        assertSame('two', $m->result('replaced_object', ['name' => 'two', 'file' => $file]));
        assertSame('three', $m->result('buffered_log', ['name' => 'three', 'file' => $file]));
    });
    assertContains('a shutdown function kept for the exit threw RuntimeException: thrown by a kept shutdown function', $stderr);
    // After each call its own functions; at the exit the ones whose objects live on: the last
    // request's object (still in the global), the kept closure (it threw, logged), the buffer's close.
    assertSame(['object one', 'object two', 'three', 'kept', 'made'], array_slice($lines, 0, 5), implode(',', $lines));
    assertSame(1, count(array_keys($lines, 'object one')), 'replaced by the next call: let go, not run again');
    assertSame(['object two', 'kept'], array_slice($lines, 5), 'at the exit, the thrower between them: ' . implode(',', $lines));
});

test('the functions kept for the exit are at most 64: requests\' objects in reference cycles do not pile up (with ext-ffi)', function (): void {
    [$lines, $stderr] = shutdownLines('folk-cyclic-', static function (TestMaster $m, string $file): void {
        for ($i = 1; $i <= 70; $i++) {
            assertSame((string) $i, $m->result('cyclic_object', ['name' => (string) $i, 'file' => $file]));
        }
    });
    assertSame(1, substr_count($stderr, '64 shutdown functions whose objects lived on after their calls are kept for the exit'));
    assertSame(70 + 64, count($lines), 'each after its call; the first 64 again at the exit: ' . implode(',', $lines));
    assertSame(array_map(static fn (int $i): string => "cyclic $i", range(1, 64)), array_slice($lines, 70));
});

test('a closure bound to an object that outlives its call is kept as [$object, \'method\'] is: what the object gathered later is flushed at the exit, once per closure (with ext-ffi)', function (): void {
    $hows = ['fcc', 'closure', 'fromCallable', 'closure-each'];
    [$lines] = shutdownLines('folk-bound-', static function (TestMaster $m, string $file) use ($hows): void {
        foreach ($hows as $how) {
            foreach (['one', 'two', 'three'] as $name) {
                assertSame($name, $m->result('bound_buffer', ['how' => $how, 'name' => $name, 'file' => $file]));
            }
        }
    });
    foreach ($hows as $how) {
        $mine = array_values(array_filter($lines, static fn (string $l): bool => str_starts_with($l, "$how ")));
        // 'closure-each' registers a closure at each call: each runs after its call, as under PHP-FPM, none again at the exit.
        assertSame(["$how one", "$how two", "$how three"], $mine, "$how: " . implode(',', $lines));
    }
    assertSame(['fcc one', 'closure one', 'fromCallable one', 'fcc two', 'fcc three', 'closure two', 'closure three', 'fromCallable two',
        'fromCallable three'], array_values(array_filter($lines, static fn (string $l): bool => !str_starts_with($l, 'closure-each'))),
        'each first after its call, then at the exit in the order kept: ' . implode(',', $lines));
});

test('a request\'s object that registered two of its methods is let go with the request: each runs once, none at the exit, and the kept ones are not used up (with ext-ffi)', function (): void {
    [$lines, $stderr] = shutdownLines('folk-two-methods-', static function (TestMaster $m, string $file): void {
        for ($i = 1; $i <= 40; $i++) {
            assertSame((string) $i, $m->result('two_methods', ['name' => (string) $i, 'file' => $file]));
        }
        assertSame('late', $m->result('buffered_log', ['name' => 'late', 'file' => $file]));
        assertSame('later', $m->result('buffered_log', ['name' => 'later', 'file' => $file]));
    });
    $expected = [];
    for ($i = 1; $i <= 40; $i++) {
        array_push($expected, "request $i a", "request $i b");
    }
    assertSame($expected, array_slice($lines, 0, 80), 'each after its call, once');
    assertSame(['late', 'later'], array_values(array_intersect(array_slice($lines, 80), ['late', 'later'])),
        'the buffer registered after them is still kept: its later record written at the exit: ' . implode(',', array_slice($lines, 80)));
    assertSame([], preg_grep('/^request /', array_slice($lines, 80)), 'not run again at the exit');
    assertSame(0, substr_count($stderr, 'kept for the exit'));
});

test('shutdown functions registered per call run once each, as under PHP-FPM: a service\'s closure that captures the request, an invokable made per call; one that a kept function registers runs once at the exit (with ext-ffi)', function (): void {
    foreach (['use', 'invokable'] as $case) {
        [$lines] = shutdownLines("folk-$case-", static function (TestMaster $m, string $file) use ($case): void {
            foreach (['1', '2', '3'] as $name) {
                assertSame($name, $m->result('shutdown_case', ['case' => $case, 'name' => $name, 'file' => $file]));
            }
        });
        $ran = $case === 'use' ? 'use' : 'invoked';
        assertSame(["$ran 1", "$ran 2", "$ran 3"], array_values(preg_grep("/^$ran /", $lines)), "$case: once each, none again at the exit: " . implode(',', $lines));
        assertSame(['freed 1', 'freed 2', 'freed 3'], array_values(preg_grep('/^freed /', $lines)), "$case: " . implode(',', $lines));
        assertTrue(array_search('freed 2', $lines, true) < array_search("$ran 3", $lines, true),
            "$case: the requests' objects freed before the worker's exit: " . implode(',', $lines));
    }
    // A logger's flush registered once, as a closure that captures its long-lived handler: kept, so that
    // what the calls after the first logged is written at the exit.
    [$lines] = shutdownLines('folk-logger-', static function (TestMaster $m, string $file): void {
        foreach (['1', '2', '3'] as $name) {
            assertSame($name, $m->result('shutdown_case', ['case' => 'logger', 'name' => $name, 'file' => $file]));
        }
    });
    assertSame(['logged 1', 'logged 2', 'logged 3'], array_values(preg_grep('/^logged /', $lines)), implode(',', $lines));
    [$lines] = shutdownLines('folk-nested-', static function (TestMaster $m, string $file): void {
        assertSame('1', $m->result('shutdown_case', ['case' => 'nested', 'name' => '1', 'file' => $file]));
        assertSame('2', $m->result('shutdown_case', ['case' => 'nested', 'name' => '2', 'file' => $file]));
    });
    assertSame(['outer', 'inner', 'outer', 'inner'], array_values(array_diff($lines, ['freed 1', 'freed 2'])),
        'after the first call, then once at the exit: ' . implode(',', $lines));
});

test('http(): what the shutdown functions a request registers print follows its body, as PHP-FPM sends it (with ext-ffi); a header() in them counts before any output only', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $runs = extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0' && !PHP_ZTS;
        $get = static fn (string $uri): array => $m->result('http.handle', ['method' => 'GET', 'uri' => $uri, 'headers' => [], 'body' => '']);
        $after = $get('/shutdown');
        assertSame($runs ? 'returned + printed at shutdown' : 'returned', $after['body']);
        assertTrue(!isset($after['headers']['X-At-Shutdown']), 'headers went out with the body, as under PHP-FPM');
        $only = $get('/shutdown?empty=1');
        assertSame($runs ? ' + printed at shutdown' : '', $only['body']);
        if (!$runs) {
            skip('needs ext-ffi with ffi.enable on a non-thread-safe PHP: a call\'s shutdown functions run at the worker\'s exit');
        }
        assertSame('set', $only['headers']['X-At-Shutdown'] ?? null, 'no output before them: their header() counts');
        assertSame('returned + printed at shutdown', $get('/shutdown')['body'], 'once per request');
    });
});

test('http(): php://input reads the request\'s body (with ext-ffi), empty for a multipart body PHP would parse, as under PHP-FPM', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $works = extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0';
        $post = static fn (string $type, string $body): string => (string) $m->result('http.handle', ['method' => 'POST',
            'uri' => '/input', 'headers' => ['Content-Type' => $type], 'body' => $body])['body'];
        assertSame($works ? '{"a":1}' : '', $post('application/json', '{"a":1}'));
        assertSame('', (string) $m->result('http.handle', ['method' => 'GET', 'uri' => '/input', 'headers' => [], 'body' => ''])['body'],
            'nothing of the previous request');
        assertSame('', $post('multipart/form-data; boundary=B', "--B\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n--B--\r\n"));
    });
});

test('fastcgi_finish_request() exists, says it did not answer early, and the call answers when it ends', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $result = $m->result('http.handle', ['method' => 'GET', 'uri' => '/finish', 'headers' => [], 'body' => '']);
        assertSame([200, 'answered, then the rest'], [$result['status'], $result['body']]);
    });
});

test('a master gone while a handler runs: the worker exits 0 and answers nothing at exit', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $file = sys_get_temp_dir() . '/folk-spin-' . getmypid() . '-' . mt_rand();
        $m->send(MessagePack::codec()->pack([0, 1, 'spin_until', $file]));
        $m->closeTasks();
        touch($file);
        try {
            assertSame(0, $m->waitExit());
        } finally {
            unlink($file);
        }
        assertContains('master gone, exiting', $m->stderr());
        assertTrue(!str_contains($m->stderr(), 'exit()'), 'no answer at exit: ' . json_encode($m->stderr()));
    });
});

test('the ready-made echo worker answers echo', function (): void {
    withWorker(function (TestMaster $m): void {
        assertSame(readyParams($m->pid()), $m->ready());
        assertSame([null, 'hi'], $m->call('echo', 'hi'));
        assertSame([['code' => -32601, 'message' => 'method not found: dispatch'], null], $m->call('dispatch', 1));
        $m->closeTasks();
        assertSame(0, $m->waitExit());
    }, script: ECHO_WORKER);
});

test('echo round-trips values, large and binary ones included', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $all = implode('', array_map('chr', range(0, 255)));
        $values = [
            null, true, false, 0, -1, PHP_INT_MAX, PHP_INT_MIN, 1.5, -0.0, '', 'hi', $all,
            [1, [2, [3]]], ['a' => 1, 'b' => ['c' => $all]], [1 => 'x', 0 => 'y'],
            str_repeat($all, 4096),        // 1 MiB: many partial reads and writes
            str_repeat('z', 5 * 1024 * 1024),
        ];
        foreach ($values as $i => $value) {
            [$error, $result] = $m->call('echo', $value);
            assertSame(null, $error, "echo #$i");
            assertIdentical($value, $result, "echo #$i");
        }
    });
});

test('a request holding an ext value the codec cannot decode fails as invalid params; the worker serves on', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        // [0, 7, "echo", {"at": timestamp 1}]: what a Java master once sent for an Instant.
        $m->send((string) hex2bin('940007a46563686f81a26174d6ff00000001'));
        [$type, $msgid, $error, $result] = $m->receive();
        assertSame([1, 7], [$type, $msgid]);
        if (MessagePack::codec()->name() === 'pure') {
            assertSame(-32602, $error['code'] ?? null, show($error));
            assertContains('MessagePack ext value (type -1, a timestamp)', $error['message']);
            assertSame(null, $result);
        } else {
            assertSame([null, ['at' => null]], [$error, $result], 'ext-msgpack reads the timestamp as null');
        }
        assertSame([null, 'still serving'], $m->call('echo', 'still serving'));
        assertTrue($m->running(), 'the worker serves on');
    });
});

test('a request written in pieces, and the largest msgid, are handled', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $codec = MessagePack::codec();
        $m->send($codec->pack([0, 0xffffffff, 'echo', ['split' => str_repeat('ab', 1000)]]), chunks: 6);
        assertSame([1, 0xffffffff, null, ['split' => str_repeat('ab', 1000)]], $m->receive());
        $m->send($codec->pack([0, 0, 'echo', 'zero']), chunks: 3);
        assertSame([1, 0, null, 'zero'], $m->receive());
    });
});

test('errors: unknown method, throwing handlers, unencodable results', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        assertSame([['code' => -32601, 'message' => 'method not found: nope'], null], $m->call('nope', ['x' => 1]));
        [$error, $result] = $m->call('boom');
        assertSame([-32603, 'boom!', null], [$error['code'], $error['message'], $result]);
        assertSame(['class', 'file', 'line'], array_keys($error['data']), 'what was thrown and where, over the wire');
        assertSame([null, 'after'], $m->call('echo', 'after'));
        [$error, $result] = $m->call('divide', [1, 0]);
        assertSame([-32603, 'Division by zero', 'DivisionByZeroError'], [$error['code'], $error['message'], $error['data']['class']]);
        assertSame([null, 3], $m->call('divide', [7, 2]));
        [$error, $result] = $m->call('closure');
        assertSame(-32603, $error['code'] ?? null);
        assertContains("Serialization of 'Closure' is not allowed", $error['message']);
        assertSame(null, $result);
        assertSame([null, 'still serving'], $m->call('echo', 'still serving'));
        assertContains('method "boom" threw RuntimeException: boom!', $m->stderr());
    });
});

test('resetters run after each call, errors included; a failing resetter does not kill the worker', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        assertSame(0, $m->result('resets'));
        $m->call('echo', 1);
        $m->call('boom');
        $m->call('nope');
        assertSame(4, $m->result('resets'), 'resets after resets/echo/boom/nope');
        assertSame('scoped', $m->result('set_global', 'scoped'));
        assertSame(null, $m->result('get_global'), 'the resetter cleared the global');
        assertSame(true, $m->result('arm_bad_resetter'));
        assertSame([null, 'ok'], $m->call('echo', 'ok'));
        assertSame(9, $m->result('resets'));
        assertContains('resetter threw LogicException: resetter failure (expected by the tests)', $m->stderr());
    });
});

test('http.handle: binary bodies byte-exact both ways, multi-valued headers, captured output', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $body = '';
        for ($i = 0; $i < 4096; $i++) {
            $body .= chr(($i * 7 + 3) % 256);
        }
        $body = "\x00\xff\xc0\xc1" . $body . "\r\n";
        $result = $m->result('http.handle', [
            'method' => 'PUT',
            'uri' => '/body?a=1&b=2',
            'headers' => ['Content-Type' => 'application/octet-stream', 'X-Other' => 'y'],
            'body' => $body,
        ]);
        assertSame(201, $result['status']);
        assertTrue($result['body'] === $body, 'binary body came back byte-exact');
        assertSame(['a=1', 'b=2'], $result['headers']['Set-Cookie']);
        assertSame('PUT', $result['headers']['X-Method']);
        assertSame('a=1&b=2', $result['headers']['X-Query']);
        assertSame('2', $result['headers']['X-Header-Count']);
        assertSame('application/octet-stream', $result['headers']['X-Content-Type']);

        // Empty headers as PHP sends them (an empty array) and an empty body.
        $result = $m->result('http.handle', ['method' => 'GET', 'uri' => '/print', 'headers' => [], 'body' => '']);
        assertSame(['status' => 200, 'headers' => [], 'body' => 'printed GET'], $result);
        assertSame('returned + printed', $m->result('http.handle', ['method' => 'GET', 'uri' => '/mixed', 'headers' => [], 'body' => ''])['body']);
        assertSame(404, $m->result('http.handle', ['method' => 'GET', 'uri' => '/nowhere', 'headers' => [], 'body' => ''])['status']);
    });
});

test('http(): an exception the handler does not catch answers as PHP-FPM does (the output, 500, PHP\'s error on stderr), large output included; the worker serves on', function (): void {
    withTempDirWorker('uncaught', ['-d', 'display_errors=0', '-d', 'memory_limit=32M'], function (TestMaster $m, string $tmp): void {
        $http = static fn (string $uri): array => ['method' => 'GET', 'uri' => $uri, 'headers' => [], 'body' => ''];
        $headers = extension_loaded('ffi') ? ['X-Before' => '1'] : []; // header() lines, where PHP keeps them (CliHeaders)
        assertSame([null, ['status' => 500, 'headers' => $headers, 'body' => 'printed, then an exception']], $m->call('http.handle', $http('/throw')));
        waitUntil(static fn (): bool => str_contains($m->stderr(), 'PHP Fatal error:  Uncaught RuntimeException: http handler failed in ' . TEST_WORKER . ':'),
            5.0, 'PHP\'s error on the worker\'s stderr');
        assertTrue(!str_contains($m->stdout(), 'printed, then'), 'the output is the answer\'s, not stdout\'s');
        // The exception handler the application set answers instead; the next request has PHP's again (RequestState).
        assertSame([null, ['status' => 503, 'headers' => $headers, 'body' => 'printed, then an exception; handled: http handler failed']],
            $m->call('http.handle', $http('/throw?handler=1')));
        assertSame(500, $m->result('http.handle', $http('/throw'))['status']);

        // 40 MiB printed by a handler whose PHP may hold 32 MiB, then the exception: all of it, in
        // parts read from the temporary file, with 500.
        [$status, , $got, $sum, , $error] = hugeCall($m, 900, '/huge?mb=40&throw=1', true);
        assertSame([null, 500], [$error, $status]);
        assertSame(hugeBody(40, ''), [$got, $sum]);
        assertSame([], array_values(array_diff(scandir($tmp), ['.', '..'])), 'no temporary file left');
        assertContains('Uncaught RuntimeException: failed after printing', $m->stderr());

        assertSame('printed GET', $m->result('http.handle', $http('/print'))['body'], 'the worker serves on');
        assertTrue($m->running(), 'the same process');
    });
});

test('http.handle: output printed after the handler closed every buffer (readfile() in a download script) is the answer\'s, as under PHP-FPM (with ext-ffi), not stdout\'s', function (): void {
    if (!extension_loaded('ffi')) {
        skip('needs ext-ffi (php -n loads none)');
    }
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $script = (string) file_get_contents(__DIR__ . '/fixtures/test-worker.php');
        $request = ['method' => 'GET', 'uri' => '/unbuffered', 'headers' => [], 'body' => ''];
        assertSame('printed past every buffer, ' . $script . ', then buffered', $m->result('http.handle', $request)['body']);
        assertSame('printed GET', $m->result('http.handle', ['uri' => '/print'] + $request)['body'], 'the next call is as before');
        [$error, $result] = $m->callExiting('http.handle', ['uri' => '/unbuffered?exit=1'] + $request);
        assertSame(null, $error);
        assertSame('printed past every buffer, ' . $script, $result['body']);
        $m->waitExit();
        assertTrue(!str_contains($m->stdout(), 'past every buffer'), 'nothing went to stdout: ' . $m->stdout());
    });
});

/**
 * Sends one http.handle call and reads its answer, streamed or not, without holding its body:
 * [status, headers, body length, md5 of the body, number of parts, error].
 */
/**
 * Runs $test against a ready test worker whose TMPDIR is a directory of its own (passed too),
 * with the worker's stderr added to a failure; stops the worker and removes the directory after.
 *
 * @param list<string> $phpArgs
 */
function withTempDirWorker(string $name, array $phpArgs, callable $test): void
{
    $tmp = sys_get_temp_dir() . '/folk-' . $name . '-' . getmypid();
    @mkdir($tmp);
    $m = TestMaster::start(TEST_WORKER, env: ['TMPDIR' => $tmp], phpArgs: $phpArgs);
    try {
        $m->ready();
        $test($m, $tmp);
    } catch (AssertionFailed $e) {
        throw new AssertionFailed($e->getMessage() . "\nworker stderr:\n" . $m->stderr(), 0, $e);
    } finally {
        $m->close();
        array_map('unlink', glob($tmp . '/*') ?: []);
        @rmdir($tmp);
    }
}

function hugeCall(TestMaster $m, int $id, string $uri, bool $stream): array
{
    $params = ['method' => 'GET', 'uri' => $uri, 'headers' => [], 'body' => ''] + ($stream ? ['stream' => true] : []);
    $m->send(MessagePack::codec()->pack([0, $id, 'http.handle', $params]));
    $hash = hash_init('md5');
    $length = $parts = 0;
    $head = null;
    while (true) {
        $message = $m->receive(60.0);
        if ($message[0] === 1) {
            assertSame($id, $message[1], 'response msgid');
            [, , $error, $result] = $message;
            if ($result !== null) {
                $head ??= $result;
                hash_update($hash, $result['body']);
                $length += strlen($result['body']);
            }
            return [$head['status'] ?? null, $head['headers'] ?? null, $length, hash_final($hash), $parts, $error];
        }
        assertTrue($stream && $message[0] === 2, 'a part only when asked for: ' . show($message[1] ?? $message));
        if ($message[1] === 'http.head') {
            assertSame(null, $head, 'one head');
            $head = $message[2];
        } else {
            assertSame('http.body', $message[1]);
            assertTrue($head !== null, 'the head comes first');
            hash_update($hash, $message[2]);
            $length += strlen($message[2]);
            $parts++;
        }
    }
}

/** The length and md5 of what /huge?mb=$mb answers: $returned, then $mb MiB, MiB k the letter A+k%26. */
function hugeBody(int $mb, string $returned = 'returned:'): array
{
    $hash = hash_init('md5');
    hash_update($hash, $returned);
    for ($k = 0; $k < $mb; $k++) {
        hash_update($hash, str_repeat(chr(65 + $k % 26), 1 << 20));
    }
    return [strlen($returned) + ($mb << 20), hash_final($hash)];
}

test('http(): output far past memory_limit arrives whole, in parts read from a temporary file that is gone after the call; without parts, a body fits in a frame or fails saying why', function (): void {
    withTempDirWorker('huge', ['-d', 'memory_limit=32M'], function (TestMaster $m, string $tmp): void {
        [$length, $md5] = hugeBody(64);
        // 64 MiB printed with echo by a handler whose PHP may hold 32 MiB: its own status and headers, then all of it.
        [$status, $headers, $got, $sum, $parts, $error] = hugeCall($m, 1, '/huge?mb=64', true);
        assertSame(null, $error, 'no error; worker stderr: ' . $m->stderr());
        assertSame([201, 'yes'], [$status, $headers['X-Huge'] ?? null]);
        assertSame([$length, $md5], [$got, $sum], 'the body, byte for byte');
        assertTrue($parts >= 64, "sent in parts of at most 1 MiB, got $parts");
        assertSame([], array_values(array_diff(scandir($tmp), ['.', '..'])), 'no temporary file left');
        $hwm = is_readable("/proc/{$m->pid()}/status") && preg_match('/VmHWM:\s+(\d+) kB/', (string) file_get_contents("/proc/{$m->pid()}/status"), $kb)
            ? (int) $kb[1] : 0;
        assertTrue($hwm < (64 << 10), "the worker's peak RSS stays below what it printed: $hwm kB");

        // Discarded with ob_clean(), however much of it went to the file.
        [$status, , $got, $sum] = hugeCall($m, 2, '/huge?mb=8&clean=1', true);
        assertSame([201, 33, md5('returned:printed after ob_clean()')], [$status, $got, $sum]);

        // Printed past every output buffer (a download script's way, with ext-ffi): the same.
        if (extension_loaded('ffi')) {
            [$status, , $got, $sum, , $error] = hugeCall($m, 3, '/huge?mb=40&unbuffered=1', true);
            assertSame([null, 201], [$error, $status], 'worker stderr: ' . $m->stderr());
            assertSame(hugeBody(40), [$got, $sum]);
        }

        // A master that takes no parts: the whole body in the answer while it fits in a frame...
        [$status, , $got, $sum, $parts, $error] = hugeCall($m, 4, '/huge?mb=6', false);
        assertSame([null, 201, 0], [$error, $status, $parts]);
        assertSame(hugeBody(6), [$got, $sum]);
        // ...else an error that says why and what to do, and the worker serves on.
        [, , , , , $error] = hugeCall($m, 5, '/huge?mb=17', false);
        assertSame(-32603, $error['code'] ?? null);
        assertContains('the answer\'s body of ' . (9 + (17 << 20)) . ' bytes is over what one frame can carry', $error['message']);
        assertContains('did not ask for a streamed answer', $error['message']);
        assertSame([], array_values(array_diff(scandir($tmp), ['.', '..'])), 'no temporary file left');
        assertSame('printed GET', $m->result('http.handle', ['method' => 'GET', 'uri' => '/print', 'headers' => [], 'body' => ''])['body']);

        // exit() after printing: what PHP-FPM sends (the output, 200), from the file too.
        [$status, , $got, $sum, , $error] = hugeCall($m, 7, '/huge?mb=40&exit=1', true);
        assertSame([null, 200], [$error, $status]);
        assertSame(hugeBody(40, ''), [$got, $sum]);
        $m->waitExit();
        assertSame([], array_values(array_diff(scandir($tmp), ['.', '..'])), 'no temporary file left');
    });
});

test('http.handle accepts a bin body and headers as an empty map, as a Java master may send them', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $p = new \Folk\Worker\MessagePack\Packer();
        $body = str_repeat(implode('', array_map('chr', range(255, 0))), 2);
        $m->send(
            "\x94\x00\x07" . $p->pack('http.handle')
            . "\x84" . $p->pack('method') . $p->pack('POST') . $p->pack('uri') . $p->pack('/body')
            . $p->pack('headers') . "\x80"                                // empty map, not an empty array
            . $p->pack('body') . "\xc5" . pack('n', strlen($body)) . $body, // bin16
        );
        [$type, $id, $error, $result] = $m->receive();
        assertSame([1, 7, null], [$type, $id, $error]);
        assertTrue($result['body'] === $body, 'bin body came back byte-exact');
        assertSame('0', $result['headers']['X-Header-Count']);
    });
});

test('dispatch is an alias of http.handle (registered before jobs.process)', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $result = $m->result('dispatch', ['method' => 'POST', 'uri' => '/print', 'headers' => ['A' => 'b'], 'body' => 'x']);
        assertSame('printed POST', $result['body']);
        assertSame(['job' => 7], $m->result('jobs.process', 7));
    });
});

test('output of other handlers goes to stdout without disturbing the protocol', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        assertSame('printed to stdout', $m->result('print', "hello stdout\n"));
        assertSame([null, 'next'], $m->call('echo', 'next'));
        waitUntil(fn (): bool => str_contains($m->stdout(), 'hello stdout'), 2.0, 'stdout has the text');
    });
});

test('an idle worker outlives default_socket_timeout, also in the middle of a frame', function (): void {
    $m = TestMaster::start(TEST_WORKER, phpArgs: ['-d', 'default_socket_timeout=1']);
    try {
        $m->ready();
        // The scenario, not synchronisation: idle for three times the socket timeout.
        usleep(3_000_000);
        assertTrue($m->running(), 'the idle worker still runs; stderr: ' . $m->stderr());
        assertSame([null, 'after idling'], $m->call('echo', 'after idling'));
        // A frame whose second half comes after more than the timeout: read whole, not cut.
        $codec = MessagePack::codec();
        $m->send($codec->pack([0, 7, 'echo', str_repeat('slow', 100)]), chunks: 2, pauseMicros: 1_500_000);
        assertSame([1, 7, null, str_repeat('slow', 100)], $m->receive());
        assertSame('', trim($m->stderr()), 'nothing logged');
    } finally {
        $m->close();
    }
});

test('closing the task channel makes the worker exit 0', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $m->call('echo', 1);
        $m->closeTasks();
        assertSame(0, $m->waitExit());
        assertSame('', trim($m->stderr()), 'a clean stop is silent');
    });
});

test('protocol errors end the worker with a non-zero code and a message', function (): void {
    $codec = MessagePack::codec();
    $cases = [
        'zero-length frame' => ["\0\0\0\0", 'zero-length frame'],
        'oversized frame' => [pack('N', 16 * 1024 * 1024 + 1), 'exceeds the 16777216 byte limit'],
        'undecodable payload' => [pack('N', 2) . "\xc1\x00", 'undecodable request payload'],
        'not a request' => [pack('N', strlen($p = $codec->pack([2, 'note', 1]))) . $p, 'expected a Request'],
        'bad msgid' => [pack('N', strlen($p = $codec->pack([0, -1, 'echo', 1]))) . $p, 'msgid is not an unsigned 32-bit int'],
        'truncated frame' => [pack('N', 100) . 'abc', 'end of stream after 3 of 100 payload bytes'],
    ];
    foreach ($cases as $name => [$bytes, $message]) {
        withWorker(function (TestMaster $m) use ($bytes, $message, $name): void {
            $m->ready();
            $m->sendRaw($bytes);
            if ($name === 'truncated frame') {
                $m->closeTasks();
            }
            assertSame(2, $m->waitExit(), $name);
            assertContains($message, $m->stderr(), $name);
        });
    }
});

test('without fds 3 and 4 the worker refuses to start and leaves its script alone', function (): void {
    $dir = sys_get_temp_dir() . '/folk-nofd-' . getmypid();
    @mkdir($dir);
    $script = $dir . '/worker.php';
    $source = "<?php\nrequire " . var_export(realpath(__DIR__ . '/../../main/php/autoload.php'), true) . ";\n(new Folk\\Worker\\Worker())->run();\n";
    file_put_contents($script, $source);
    try {
        $cases = [
            'fds 3 and 4 closed' => [0, null, 'task channel (fd 3)'],
            'fd 3 is the script file' => [0, $script, 'task channel (fd 3) is "' . $script . '", not a socket'],
            // PHP then opens its script at fd 4.
            'fd 4 closed' => [1, null, 'control channel (fd 4) is "' . $script . '", not a socket'],
        ];
        foreach ($cases as $name => [$channels, $fd3File, $message]) {
            $m = TestMaster::start($script, channels: $channels, fd3File: $fd3File);
            try {
                assertSame(1, $m->waitExit(), $name);
                assertContains($message, $m->stderr(), $name);
                if ($channels === 1) {
                    assertSame('', $m->drainTasks(), 'nothing was written on the task channel');
                }
                assertContains('must be started by a Folk master', $m->stderr(), $name);
                assertSame($source, file_get_contents($script), "$name: the script file is unchanged");
            } finally {
                $m->close();
            }
        }
    } finally {
        @unlink($script);
        @rmdir($dir);
    }
});

test('a worker leading its process group ends its children on EOF', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        assertSame($m->pid(), $m->result('info')['pgid'], 'the worker leads its own group');
        $child = $m->result('spawn_child');
        assertTrue(processAlive($child), 'the child runs');
        assertSame($m->pid(), processGroupOf($child), 'the child is in the worker group');
        $m->closeTasks();
        assertSame(0, $m->waitExit());
        waitUntil(fn (): bool => !processAlive($child), 2.0, "child $child is gone");
    }, ownGroup: true);
});

test('a child that ignores TERM is killed after the grace period', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $child = $m->result('spawn_child', ['ignore_term' => true]);
        // Wait until the shell has installed the trap and exec'd sleep.
        waitUntil(fn (): bool => trim((string) @file_get_contents("/proc/$child/comm")) === 'sleep', 2.0, 'the child runs sleep');
        $start = hrtime(true);
        $m->closeTasks();
        assertSame(0, $m->waitExit());
        $elapsed = (hrtime(true) - $start) / 1e9;
        waitUntil(fn (): bool => !processAlive($child), 2.0, "child $child is gone");
        assertTrue($elapsed < 2.0, sprintf('stop took %.2f s', $elapsed));
        assertContains('survived TERM', $m->stderr());
    }, ownGroup: true);
});

test('a worker that does not lead its process group never signals it', function (): void {
    $child = null;
    try {
        withWorker(function (TestMaster $m) use (&$child): void {
            $m->ready();
            assertTrue($m->result('info')['pgid'] !== $m->pid(), 'the worker shares the test runner group');
            $child = $m->result('spawn_child');
            $m->closeTasks();
            assertSame(0, $m->waitExit());
            assertTrue(processAlive($child), 'the child of a non-leader survives its exit');
        });
    } finally {
        if ($child !== null) {
            killPid($child);
        }
    }
});

test('deferred work runs after the response is written (a framework terminate() does not delay it)', function (): void {
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $dir = HttpCompare::tempDir('folk-defer-');
        try {
            // The deferred task waits for "go", which only exists once we have the response:
            // had the worker run it first, the response would come after its 10 s timeout.
            assertSame([null, 'answered'], $m->call('deferred', $dir, 5.0));
            touch("$dir/go");
            waitUntil(static fn (): bool => is_file("$dir/done"), 10.0, 'the deferred task finishes');
            assertSame('after the response', file_get_contents("$dir/done"));
            assertSame([null, 'hi'], $m->call('echo', 'hi'), 'the worker serves on');
        } finally {
            HttpCompare::removeTree($dir);
        }
    });
});

test('backtrace: SIGUSR2 mid-call writes the PHP stack to stderr between markers; the call goes on', function (): void {
    if (!function_exists('pcntl_signal')) {
        skip('no ext-pcntl: the worker does not declare the backtrace feature');
    }
    withWorker(function (TestMaster $m): void {
        $m->ready();
        $release = tempnam(sys_get_temp_dir(), 'folk-release-');
        unlink($release);
        try {
            $m->send(MessagePack::codec()->pack([0, 41, 'spin_until', $release]));
            // Until the worker reads the request, a signal finds msgid '-'; once it has, the signal
            // may still land before the handler runs (in resolve()). Signal until a block for 41
            // shows the handler's frame, then check that block's shape.
            $block = null;
            waitUntil(function () use ($m, &$block): bool {
                signalUsr2($m->pid());
                usleep(20000);
                if (preg_match_all('/^folk-backtrace-begin pid=\d+ msgid=41\n(.*?)^folk-backtrace-end$/ms', $m->stderr(), $g) === 0) {
                    return false;
                }
                $block = end($g[1]);
                return str_contains($block, ' spin()');
            }, 5.0, 'a backtrace block for request 41 inside spin() on stderr');
            $lines = explode("\n", trim($block));
            assertTrue(preg_match('~^#0 .*fixtures/test-worker\.php:\d+ spin\(\)$~', $lines[0]) === 1, 'innermost frame is spin(): ' . $block);
            assertContains('{closure}()', $block);
            assertContains('Folk\\Worker\\Worker->call()', $block);
            assertTrue(str_ends_with(end($lines), '{main}'), 'outermost frame is {main}: ' . $block);
            touch($release);
            assertSame([1, 41, null, 'released'], $m->receive(), 'the interrupted call still answers');
            assertSame([null, 'hi'], $m->call('echo', 'hi'));
        } finally {
            @unlink($release);
        }
    });
});
