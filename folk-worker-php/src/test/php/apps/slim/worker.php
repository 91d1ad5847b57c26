<?php

/*
 * The same Slim application in a Folk worker. Slim 3 predates PSR-15 and PSR-17: it takes its
 * request from the container, so each request is put there and App::run(true) processes it
 * without sending (finalize() included). The request is Slim's own, built from the server
 * params the adapter computed (the $_SERVER PHP-FPM would give), as Slim builds it under PHP-FPM:
 * a generic PSR-7 request differs from it in ways an application sees. Slim's parses JSON and
 * XML bodies (getParsedBody()), names headers as in $_SERVER ("HTTP_X_FOO"), parses cookies from
 * the Cookie header itself ("a.b" is not mangled into "a_b") and has its own Uri (its string form
 * of an empty path is "/", PSR-7's is ""). Only the body (php://input is empty in a worker) and
 * the uploaded files (PSR-7 ones that can be moved: Slim's would call move_uploaded_file()) come
 * from the adapter's request.
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
    // A Slim body: Slim clones the request's body with the request, and a clone of a PSR-7 stream
    // that closes its resource when destroyed would be left with a closed one.
    $body = new Slim\Http\Body(fopen('php://temp', 'w+'));
    $body->write((string) $request->getBody());
    $body->rewind();
    $request = Slim\Http\Request::createFromEnvironment(new Slim\Http\Environment($request->getServerParams()))
        ->withBody($body)
        ->withUploadedFiles($request->getUploadedFiles());
    unset($container['request'], $container['response']);
    $container['request'] = $request;
    $container['response'] = $newResponse;
    return $app->run(true);
}))->register(new Worker())->run();
