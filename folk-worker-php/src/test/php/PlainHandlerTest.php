<?php

/*
 * The plain `http()` handler (Http\HttpHandler) against PHP-FPM: the same classic script
 * (apps/plain) served by nginx + PHP-FPM (fpm/serve.sh) and by a worker's http() handler, fed
 * `http.handle` params as the gateway sends them. Status, headers and body must be equal.
 */

declare(strict_types=1);

namespace Folk\Worker\Tests;

const PLAIN_APP = __DIR__ . '/apps/plain';

/** Runs $body with the script served by PHP-FPM (port, its error log) and by a worker; shared by the tests of this file. */
function withPlainApp(\Closure $body): void
{
    static $fixture = null;
    if ($fixture === null) {
        if (($why = HttpCompare::missing(['php-fpm' => '/usr/sbin/php-fpm8.2', 'nginx' => '/usr/sbin/nginx'], frameworks: false)) !== null) {
            skip($why);
        }
        if (!extension_loaded('ffi')) {
            skip('needs ext-ffi (php -n loads none): the script\'s header() lines are the answer\'s through Bridge\CliHeaders');
        }
        $dir = HttpCompare::tempDir('folk-plain-');
        $port = HttpCompare::startFpm(PLAIN_APP, $dir . '/fpm');
        $worker = HttpCompare::startWorker(PLAIN_APP . '/worker.php', $dir . '/worker');
        $fixture = [$port, $worker, $dir];
        register_shutdown_function(static function () use ($worker, $dir): void {
            $worker->close();
            HttpCompare::stopFpm($dir . '/fpm');
            HttpCompare::removeTree($dir);
        });
        $worker->ready();
    }
    [$port, $worker, $dir] = $fixture;
    $body($port, $worker, $dir . '/fpm/php-errors.log');
}

test('an exception a plain http() handler does not catch answers as under PHP-FPM: the output, 500, the header() lines, PHP\'s log line; the application\'s exception handler; the worker serves on', function (): void {
    withPlainApp(function (int $port, TestMaster $worker, string $fpmLog): void {
        $script = realpath(PLAIN_APP . '/script.php');
        $throwLine = 0;
        foreach (file($script) as $i => $text) {
            if (str_contains($text, "throw new \\RuntimeException('not caught')")) {
                $throwLine = $i + 1;
            }
        }
        $logLine = "PHP Fatal error:  Uncaught RuntimeException: not caught in $script:$throwLine";

        // display_errors off (the comparison's settings): 500 and what was printed, the error logged.
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/?throw=1');
        assertSame([500, "printed before the exception\n"], [$ours['status'], $ours['body']]);
        assertTrue(in_array(['X-Before', '1'], $ours['headers'], true), 'the header() line sent before: ' . show($ours['headers']));
        waitUntil(static fn (): bool => str_contains((string) @file_get_contents($fpmLog), $logLine), 5.0, 'PHP-FPM\'s log line');
        waitUntil(static fn (): bool => str_contains($worker->stderr(), $logLine), 5.0, "the worker's log line on its stderr: " . $worker->stderr());
        $logged = substr_count($worker->stderr(), 'PHP Fatal error:');

        // A status the script set stays.
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/?throw=1&status=403');
        assertSame(403, $ours['status']);
        // The exception handler the application set answers instead: its status and output, nothing logged.
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/?throw=1&handler=1');
        assertSame([503, "printed before the exception\nhandled: not caught\n"], [$ours['status'], $ours['body']]);
        // display_errors on: PHP's rule keeps 200, and the error is printed as PHP prints it (the
        // stack traces differ: PHP-FPM's is the front controller's, the worker's its loop's).
        $mask = static fn (string $s): string => preg_replace('/\nStack trace:\n.*?\n  thrown in /s', "\nStack trace: <frames>\n  thrown in ", $s);
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/?throw=1&display=1', mask: $mask);
        assertSame(200, $ours['status']);
        assertTrue(str_starts_with($ours['body'], "printed before the exception\n\nFatal error: Uncaught RuntimeException: not caught in $script:$throwLine\n"), $ours['body']);
        assertSame($logged + 2, substr_count($worker->stderr(), 'PHP Fatal error:'), 'logged for the 403 and the displayed one, not for the handled one');

        // The same worker process serves the next request, as it was.
        HttpCompare::assertSameResponse($port, $worker, 'GET', '/');
        assertTrue($worker->running(), 'the worker goes on');
    });
});

test('a file a request includes that PHP cannot parse answers as under PHP-FPM: "Parse error" with its file and line, no "Uncaught", no stack trace; the worker serves on', function (): void {
    withPlainApp(function (int $port, TestMaster $worker, string $fpmLog): void {
        $file = realpath(PLAIN_APP . '/syntax-error.inc');
        $logLine = 'PHP Parse error:  syntax error, unexpected variable "$y" in ' . $file . ' on line 5';
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/?throw=1&parse=1');
        assertSame([500, "printed before the exception\n"], [$ours['status'], $ours['body']]);
        waitUntil(static fn (): bool => str_contains((string) @file_get_contents($fpmLog), $logLine), 5.0, 'PHP-FPM\'s log line');
        waitUntil(static fn (): bool => str_contains($worker->stderr(), $logLine), 5.0, "the worker's log line: " . $worker->stderr());
        // display_errors on: the page shows it as PHP-FPM's does, byte for byte.
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/?throw=1&parse=1&display=1');
        assertSame([200, "printed before the exception\n\nParse error: syntax error, unexpected variable \"\$y\" in $file on line 5\n"],
            [$ours['status'], $ours['body']]);
        assertTrue(!str_contains($worker->stderr(), 'Uncaught ParseError'), $worker->stderr());
        HttpCompare::assertSameResponse($port, $worker, 'GET', '/');
        assertTrue($worker->running(), 'the worker goes on');
    });
});

test('a plain http() handler\'s CGI "Status:" line sets the status, as PHP-FPM and nginx take it, and is not sent as a header', function (): void {
    withPlainApp(function (int $port, TestMaster $worker): void {
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/?cgi_status=404%20Not%20Found');
        assertSame(404, $ours['status'], show($ours['headers']));
        // Beside a Location, which alone would be a 302.
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/?cgi_status=301&location=/new');
        assertSame(301, $ours['status'], show($ours['headers']));
        // Last, as exit() ends this worker: the answer PHP makes at exit takes it too.
        $uri = '/?cgi_status=404%20Not%20Found&exit=1';
        $headers = [['Host', HttpCompare::HOST]];
        $fpm = HttpCompare::fpmRequest($port, 'GET', $uri, $headers, '');
        [$error, $result] = $worker->callExiting('http.handle', HttpCompare::params('GET', $uri, $headers, ''));
        assertSame(null, $error);
        $ours = ['status' => $result['status'], 'headers' => array_map(null, array_keys($result['headers']), array_values($result['headers'])),
            'body' => $result['body']];
        assertSame(HttpCompare::comparable($fpm), HttpCompare::comparable($ours));
        assertSame(404, $ours['status'], show($ours['headers']));
    });
});
