<?php
// A worker packaged on the class path that tells who it runs as and what it can see.
declare(strict_types=1);

require getenv('FOLK_WORKER_PHP');

$worker = new Folk\Worker\Worker();
$worker->register('identity', fn () => [
    'uid' => posix_getuid(),
    'gid' => posix_getgid(),
    'home' => getenv('HOME'),
    'secret' => getenv('FOLK_TEST_SECRET'),
    'script' => __FILE__,
]);
$worker->run();
