<?php

/*
 * A small Slim 3 application (Debian's php-slim), written as for PHP-FPM, served by the sample
 * app under /slim through its own pool (worker.php). Slim sees /slim as its base path (the
 * gateway's strip-prefix gives it SCRIPT_NAME), so the routes below are written without it.
 */

declare(strict_types=1);

use Psr\Http\Message\ResponseInterface as Response;
use Psr\Http\Message\ServerRequestInterface as Request;

$app = new Slim\App(['settings' => ['displayErrorDetails' => false, 'addContentLengthHeader' => false]]);

$app->get('/', function (Request $request, Response $response): Response {
    $base = htmlspecialchars($request->getUri()->getBasePath());
    $pid = getmypid();
    $response->getBody()->write(<<<HTML
        <!doctype html>
        <title>Slim on Folk</title>
        <h1>Hello from Slim</h1>
        <p>A Slim 3 application kept booted in a Folk worker (pid {$pid}), served by
        Spring Boot's gateway under <code>{$base}</code>.</p>
        <ul>
          <li><a href="{$base}/hello/Ada">{$base}/hello/Ada</a>: JSON</li>
          <li><a href="{$base}/visits">{$base}/visits</a>: a counter kept in the PHP session</li>
          <li><a href="{$base}/go">{$base}/go</a>: a redirect back here</li>
          <li><a href="{$base}/clock">{$base}/clock</a>: server-sent events, one a second</li>
        </ul>

        HTML);
    return $response;
});

$app->get('/hello/{name}', function (Request $request, Response $response, array $args): Response {
    return $response->withJson(['greeting' => "Hello, {$args['name']}", 'framework' => 'slim',
        'query' => $request->getQueryParams()]);
});

$app->get('/visits', function (Request $request, Response $response): Response {
    session_start();
    $_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
    return $response->withJson(['visits' => $_SESSION['visits']]);
});

$app->get('/go', function (Request $request, Response $response): Response {
    return $response->withRedirect($request->getUri()->getBasePath() . '/', 302);
});

$app->get('/clock', function (Request $request, Response $response): Response {
    // Server-sent events as PHP code writes them for PHP-FPM: headers with header(), every output
    // buffer closed, then an event a second, each flushed. A client that goes away (a closed tab)
    // ends the script at its next flush(), as under PHP-FPM. Eight events: the pool's exec-timeout
    // is 10 s, and a browser's EventSource connects again when the stream ends.
    header('Content-Type: text/event-stream');
    header('Cache-Control: no-cache');
    while (ob_get_level() > 0) {
        ob_end_flush();
    }
    for ($i = 1; $i <= 8; $i++) {
        echo 'data: ', date('H:i:s'), " (event $i of 8, worker ", getmypid(), ")\n\n";
        flush();
        if ($i < 8) {
            sleep(1);
        }
    }
    return $response;
});

return $app;
