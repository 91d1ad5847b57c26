<?php

/*
 * Fatal errors no error handler can turn into an exception, for the applications' /fatal-memory
 * and /fatal-compile routes: PHP ends the request (PHP-FPM) or the process (a worker). Shared so
 * that every application fails the same way.
 */

declare(strict_types=1);

return static function (string $kind): never {
    if ($kind === 'memory') {
        ini_set('memory_limit', '32M');
        echo strlen(str_repeat('x', 64 * 1024 * 1024)); // never printed: the allocation fails
    } else {
        eval('function folk_test_declared_twice() {} function folk_test_declared_twice() {}'); // E_COMPILE_ERROR
    }
    exit(1); // not reached
};
