<?php

/*
 * The plain-handler script as a Folk worker: `$worker->http()`, its query for $_GET.
 */

declare(strict_types=1);

require getenv('FOLK_WORKER_PHP') ?: __DIR__ . '/../../../../main/php/autoload.php';

use Folk\Worker\Http\Request;
use Folk\Worker\Worker;

$script = require __DIR__ . '/script.php';
$worker = new Worker();
$worker->http(static function (Request $request) use ($script): void {
    $script($request->query());
});
$worker->run();
