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

// A worker that ends during a call (exit(), a fatal error) answers that call from a shutdown
// function (Folk\Worker\Worker). This one runs first, registered before any application code: a
// framework prints its error page for a fatal error in a shutdown function of its own, and PHP has
// dropped the call's output buffers if it ran out of memory; this gives that page a buffer again.
if (!defined('FOLK_WORKER_LOADED')) {
    define('FOLK_WORKER_LOADED', true);
    register_shutdown_function(static function (): void {
        if (class_exists(Folk\Worker\Worker::class, false)) {
            Folk\Worker\Worker::reopenOutputAtExit();
        }
    });
}

// PHP-FPM's request functions, which the CLI lacks: legacy code calls them without checking, and
// would end with "Call to undefined function".
if (!function_exists('getallheaders')) {
    /** @return array<string, string> the request's headers, as PHP-FPM gives them */
    function getallheaders(): array
    {
        return Folk\Worker\Bridge\PhpRequest::currentHeaders();
    }
}
if (!function_exists('fastcgi_finish_request')) {
    /**
     * PHP-FPM's way to answer before the script ends: in a request served through a framework
     * adapter to a master that takes streamed answers (the Spring gateway), the answer so far
     * goes out and ends, and the script goes on, its worker busy until it returns
     * ({@see Folk\Worker\Bridge\StreamedBody::finish()}). Elsewhere false: the answer goes when the
     * call ends, as for code that checks function_exists() first.
     */
    function fastcgi_finish_request(): bool
    {
        return Folk\Worker\Bridge\StreamedBody::finish();
    }
}
if (!function_exists('apache_request_headers')) {
    /** @return array<string, string> the request's headers, as PHP-FPM gives them */
    function apache_request_headers(): array
    {
        return Folk\Worker\Bridge\PhpRequest::currentHeaders();
    }
}
