<?php

/*
 * The probe as a Folk worker: a classic script (it reads the superglobals and prints) served by
 * the library's request cycle, which sets the superglobals like PHP-FPM.
 */

declare(strict_types=1);

require getenv('FOLK_WORKER_PHP') ?: __DIR__ . '/../../../../main/php/autoload.php';

use Folk\Worker\Bridge\PhpRequest;
use Folk\Worker\Bridge\RequestCycle;
use Folk\Worker\Worker;

$probe = require __DIR__ . '/probe.php';
$worker = new Worker();
$worker->register('http.handle', new RequestCycle($worker, static function (PhpRequest $request) use ($probe): array {
    // A classic script's headers go through header(), which reach the answer where PHP keeps
    // header lines (Bridge\CliHeaders, with ext-ffi); named here too for a worker without it.
    return [200, [['Content-Type', 'application/json']], static fn () => $probe($request->body)];
}));
$worker->run();
