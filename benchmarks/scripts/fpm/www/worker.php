<?php

/*
 * The two HTTP benchmark handlers as a Folk worker, for the Java pool (the sample app's
 * side of the nginx + PHP-FPM comparison). Started by a Folk master as
 *
 *     php benchmarks/scripts/fpm/www/worker.php
 *
 * it registers `http.handle` and routes on the last segment of the path, so that the sample
 * app's /php/hello reaches the same code as nginx's /hello.php:
 *   .../hello, .../hello.php  ->  "Hello from PHP\n"       (what www/hello.php prints)
 *   .../boot,  .../boot.php   ->  App::handle('/boot')     (what www/boot.php prints)
 *   .../big,   .../big.php    ->  ?mb=N MiB printed with echo (what www/big.php prints)
 *   anything else             ->  404
 * The fake framework (lib/App.php: ~200 generated classes, ~3 ms of work) boots ONCE, here at
 * start, like a warm framework; PHP-FPM boots it on every request. The per-request part is
 * the same code under both. The generated classes must exist (fpm/run.sh start makes them, or
 * `php benchmarks/scripts/fpm/gen-classes.php`); FOLK_BENCH_GEN_DIR overrides their location.
 *
 * It sits in the document root only to keep the handlers together: nginx (run.sh) never passes
 * it to PHP-FPM, and it refuses to run under anything but the CLI.
 */

declare(strict_types=1);

if (PHP_SAPI !== 'cli') {
    http_response_code(404);
    exit;
}

require __DIR__ . '/../../../../folk-worker-php/src/main/php/autoload.php';
require __DIR__ . '/../lib/App.php';

use Folk\Worker\Http\Request;
use Folk\Worker\Http\Response;
use Folk\Worker\Worker;
use FolkBench\App;

$app = App::boot(); // once per worker

$worker = new Worker();
$worker->http(static function (Request $request) use ($app): ?Response {
    $path = $request->path();
    $slash = strrpos($path, '/');
    $last = $slash === false ? $path : substr($path, $slash + 1); // /php/hello -> hello
    switch ($last) {
        case 'hello':
        case 'hello.php':
            echo "Hello from PHP\n";
            return null;
        case 'boot':
        case 'boot.php':
            echo $app->handle('/boot');
            return null;
        case 'big':
        case 'big.php':
            $_GET = $request->query();
            require __DIR__ . '/big.php';
            return null;
        default:
            return new Response("Not found\n", 404);
    }
});
$worker->run();
