<?php

/*
 * The same Slim application in a Folk worker. Slim 3 predates PSR-15 and PSR-17: it takes its
 * request from the container, so each request the adapter builds (with nyholm/psr7) is put
 * there and App::run(true) processes it without sending (finalize() included). Slim 3 also
 * parses cookies from the Cookie header itself rather than taking $_COOKIE (names such as
 * "a.b" are then not mangled into "a_b") and has its own Uri (its string form of an empty path
 * is "/", PSR-7's is ""): the worker uses Slim's parser and Uri for these, from the same
 * server params.
 * The container's response service is shared and its body stream is written to, so each
 * request gets a fresh one from the service's definition, as each PHP-FPM request does.
 */

declare(strict_types=1);

require getenv('FOLK_WORKER_PHP');
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
