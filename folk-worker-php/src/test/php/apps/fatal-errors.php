<?php

/*
 * Fatal errors no error handler can turn into an exception, for the applications' /fatal-memory
 * and /fatal-compile routes: PHP ends the request (PHP-FPM) or the process (a worker). Shared so
 * that every application fails the same way.
 */

declare(strict_types=1);

return static function (string $kind): never {
    if ($kind === 'memory-page') { // legacy code's own error page, from a shutdown function the request registers
        register_shutdown_function(static function (): void {
            $error = error_get_last();
            if ($error !== null && ($error['type'] & (E_ERROR | E_COMPILE_ERROR | E_CORE_ERROR)) !== 0) {
                http_response_code(503); // PHP's "500" status line, set at the error, wins over it
                echo "<h1>Sorry, something went wrong</h1>\n";
            }
        });
        $kind = 'memory';
    }
    if ($kind === 'memory') {
        // PHP refuses a limit below what the process already uses: a worker that has served large
        // answers may hold more than 32M, and would then not fail at all. Above it, as PHP-FPM's fresh
        // process gets 32M.
        ini_set('memory_limit', (string) max(32 << 20, memory_get_usage(true) + (8 << 20)));
        echo strlen(str_repeat('x', 64 * 1024 * 1024)); // never printed: the allocation fails
    } else {
        eval('function folk_test_declared_twice() {} function folk_test_declared_twice() {}'); // E_COMPILE_ERROR
    }
    exit(1); // not reached
};
