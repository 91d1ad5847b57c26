<?php

/*
 * A small Slim application (Debian's php-slim, Slim 3), written as for PHP-FPM: routes, JSON,
 * a form POST, an upload, a redirect, a session counter ($_SESSION), a 404 and an exception
 * page. Returns the Slim\App; public/index.php runs it under PHP-FPM, worker.php in a worker.
 * Only PSR-7 methods are used on the request (the worker hands Slim a nyholm/psr7 request).
 */

declare(strict_types=1);

require_once 'Slim/autoload.php';

use Psr\Http\Message\ResponseInterface as Response;
use Psr\Http\Message\ServerRequestInterface as Request;

$app = new Slim\App(['settings' => ['displayErrorDetails' => false, 'addContentLengthHeader' => false]]);

$app->get('/', function (Request $request, Response $response): Response {
    $response->getBody()->write("<!doctype html>\n<title>Slim</title>\n<h1>Hello from Slim</h1>\n");
    return $response;
});

$app->get('/json', function (Request $request, Response $response): Response {
    return $response->withJson(['framework' => 'slim', 'query' => $request->getQueryParams()]);
});

$app->post('/form', function (Request $request, Response $response): Response {
    return $response->withJson(['fields' => $request->getParsedBody(), 'cookies' => $request->getCookieParams()]);
});

$app->post('/upload', function (Request $request, Response $response): Response {
    $describe = static function ($file) use (&$describe) {
        if (is_array($file)) {
            return array_map($describe, $file);
        }
        $ok = $file->getError() === UPLOAD_ERR_OK;
        return [
            'name' => $file->getClientFilename(),
            'type' => $file->getClientMediaType(),
            'size' => $file->getSize(),
            'error' => $file->getError(),
            'sha1' => $ok ? sha1((string) $file->getStream()) : null,
        ];
    };
    return $response->withJson(['files' => $describe($request->getUploadedFiles()), 'fields' => $request->getParsedBody()]);
});

$app->get('/redirect', function (Request $request, Response $response): Response {
    return $response->withRedirect('/json?from=redirect', 302);
});

$app->get('/session', function (Request $request, Response $response): Response {
    session_start();
    $_SESSION['count'] = ($_SESSION['count'] ?? 0) + 1;
    return $response->withJson(['count' => $_SESSION['count']]);
});

$app->get('/exception', function (Request $request, Response $response): Response {
    throw new RuntimeException('this route always fails');
});

return $app;
