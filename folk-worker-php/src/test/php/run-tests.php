<?php

/*
 * Runs the folk-worker-php tests without PHPUnit:
 *
 *     php src/test/php/run-tests.php [filter]      # with ext-msgpack (if installed)
 *     php -n src/test/php/run-tests.php [filter]   # bare PHP: pure-PHP MessagePack, no ext-posix
 *
 * Prints one line per test and exits non-zero if any test fails. Workers started by the
 * end-to-end tests run with the same -n flag as this runner.
 */

declare(strict_types=1);

namespace Folk\Worker\Tests;

use Folk\Worker\MessagePack\MessagePack;

require __DIR__ . '/support/bootstrap.php';

set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    if (($severity & (E_DEPRECATED | E_USER_DEPRECATED)) !== 0 || (error_reporting() & $severity) === 0) {
        return false;
    }
    throw new \ErrorException($message, 0, $severity, $file, $line);
});

printf(
    "folk-worker-php tests on PHP %s (%s), codec: %s, posix: %s\n\n",
    PHP_VERSION,
    TestMaster::withoutIni() ? 'php -n' : 'php.ini: ' . (php_ini_loaded_file() ?: 'none'),
    MessagePack::codec()->name(),
    extension_loaded('posix') ? 'yes' : 'no',
);

foreach (glob(__DIR__ . '/*Test.php') as $file) {
    Tests::$currentFile = $file;
    require $file;
}

exit(Tests::run($argv[1] ?? null));
