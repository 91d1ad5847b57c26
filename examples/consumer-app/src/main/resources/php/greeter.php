<?php
// The PHP side of the greeter: one worker script, started and supervised by the pool.
declare(strict_types=1);

require getenv('FOLK_WORKER_PHP'); // folk-worker-php, extracted by the starter

$worker = new Folk\Worker\Worker();
$worker->register('greet.hello', fn (array $params): array => [
    'greeting' => 'Hello, ' . $params['name'] . '!',
    'php' => PHP_VERSION,
    'pid' => getmypid(),
]);
$worker->run();
