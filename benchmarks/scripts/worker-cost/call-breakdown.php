<?php

/*
 * Where one http.handle call's time goes inside folk-worker-php, step by step: the steps of
 * Worker::serve()'s loop for a request (decode, the per-request state PHP-FPM would set back,
 * the handler, encode), run in this one process without sockets, on the gateway's params for
 * GET /php/hello and a handler that prints "Hello from PHP\n" (the hello route of fpm/www/worker.php).
 * worker-cost.php measures the whole call against the floor; this says which step costs what.
 *
 *     php benchmarks/scripts/worker-cost/call-breakdown.php [-n calls] [-r rounds]
 *
 * Prints the median over rounds of each step's wall time per call (hrtime around each step, whose
 * own cost, ~50 ns a step, is in the figures). It reaches into the Worker's private state the way
 * serve() sets it up: keep the steps below in step with serve() when its loop changes.
 */

declare(strict_types=1);

require __DIR__ . '/../../../folk-worker-php/src/main/php/autoload.php';

use Folk\Worker\DefaultStreamContext;
use Folk\Worker\Environment;
use Folk\Worker\Http\Request;
use Folk\Worker\Http\Response;
use Folk\Worker\RandomSeed;
use Folk\Worker\ShutdownFunctions;
use Folk\Worker\Worker;

$opts = getopt('n:r:h');
if (isset($opts['h'])) {
    fwrite(STDOUT, "usage: php call-breakdown.php [-n calls] [-r rounds]\n");
    exit(0);
}
$calls = (int) ($opts['n'] ?? 100000);
$rounds = (int) ($opts['r'] ?? 5);
$frame = msgpack_pack([0, 7, 'http.handle', require __DIR__ . '/hello-params.php']);

$worker = new Worker();
$worker->http(static function (Request $request): ?Response {
    $path = $request->path();
    $slash = strrpos($path, '/');
    if (($slash === false ? $path : substr($path, $slash + 1)) === 'hello') {
        echo "Hello from PHP\n";
        return null;
    }
    return new Response("Not found\n", 404);
});

$steps = ['decode', 'state begin', 'random seed', 'shutdown begin', 'handler call', 'encode', 'deferred',
    'shutdown end', 'state restore', 'env restore', 'stream context', 'total'];

/** @return list<float> ns per call of each step, in the order of $steps */
$round = function (string $frame, int $calls): array {
    $t = array_fill(0, 12, 0);
    for ($i = 0; $i < $calls; $i++) {
        $t0 = hrtime(true);
        [$msgid, $method, $params, $context] = $this->decodeRequest($frame);
        $this->aborted = false;
        $this->msgid = $msgid;
        $this->method = $method;
        $t1 = hrtime(true);
        $this->requestState?->begin();
        $t2 = hrtime(true);
        $this->randomSeed?->reset();
        $t3 = hrtime(true);
        $this->shutdownFunctions?->begin();
        error_clear_last();
        $this->callLevel = ob_get_level();
        $t4 = hrtime(true);
        [$error, $result] = $this->call($method, $params, $context);
        $t5 = hrtime(true);
        $this->msgid = null;
        $answer = $this->encodeResponse($msgid, $error, $result);
        $t6 = hrtime(true);
        $this->deferredAfter = $msgid;
        $this->runDeferred();
        $this->deferredAfter = null;
        $t7 = hrtime(true);
        $this->shutdownFunctions?->end();
        $t8 = hrtime(true);
        $this->requestState?->restore();
        $t9 = hrtime(true);
        $this->environment?->restore();
        $t10 = hrtime(true);
        $this->streamContext?->reset();
        $t11 = hrtime(true);
        foreach ([$t0, $t1, $t2, $t3, $t4, $t5, $t6, $t7, $t8, $t9, $t10, $t11] as $k => $now) {
            if ($k > 0) {
                $t[$k - 1] += $now - $previous;
            }
            $previous = $now;
        }
        $t[11] += $t11 - $t0;
    }
    if ($error !== null || ($result['body'] ?? null) !== "Hello from PHP\n" || $answer === '') {
        fwrite(STDERR, 'unexpected answer: ' . json_encode([$error, $result]) . "\n");
        exit(1);
    }
    return array_map(static fn (int $ns): float => $ns / $calls, $t);
};
$setUp = function (): void {
    // What serve() sets up once it has its channels, minus the channels.
    $this->serving = true;
    self::$inLoop = $this;
    $this->shutdownFunctions = ShutdownFunctions::create($this->log);
    $this->environment = Environment::create();
    $this->randomSeed = RandomSeed::create();
    $this->streamContext = DefaultStreamContext::create();
    $this->captureRequestState();
};
\Closure::bind($setUp, $worker, Worker::class)();
$round = \Closure::bind($round, $worker, Worker::class);

$round($frame, intdiv($calls, 4)); // warm-up
$all = [];
for ($r = 1; $r <= $rounds; $r++) {
    $all[] = $round($frame, $calls);
}
printf("%d rounds of %d calls, median per call:\n", $rounds, $calls);
foreach ($steps as $k => $name) {
    $column = array_column($all, $k);
    sort($column);
    printf("  %-15s %6.2f us\n", $name, $column[intdiv(count($column), 2)] / 1000);
}
