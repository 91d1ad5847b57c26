<?php

/*
 * A ready-made Folk worker with only the built-in methods (echo). Used by the Java tests and
 * benchmarks. Start it through a Folk master, which passes the channels at fds 3 and 4:
 *
 *     php src/main/php/bin/echo-worker.php
 */

declare(strict_types=1);

require __DIR__ . '/../autoload.php';

(new Folk\Worker\Worker())->run();
