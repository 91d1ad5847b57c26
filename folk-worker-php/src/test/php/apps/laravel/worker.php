<?php

// The same Laravel application in a Folk worker: bootstrap once, serve many requests.
require getenv('FOLK_WORKER_PHP');
require __DIR__ . '/vendor/autoload.php';

use Folk\Worker\Laravel\KernelAdapter;
use Folk\Worker\Worker;

$app = require __DIR__ . '/bootstrap/app.php';

(new KernelAdapter($app))->register(new Worker())->run();
