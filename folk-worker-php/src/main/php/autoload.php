<?php

/*
 * Autoloader for the Folk PHP worker library (namespace Folk\Worker\).
 *
 * Require this file once; no Composer is needed at run time. Class Folk\Worker\Http\Request
 * lives in Folk/Worker/Http/Request.php next to this file (PSR-4 layout).
 */

declare(strict_types=1);

if (PHP_VERSION_ID < 80200) {
    fwrite(STDERR, 'folk-worker: PHP >= 8.2 is required, this is ' . PHP_VERSION . PHP_EOL);
    exit(1);
}
if (PHP_INT_SIZE < 8) {
    fwrite(STDERR, 'folk-worker: a 64-bit PHP build is required' . PHP_EOL);
    exit(1);
}

spl_autoload_register(static function (string $class): void {
    $prefix = 'Folk\\Worker\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = __DIR__ . '/Folk/Worker/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
