<?php
// The sample app's PHP side: one worker script, started by the pool, serving the HTTP gateway's
// requests under /php (http.handle) and a plain function for the JSON API (stats.describe).
// The routes under /php/demo/ are demos and test aids: most harm their worker on purpose, for the
// live page's buttons; /php/demo/large only answers a large body, for the slow-client tests.
declare(strict_types=1);

// FOLK_WORKER_PHP points at folk-worker-php's autoload.php, extracted by the starter.
require getenv('FOLK_WORKER_PHP') ?: __DIR__ . '/../../../../../folk-worker-php/src/main/php/autoload.php';

use Folk\Worker\Http\Request;
use Folk\Worker\Http\Response;
use Folk\Worker\Worker;

$served = 0;
$startedAt = microtime(true);

$worker = new Worker();

$worker->http(function (Request $request) use (&$served, $startedAt) {
    $served++;
    // Below the application's context path, if it has one (server.servlet.context-path): the
    // gateway gives PHP that path as SCRIPT_NAME and the rest as PATH_INFO, as nginx would.
    $path = $request->server('SCRIPT_NAME', '') === '' ? $request->path() : $request->server('PATH_INFO', '/');
    switch ($path) {
        case '/php/hello':
            return new Response('Hello from PHP ' . PHP_VERSION . ' (worker ' . getmypid() . ")\n", 200,
                ['Content-Type' => 'text/plain; charset=utf-8']);

        case '/php/echo':
            // Bytes in, the same bytes out: binary-safe both ways.
            return new Response($request->body, 200,
                ['Content-Type' => $request->header('content-type') ?? 'application/octet-stream']);

        case '/php/headers':
            // What PHP received, and a multi-valued response header.
            return Response::json(['method' => $request->method, 'uri' => $request->uri, 'headers' => $request->headers])
                ->withAddedHeader('X-Folk-Demo', 'one')
                ->withAddedHeader('X-Folk-Demo', 'two');

        case '/php/info':
            return Response::json([
                'pid' => getmypid(),
                'served' => $served,
                'uptime_s' => round(microtime(true) - $startedAt, 3),
                'memory' => memory_get_usage(true),
                'php' => PHP_VERSION,
                'msgpack' => extension_loaded('msgpack') ? 'ext-msgpack' : 'pure PHP',
            ]);

        case '/php/demo/sleep':
            $ms = max(0, min(60000, (int) ($request->query()['ms'] ?? 1000)));
            // Sleep until the time is up: a signal cuts usleep() short, and the pool sends one to
            // take PHP's stack when a call runs past folk.slow-call-threshold.
            $until = hrtime(true) + $ms * 1000000;
            while (($left = $until - hrtime(true)) > 0) {
                usleep(intdiv($left, 1000) + 1);
            }
            return "Slept {$ms} ms in worker " . getmypid() . "\n";

        case '/php/demo/large':
            // A demo/test route: a large answer (?kb=, default 512, 1 to 4096), so that a client can
            // ask for more than its socket takes and not read it (SlowClientsTest). PHP is done with it
            // at once; the gateway writes it without holding a thread while the client does not read.
            $kb = max(1, min(4096, (int) ($request->query()['kb'] ?? 512)));
            return new Response(str_repeat('0123456789abcdef', 64 * $kb), 200,
                ['Content-Type' => 'text/plain; charset=utf-8']);

        case '/php/demo/fatal':
            // A real fatal error: memory exhaustion cannot be caught. The library answers the request as
            // PHP-FPM would (500, display_errors being off), then the PHP process ends and is replaced.
            ini_set('memory_limit', '32M');
            return (string) strlen(str_repeat('x', 64 * 1024 * 1024));

        case '/php/demo/crash':
            // The worker dies as if the OOM killer struck.
            posix_kill(getmypid(), SIGKILL);
            return 'unreachable';

        default:
            return new Response("No PHP page at {$path}\n", 404, ['Content-Type' => 'text/plain; charset=utf-8']);
    }
});

// A PHP function called from Java as a plain method: summary statistics of a list of numbers.
$worker->register('stats.describe', function ($numbers): array {
    if (!is_array($numbers) || $numbers === []) {
        throw new InvalidArgumentException('expected a non-empty list of numbers');
    }
    $numbers = array_map('floatval', array_values($numbers));
    sort($numbers);
    $n = count($numbers);
    $mean = array_sum($numbers) / $n;
    $variance = array_sum(array_map(fn ($x) => ($x - $mean) ** 2, $numbers)) / $n;
    $median = $n % 2 ? $numbers[intdiv($n, 2)] : ($numbers[$n / 2 - 1] + $numbers[$n / 2]) / 2;
    return [
        'count' => $n,
        'min' => $numbers[0],
        'max' => $numbers[$n - 1],
        'mean' => $mean,
        'median' => $median,
        'stddev' => sqrt($variance),
        'computed_by' => 'PHP ' . PHP_VERSION . ', worker ' . getmypid(),
    ];
});

$worker->run();
