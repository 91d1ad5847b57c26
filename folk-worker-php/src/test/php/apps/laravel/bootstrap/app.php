<?php

/*
 * A minimal Laravel 8 application (Debian's php-laravel-framework), as `laravel new` lays it
 * out, with its writable state (storage, caches) in FOLK_APP_STATE (default: a directory
 * under the system temp dir) instead of the checkout.
 */

$state = getenv('FOLK_APP_STATE') ?: sys_get_temp_dir() . '/folk-laravel-app';
foreach (['framework/sessions', 'framework/views', 'framework/cache', 'logs', 'bootstrap-cache'] as $dir) {
    is_dir("$state/$dir") || mkdir("$state/$dir", 0700, true);
}
is_file("$state/database.sqlite") || touch("$state/database.sqlite");
foreach (['SERVICES' => 'services', 'PACKAGES' => 'packages', 'CONFIG' => 'config', 'ROUTES' => 'routes-v7', 'EVENTS' => 'events'] as $key => $file) {
    $_SERVER["APP_{$key}_CACHE"] = $_ENV["APP_{$key}_CACHE"] = "$state/bootstrap-cache/$file.php";
}

$app = new Illuminate\Foundation\Application(dirname(__DIR__));
$app->useStoragePath($state);
$app->singleton(Illuminate\Contracts\Http\Kernel::class, App\Http\Kernel::class);
$app->singleton(Illuminate\Contracts\Debug\ExceptionHandler::class, App\Exceptions\Handler::class);

// A service made once per request (Laravel's scoped()), as packages bind per-request state, and
// reached through its facade (App\Facades\RequestToken) by the /scoped route.
$app->scoped('request.token', static fn (): string => bin2hex(random_bytes(8)));

// Work after the response (Kernel::terminate()): recorded so that the tests see it ran.
$app->terminating(static function () use ($app, $state): void {
    file_put_contents("$state/terminated.log", 'terminate /' . ltrim($app->make('request')->path(), '/') . "\n", FILE_APPEND);
});

return $app;
