<?php
// The PHP side of the greeter: one worker script, started and supervised by the pool.
declare(strict_types=1);

require getenv('FOLK_WORKER_PHP'); // folk-worker-php, extracted by the starter

use Folk\Worker\Http\{Request, Response};

$worker = new Folk\Worker\Worker();
// HTTP requests under /php/ (folk.http.mappings in application.yml), through the gateway.
$worker->http(fn (Request $r) => new Response("Hello from PHP at {$r->path()}\n"));
$worker->register('greet.hello', fn (array $params): array => [
    'greeting' => 'Hello, ' . $params['name'] . '!',
    'php' => PHP_VERSION,
    'pid' => getmypid(),
]);
$worker->run();
