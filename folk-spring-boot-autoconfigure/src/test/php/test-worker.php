<?php

/*
 * The worker the starter's tests run: the built-in echo, plus
 *   sleep(ms)  sleeps that long, then returns the worker's pid;
 *   pid()      returns the worker's pid.
 * With FOLK_TEST_IGNORE_TERM=1 in its environment it ignores SIGTERM (only SIGKILL ends it);
 * with FOLK_TEST_BOOT_SLEEP_MS=N it sleeps N ms before it creates its Worker (a slow boot);
 * with FOLK_TEST_FAIL_BOOT_WHILE=path it exits 3 before the handshake while that file exists.
 */

declare(strict_types=1);

require __DIR__ . '/../../../../folk-worker-php/src/main/php/autoload.php';

if (getenv('FOLK_TEST_IGNORE_TERM') === '1') {
    pcntl_signal(SIGTERM, SIG_IGN);
}

$failWhile = getenv('FOLK_TEST_FAIL_BOOT_WHILE');
if (is_string($failWhile) && $failWhile !== '' && file_exists($failWhile)) {
    fwrite(STDERR, "test worker: failing its boot while $failWhile exists\n");
    exit(3);
}

$bootSleep = (int) getenv('FOLK_TEST_BOOT_SLEEP_MS');
if ($bootSleep > 0) {
    usleep($bootSleep * 1000);
}

$worker = new Folk\Worker\Worker();
$worker->register('sleep', static function (mixed $ms): int {
    usleep(max(0, (int) $ms) * 1000);
    return getmypid();
});
$worker->register('pid', static fn (): int => getmypid());
$worker->run();
