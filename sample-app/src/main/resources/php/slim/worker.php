<?php

/*
 * The sample's Slim application (app.php) in a Folk worker: booted once, then each request the
 * PSR-15 adapter builds (with nyholm/psr7) is handed to Slim. Slim 3 takes its request from its
 * container and parses cookies and its Uri (base path included) itself, from the same server
 * params as under PHP-FPM; its shared response service gets a fresh response per request.
 */

declare(strict_types=1);

require getenv('FOLK_WORKER_PHP') ?: __DIR__ . '/../../../../../../folk-worker-php/src/main/php/autoload.php';

if (stream_resolve_include_path('Slim/autoload.php') === false
    || stream_resolve_include_path('Nyholm/Psr7/autoload.php') === false) {
    fwrite(STDERR, "The sample's Slim application needs Slim 3 and nyholm/psr7: apt-get install php-slim php-nyholm-psr7\n");
    exit(1);
}
require_once 'Slim/autoload.php';
require_once 'Nyholm/Psr7/autoload.php';

use Folk\Worker\Psr\Psr15Adapter;
use Folk\Worker\Worker;
use Psr\Http\Message\ServerRequestInterface;

$app = require __DIR__ . '/app.php';
$container = $app->getContainer();
$newResponse = $container->raw('response');

(new Psr15Adapter(static function (ServerRequestInterface $request) use ($app, $container, $newResponse) {
    $request = $request
        ->withCookieParams(Slim\Http\Cookies::parseHeader($request->getHeaderLine('Cookie')))
        ->withUri(Slim\Http\Uri::createFromEnvironment(new Slim\Http\Environment($request->getServerParams())));
    unset($container['request'], $container['response']);
    $container['request'] = $request;
    $container['response'] = $newResponse;
    return $app->run(true);
}))->register(new Worker())->run();
