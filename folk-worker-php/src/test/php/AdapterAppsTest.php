<?php

/*
 * The framework adapters end to end, against software nobody here wrote: a small application
 * on each framework Debian packages (apps/slim: Slim 3 + nyholm/psr7 through the PSR-15
 * adapter; apps/symfony: HttpKernel + Routing + HttpFoundation sessions through the Symfony
 * Runtime; apps/laravel: Laravel 8 through the Kernel adapter) is served by nginx + PHP-FPM
 * (fpm/serve.sh, the reference) and by a worker fed `http.handle` params as the gateway's
 * contract says. For every request status, body and headers must be equal (Date, Server and
 * the gateway-managed ones aside; session ids and cookie dates masked: they are random or
 * time-dependent by design).
 */

declare(strict_types=1);

namespace Folk\Worker\Tests;

const APPS = __DIR__ . '/apps';

/** The applications: directory, worker command, Debian packages they need, worker environment. */
function adapterApps(): array
{
    return [
        'slim' => ['packages' => ['php-slim' => '/usr/share/php/Slim/App.php', 'php-nyholm-psr7' => '/usr/share/php/Nyholm/Psr7/Factory/Psr17Factory.php'],
            'worker' => APPS . '/slim/worker.php', 'env' => []],
        'symfony' => ['packages' => ['php-symfony-http-kernel' => '/usr/share/php/Symfony/Component/HttpKernel/HttpKernel.php',
            'php-symfony-routing' => '/usr/share/php/Symfony/Component/Routing/Router.php',
            'php-symfony-runtime' => '/usr/share/php/Symfony/Component/Runtime/SymfonyRuntime.php'],
            'worker' => APPS . '/symfony/public/index.php', 'env' => ['APP_RUNTIME' => 'Folk\\Worker\\Symfony\\Runtime'], 'prepend' => true],
        'symfony-framework' => ['packages' => ['php-symfony-framework-bundle' => '/usr/share/php/Symfony/Bundle/FrameworkBundle/FrameworkBundle.php',
            'php-symfony-runtime' => '/usr/share/php/Symfony/Component/Runtime/SymfonyRuntime.php'],
            'worker' => APPS . '/symfony-framework/public/index.php', 'env' => ['APP_RUNTIME' => 'Folk\\Worker\\Symfony\\Runtime'], 'prepend' => true],
        'laravel' => ['packages' => ['php-laravel-framework' => '/usr/share/php/Illuminate/Foundation/Application.php'],
            'worker' => APPS . '/laravel/worker.php', 'env' => []],
    ];
}

/** Masks what is random or time-dependent by design: session ids, dates. */
function maskVolatile(string $value): string
{
    $value = preg_replace('/\b(PHPSESSID|FOLKSESSID|laravel_session)=[^;\s"]+/', '$1=<session-id>', $value);
    $value = preg_replace('/\b\w{3}, \d{2}[ -]\w{3}[ -]\d{4} \d{2}:\d{2}:\d{2} GMT\b/', '<date>', $value);
    return preg_replace('/Max-Age=\d+/i', 'Max-Age=<n>', $value);
}

/** Runs $body with the app under PHP-FPM (its port) and in a worker; both are shared by the tests of an app. */
function withApp(string $name, \Closure $body): void
{
    static $running = [];
    $app = adapterApps()[$name];
    if (($why = HttpCompare::missing($app['packages'] + ['php-fpm' => '/usr/sbin/php-fpm8.2', 'nginx' => '/usr/sbin/nginx'])) !== null) {
        skip($why);
    }
    if (!isset($running[$name])) {
        $dir = HttpCompare::tempDir("folk-$name-");
        $port = HttpCompare::startFpm(APPS . "/$name", "$dir/fpm");
        $master = HttpCompare::startWorker($app['worker'], "$dir/worker", $app['env'], ($app['prepend'] ?? false)
            ? ['-d', 'auto_prepend_file=' . realpath(__DIR__ . '/../../main/php/autoload.php')] : []);
        register_shutdown_function(static function () use ($master, $dir): void {
            $master->close();
            HttpCompare::stopFpm("$dir/fpm");
            HttpCompare::removeTree($dir);
        });
        $running[$name] = [$port, $master, $dir];
        assertSame(readyParams($master->pid()), $master->ready(30.0));
    }
    [$port, $master, $dir] = $running[$name];
    try {
        $body($port, $master, $dir);
    } catch (AssertionFailed $e) {
        throw new AssertionFailed($e->getMessage() . "\nworker stderr:\n" . substr($master->stderr(), 0, 3000), 0, $e);
    }
}

/** The Set-Cookie value of a session cookie (name=value), or null. */
function sessionCookie(array $response): ?string
{
    foreach ($response['headers'] as [$name, $value]) {
        if (strcasecmp($name, 'Set-Cookie') === 0 && preg_match('/^(PHPSESSID|FOLKSESSID|laravel_session)=[^;]+/', $value, $m) === 1) {
            return $m[0];
        }
    }
    return null;
}

foreach (array_keys(adapterApps()) as $appName) {
    test("$appName: every request answers like PHP-FPM (HTML, JSON, form, upload, redirect, 404, 500)", function () use ($appName): void {
        withApp($appName, function (int $port, TestMaster $worker, string $dir): void {
            $tmp = "$dir/worker/tmp";
            $same = static fn (string $method, string $uri, array $headers = [], string $body = ''): array
                => HttpCompare::assertSameResponse($port, $worker, $method, $uri, $headers, $body, maskVolatile(...));

            [, $ours] = $same('GET', '/');
            assertSame(200, $ours['status']);
            assertContains('Hello from', $ours['body']);
            [, $ours] = $same('GET', '/json?x=1&y[]=2&y[]=3', [['Accept', 'application/json']]);
            assertSame(['1'], array_values(array_slice(json_decode($ours['body'], true)['query'], 0, 1)));
            [, $ours] = $same('POST', '/form', [['Content-Type', 'application/x-www-form-urlencoded'], ['Cookie', 'theme=dark; a.b=1']],
                'name=Ada+Lovelace&tags[]=a&tags[]=b&nested[k]=v&utf=%E2%82%AC');
            $form = json_decode($ours['body'], true);
            assertSame('Ada Lovelace', $form['fields']['name']);
            assertSame(['a', 'b'], $form['fields']['tags']);
            $b = 'AppBoundary';
            $upload = HttpCompare::multipart($b, [
                ['title', 'holiday'], ['file', "first\x00file", 'one.bin', 'application/octet-stream'],
                ['docs[]', 'doc a', 'a.txt', 'text/plain'], ['docs[]', 'doc b', 'b.txt', 'text/plain'],
                ['big', str_repeat('x', 1024 * 1024 + 10), 'big.txt', 'text/plain'],
            ]);
            [, $ours] = $same('POST', '/upload', [['Content-Type', "multipart/form-data; boundary=$b"]], $upload);
            $files = json_decode($ours['body'], true)['files'];
            assertSame(sha1("first\x00file"), $files['file']['sha1']);
            assertSame(UPLOAD_ERR_INI_SIZE, $files['big']['error']);
            assertSame(sha1('doc b'), $files['docs'][1]['sha1']);
            [, $ours] = $same('GET', '/redirect');
            assertSame(302, $ours['status']);
            [, $ours] = $same('GET', '/does-not-exist');
            assertSame(404, $ours['status']);
            [, $ours] = $same('GET', '/exception');
            assertSame(500, $ours['status']);
            assertTrue(!str_contains($ours['body'], 'this route always fails'), 'production error page without details');
            // The upload temporary files are gone once the response is sent and the next request served.
            $same('GET', '/');
            assertSame([], array_values(array_diff(scandir($tmp), ['.', '..'])), 'upload temporary files removed');
        });
    });

    test("$appName: a form over max_input_vars (1000) and a query over it answer like PHP-FPM: the variables past it dropped, no error", function () use ($appName): void {
        withApp($appName, function (int $port, TestMaster $worker) use ($appName): void {
            // Admin forms that outgrow max_input_vars (a permission matrix, product variations) are a
            // known PHP failure: PHP-FPM drops the variables past it, logs a warning and runs the request.
            $fields = implode('&', array_map(static fn (int $i): string => "f$i=$i", range(1, 1005)));
            [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'POST', '/form',
                [['Content-Type', 'application/x-www-form-urlencoded']], $fields, maskVolatile(...));
            assertSame(200, $ours['status']);
            $parts = array_map(static fn (int $i): array => ["f$i", (string) $i], range(1, 1005));
            [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'POST', '/form',
                [['Content-Type', 'multipart/form-data; boundary=B0undary']], HttpCompare::multipart('B0undary', $parts),
                maskVolatile(...));
            assertSame(200, $ours['status']);
            // Within nginx's 8 KiB request line: 1005 values of one array. (Laravel answers it with a 500
            // under PHP-FPM too: Symfony's HeaderUtils::parseQuery() calls parse_str() itself.)
            [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/json?' . str_repeat('f[]=1&', 1005), [], '',
                maskVolatile(...));
            if ($appName !== 'laravel') {
                assertSame(1000, count(json_decode($ours['body'], true)['query']['f']));
            }
        });
    });

    test("$appName: a session survives two requests, like PHP-FPM, and does not leak into another client's", function () use ($appName): void {
        withApp($appName, function (int $port, TestMaster $worker, string $dir) use ($appName): void {
            $host = [['Host', HttpCompare::HOST]];
            // The lines kernel.terminate / Kernel::terminate() logged for /session (only this test requests it).
            $log = static fn (string $side): array => is_file("$dir/$side/app-state/terminated.log")
                ? array_values(preg_grep('#^terminate /session$#', file("$dir/$side/app-state/terminated.log", FILE_IGNORE_NEW_LINES))) : [];
            $fpm1 = HttpCompare::fpmRequest($port, 'GET', '/session', $host, '');
            $ours1 = HttpCompare::workerRequest($worker, 'GET', '/session', $host, '');
            assertSame(HttpCompare::comparable($fpm1, maskVolatile(...)), HttpCompare::comparable($ours1, maskVolatile(...)), 'first /session');
            $fpmCookie = sessionCookie($fpm1);
            $ourCookie = sessionCookie($ours1);
            assertTrue($fpmCookie !== null && $ourCookie !== null, 'both set a session cookie: ' . show([$fpm1['headers'], $ours1['headers']]));
            $fpm2 = HttpCompare::fpmRequest($port, 'GET', '/session', [...$host, ['Cookie', $fpmCookie]], '');
            $ours2 = HttpCompare::workerRequest($worker, 'GET', '/session', [...$host, ['Cookie', $ourCookie]], '');
            assertSame(HttpCompare::comparable($fpm2, maskVolatile(...)), HttpCompare::comparable($ours2, maskVolatile(...)), 'second /session');
            assertSame(2, json_decode($ours2['body'], true)['count'], 'the session counted the first request');
            // Another client, then the first again: each sees only its own session.
            $other = HttpCompare::workerRequest($worker, 'GET', '/session', $host, '');
            assertSame(1, json_decode($other['body'], true)['count'], 'a new client starts a new session');
            assertTrue(sessionCookie($other) !== $ourCookie, 'a new client gets a new session id');
            $ours3 = HttpCompare::workerRequest($worker, 'GET', '/session', [...$host, ['Cookie', $ourCookie]], '');
            assertSame(3, json_decode($ours3['body'], true)['count'], 'the first client continues its session');
            if ($appName !== 'slim') { // Slim 3 has no terminate step
                // terminate() ran for every request, on both sides, once the response was sent.
                waitUntil(static fn (): bool => count($log('worker')) >= 4 && count($log('fpm')) >= 2, 10.0, 'terminate() logged');
                assertSame(4, count($log('worker')), 'one terminate() per request in the worker');
                assertSame(2, count($log('fpm')), 'one terminate() per request under PHP-FPM');
            }
        });
    });
}

test('laravel: a flash made with redirect()->with() reaches the next request in every request, like PHP-FPM', function (): void {
    withApp('laravel', function (int $port, TestMaster $worker): void {
        $host = [['Host', HttpCompare::HOST]];
        // Two clients in turn: the redirector, made once, must flash into the session of the request
        // being served, not into the one of the request that first made it (lost there, never saved).
        foreach (['first', 'second', 'third'] as $note) {
            $fpm = HttpCompare::fpmRequest($port, 'GET', "/flash-redirect?note=$note", $host, '');
            $ours = HttpCompare::workerRequest($worker, 'GET', "/flash-redirect?note=$note", $host, '');
            assertSame(HttpCompare::comparable($fpm, maskVolatile(...)), HttpCompare::comparable($ours, maskVolatile(...)), "/flash-redirect?note=$note");
            $fpmNext = HttpCompare::fpmRequest($port, 'GET', '/session-ops', [...$host, ['Cookie', sessionCookie($fpm)]], '');
            $oursNext = HttpCompare::workerRequest($worker, 'GET', '/session-ops', [...$host, ['Cookie', sessionCookie($ours)]], '');
            assertSame(HttpCompare::comparable($fpmNext, maskVolatile(...)), HttpCompare::comparable($oursNext, maskVolatile(...)), "the request after the flash of $note");
            assertSame($note, json_decode($oursNext['body'], true)['all']['note'] ?? null, "the flash of $note reached the next request");
        }
    });
});

test('laravel: a request no route matches finds no current route, like PHP-FPM, not the previous request\'s', function (): void {
    withApp('laravel', function (int $port, TestMaster $worker): void {
        foreach (['/named-route', '/no-such-page?current-route=1'] as $uri) {
            [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', $uri, [], '', maskVolatile(...));
        }
        assertSame(['route' => null, 'uri' => null], json_decode($ours['body'], true), 'the 404 page\'s current route');
    });
});

test('laravel: each request gets its own controller instance, like PHP-FPM', function (): void {
    withApp('laravel', function (int $port, TestMaster $worker): void {
        // The route keeps the controller it made: what one request left in its properties (a user's
        // data) would be the next request's, whoever makes it.
        for ($i = 0; $i < 2; $i++) {
            [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/controller-calls', [], '', maskVolatile(...));
            assertSame(['calls' => 1], json_decode($ours['body'], true), "request $i");
        }
    });
});

test('laravel: a configuration key a request sets is gone for the next, like PHP-FPM, even in a request that first needs a deferred provider', function (): void {
    withApp('laravel', function (int $port, TestMaster $worker): void {
        // The worker's first request: set back after it, the configuration would keep the key with
        // what the provider added, and every later request would see the first one's value.
        foreach (['/config-key?set=first', '/config-key', '/config-key?set=third', '/config-key'] as $uri) {
            [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', $uri, [], '', maskVolatile(...));
        }
        assertSame(['key' => null, 'report' => 'csv'], json_decode($ours['body'], true), 'the last request');
    });
});

test('laravel: the callbacks of an auth guard a request made do not pile up in the container from request to request', function (): void {
    withApp('laravel', function (int $port, TestMaster $worker): void {
        // The auth manager registers refresh('request', $guard, 'setRequest') for each guard it makes:
        // kept, every guard (with its user and session store) would stay in the worker, and all of
        // them would be given each later request. Under PHP-FPM each request has one.
        $seen = [];
        for ($i = 1; $i <= 10; $i++) {
            [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/auth-guard', [], '', maskVolatile(...));
            $seen[$i] = json_decode($ours['body'], true);
            assertSame(null, $seen[$i]['user'], "request $i: a guest");
            assertSame(true, $seen[$i]['url has this request'], "request $i: the URL generator has the request");
        }
        assertSame($seen[2]['request rebound callbacks'], $seen[10]['request rebound callbacks'], 'rebound callbacks of request 2 and 10');
    });
});

test('laravel: a request whose exception leaves Kernel::handle() is set back like any other, as PHP-FPM\'s next request starts afresh', function (): void {
    withApp('laravel', function (int $port, TestMaster $worker): void {
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/report-fails', [], '', maskVolatile(...));
        assertSame(500, $ours['status'], 'the exception ended the request');
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/config-key', [], '', maskVolatile(...));
        assertSame(null, json_decode($ours['body'], true)['key'], 'the configuration key it set');
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/db/notes', [], '', maskVolatile(...));
        assertSame(0, json_decode($ours['body'], true)['transaction level'], 'the transaction it began');
    });
});

/**
 * GET $uri (a response whose streamed callback prints $lines lines, then throws) from PHP-FPM and
 * from the worker (asked for in parts or not): the same answer, with the status that went out
 * before the body and every line printed. Returns the worker's answer and what it was.
 *
 * @return array{0: array, 1: string}
 */
function sameAnswerToAThrowingStream(int $port, TestMaster $worker, string $uri, int $lines, bool $stream): array
{
    $host = [['Host', HttpCompare::HOST]];
    $fpm = HttpCompare::fpmRequest($port, 'GET', $uri, $host, '');
    $ours = $stream ? HttpCompare::workerStreamedRequest($worker, 'GET', $uri, $host, '')
        : HttpCompare::workerRequest($worker, 'GET', $uri, $host, '');
    $what = $uri . ($stream ? ', streamed' : '');
    assertSame(HttpCompare::comparable($fpm, maskVolatile(...)), HttpCompare::comparable($ours, maskVolatile(...)), $what);
    assertSame(200, $ours['status'], "$what: the status that went out before the body");
    assertContains("line " . ($lines - 1) . " zzz", $ours['body'], "$what: every line printed");
    return [$ours, $what];
}

test('laravel: an exception a streamed response\'s callback throws is handled as under PHP-FPM: the lines so far, Laravel\'s error page after them, logged', function (): void {
    withApp('laravel', function (int $port, TestMaster $worker, string $dir): void {
        $logged = static fn (string $side): int => is_file("$dir/$side/app-state/logs/laravel.log")
            ? substr_count((string) file_get_contents("$dir/$side/app-state/logs/laravel.log"), 'production.ERROR: export failed midway') : 0;
        // A few lines (the whole answer in one frame, asked for in parts or not), then past the size a
        // streamed answer sends on (its head and parts gone when the callback throws).
        foreach ([[10, false], [10, true], [20000, true]] as [$lines, $stream]) {
            [$ours, $what] = sameAnswerToAThrowingStream($port, $worker, "/stream-throw?lines=$lines", $lines, $stream);
            assertContains('Server Error', $ours['body'], "$what: Laravel's error page after them");
            if ($lines > 10) {
                assertTrue($ours['parts'] > 0, "$what: sent in parts before the exception");
            }
        }
        assertSame(3, $logged('fpm'), 'PHP-FPM\'s laravel.log');
        assertSame(3, $logged('worker'), 'the worker\'s laravel.log');
    });
});

test('laravel: an exception after the response, in terminate(), is logged by Laravel\'s handler as under PHP-FPM, and the next request is served as usual', function (): void {
    withApp('laravel', function (int $port, TestMaster $worker, string $dir): void {
        $logged = static fn (string $side): int => is_file("$dir/$side/app-state/logs/laravel.log")
            ? substr_count((string) file_get_contents("$dir/$side/app-state/logs/laravel.log"), 'production.ERROR: after-response work failed') : 0;
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/terminate-throw', [], '', maskVolatile(...));
        assertSame("answered\n", $ours['body']);
        waitUntil(static fn (): bool => $logged('fpm') >= 1 && $logged('worker') >= 1, 10.0, 'the exception logged');
        // The adapter's reset ran: the next request sees what PHP-FPM's does (no terminating callback of the earlier request).
        HttpCompare::assertSameResponse($port, $worker, 'GET', '/state', [], '', maskVolatile(...));
        assertSame([1, 1], [$logged('fpm'), $logged('worker')], 'logged once on each side');
    });
});

test('symfony: PHP\'s own error in a controller, which leaves HttpKernel::handle(), is answered as under PHP-FPM, and the worker serves on', function (): void {
    foreach (['symfony', 'symfony-framework'] as $appName) {
        withApp($appName, function (int $port, TestMaster $worker) use ($appName): void {
            [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/php-error', [], '', maskVolatile(...));
            assertSame(500, $ours['status'], "$appName: the error's status");
            HttpCompare::assertSameResponse($port, $worker, 'GET', '/json?after=error', [], '', maskVolatile(...));
        });
    }
});

// FrameworkBundle sends a StreamedResponse itself, in handle() (its StreamedResponseListener), and
// HttpKernel answers the exception with its own 500 response: a few lines are still in the worker's
// buffer then, as in PHP-FPM's with output_buffering on (Debian's php.ini), where that 500 goes out;
// with it off (this comparison's PHP-FPM) the 200 went with the first line. Past the size a streamed
// answer sends on, both have sent the 200.
foreach (['symfony' => [[10, false], [10, true], [20000, true]], 'symfony-framework' => [[20000, true]]] as $appName => $cases) {
    test("$appName: an exception a streamed response's callback throws is handled as under PHP-FPM: what was printed, the status sent, the handler's page after it", function () use ($appName, $cases): void {
        withApp($appName, function (int $port, TestMaster $worker) use ($cases): void {
            foreach ($cases as [$lines, $stream]) {
                sameAnswerToAThrowingStream($port, $worker, "/streamed-throw?lines=$lines", $lines, $stream);
            }
        });
    });
}

test('symfony-framework: the worker boots the kernel before control.ready; a kernel that cannot boot fails the boot', function (): void {
    $app = adapterApps()['symfony-framework'];
    if (($why = HttpCompare::missing($app['packages'])) !== null) {
        skip($why);
    }
    $prepend = ['-d', 'auto_prepend_file=' . realpath(__DIR__ . '/../../main/php/autoload.php')];
    $dir = HttpCompare::tempDir('folk-symfony-boot-');
    try {
        $master = HttpCompare::startWorker($app['worker'], "$dir/worker", $app['env'], $prepend);
        try {
            assertSame(readyParams($master->pid()), $master->ready(30.0));
            assertTrue(is_file("$dir/worker/app-state/symfony-framework/cache/prod/App_KernelProdContainer.php"),
                'the container was compiled before the worker said it was ready');
        } finally {
            $master->close();
        }
        // Its cache directory cannot be created: the kernel cannot boot, so neither does the worker.
        touch("$dir/not-a-directory");
        $broken = HttpCompare::startWorker($app['worker'], "$dir/broken", ['FOLK_APP_STATE' => "$dir/not-a-directory"] + $app['env'], $prepend);
        try {
            $code = $broken->waitExit(30.0);
            assertTrue($code !== 0, "a worker whose kernel cannot boot exits with an error, not $code");
            assertContains('cache', $broken->stderr(), 'its stderr names the cache directory');
        } finally {
            $broken->close();
        }
    } finally {
        HttpCompare::removeTree($dir);
    }
});
