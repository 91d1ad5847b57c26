<?php

/*
 * A small Slim application (Debian's php-slim, Slim 3), written as for PHP-FPM: routes, JSON,
 * a form POST, an upload, a redirect, a session counter ($_SESSION), a 404 and an exception
 * page. Returns the Slim\App; public/index.php runs it under PHP-FPM, worker.php in a worker.
 * Only PSR-7 methods are used on the request (the worker hands Slim a nyholm/psr7 request).
 */

declare(strict_types=1);

require_once 'Slim/autoload.php';
// dump() and dd(), as a Composer dev dependency would give them (Debian's php-symfony-var-dumper).
if (stream_resolve_include_path('Symfony/Component/VarDumper/autoload.php') !== false) {
    require_once 'Symfony/Component/VarDumper/autoload.php';
}

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

// HTTP edge cases (FrameworkAppsTest's edge-case tests).
// Native session operations, in the order ?ops= lists them (comma-separated): ../native-session-ops.php.
$app->get('/session-ops', function (Request $request, Response $response): Response {
    static $ops = null;
    $ops ??= require __DIR__ . '/../native-session-ops.php';
    return $response->withJson($ops((string) ($request->getQueryParams()['ops'] ?? '')));
});

$app->get('/no-content', function (Request $request, Response $response): Response {
    return $response->withStatus(204);
});

$app->get('/etag', function (Request $request, Response $response): Response {
    $etag = '"v1"';
    $response = $response->withHeader('ETag', $etag)->withHeader('Cache-Control', 'max-age=60');
    if (trim($request->getHeaderLine('If-None-Match')) === $etag) {
        return $response->withStatus(304);
    }
    $response->getBody()->write("the resource\n");
    return $response;
});

$app->get('/teapot', function (Request $request, Response $response): Response {
    $response->getBody()->write("short and stout\n");
    return $response->withStatus(418, 'Short And Stout');
});

// dump() prints into the page (VarDumper's HTML, its stylesheet and script in each page), dd() answers 500.
$app->get('/dump', function (Request $request, Response $response): Response {
    dump(['a' => 1, 'b' => 'two']);
    $response->getBody()->write("after dump\n");
    return $response;
});

$app->get('/dd', function (): void {
    dd(['a' => 1]);
});

// What legacy code does: set a status, print, exit().
$app->get('/exit', function (): void {
    http_response_code(403);
    echo "printed, then exit\n";
    exit;
});

// Fatal errors (memory exhausted, a function declared twice): what PHP itself answers.
$fatal = require dirname(__DIR__) . '/fatal-errors.php';
$app->get('/fatal-memory', fn () => $fatal('memory'));
$app->get('/fatal-compile', fn () => $fatal('compile'));
$app->get('/fatal-memory-page', fn () => $fatal('memory-page'));
$app->get('/shutdown-output', function (Request $request, Response $response): Response {
    $response->getBody()->write((require dirname(__DIR__) . '/shutdown-output.php')());
    return $response;
});

// Legacy code's header(), setcookie() and redirect by exit, beside Slim's response.
$legacy = require dirname(__DIR__) . '/legacy-headers.php';
$app->get('/legacy-headers', function (Request $request, Response $response) use ($legacy): Response {
    $legacy('headers');
    $response->getBody()->write("legacy headers\n");
    return $response;
});
$app->get('/legacy-redirect', fn () => $legacy('redirect'));
$app->get('/legacy-status', fn () => $legacy('status'));
$app->get('/legacy-finish', function (Request $request, Response $response) use ($legacy): Response {
    $response->getBody()->write($legacy('finish'));
    return $response;
});
$app->get('/legacy-request-headers', function (Request $request, Response $response) use ($legacy): Response {
    $response->getBody()->write($legacy('request-headers'));
    return $response->withHeader('Content-Type', 'application/json');
});
$app->post('/legacy-input', function (Request $request, Response $response) use ($legacy): Response {
    $response->getBody()->write($legacy('input'));
    return $response->withHeader('Content-Type', 'application/json');
});
$app->get('/process-state', function (Request $request, Response $response): Response {
    $response->getBody()->write((require dirname(__DIR__) . '/process-state.php')(isset($request->getQueryParams()['change'])));
    return $response->withHeader('Content-Type', 'application/json');
});
$app->get('/download', function (Request $request, Response $response): Response {
    // Printed, as legacy code in a route does: what it flushes goes out first, Slim appends the rest.
    $query = $request->getQueryParams();
    (require dirname(__DIR__) . '/legacy-download.php')((int) ($query['kb'] ?? 200), isset($query['sized']),
        isset($query['closed']));
    return $response->withHeader('Content-Type', 'text/csv')
        ->withHeader('Content-Disposition', 'attachment; filename="rows.csv"');
});
$app->get('/file', function (Request $request, Response $response): Response {
    // A PSR-7 stream over the file, with its size, as a PSR-15 application sends a file.
    $path = (require dirname(__DIR__) . '/download-file.php')();
    return $response->withBody(new Slim\Http\Stream(fopen($path, 'rb')))
        ->withHeader('Content-Type', 'text/csv')
        ->withHeader('Content-Length', (string) filesize($path));
});
$app->post('/legacy-upload', function (Request $request, Response $response): Response {
    $response->getBody()->write((require dirname(__DIR__) . '/legacy-uploads.php')());
    return $response->withHeader('Content-Type', 'application/json');
});

/* $_FILES and $_POST as PHP made them, each temporary file replaced by what it holds (its name is random). */
$app->post('/files', function (Request $request, Response $response): Response {
    $files = $_FILES;
    array_walk_recursive($files, static function (&$value): void {
        if (is_string($value) && $value !== '' && is_uploaded_file($value)) {
            $value = 'uploaded, sha1 ' . sha1_file($value);
        }
    });
    return $response->withJson(['files' => $files, 'post' => $_POST]);
});

/*
 * An answer as the request describes it (?spec=, base64url of JSON: status, header lines, body),
 * made with PHP's own header(), http_response_code() and echo, then exit, or, with "framework":
 * true, as Slim's response: what the web server makes of what PHP sends.
 */
$app->map(['GET', 'HEAD'], '/respond', function (Request $request, Response $response): Response {
    $spec = (require dirname(__DIR__) . '/respond.php')((string) ($request->getQueryParams()['spec'] ?? ''));
    $response = $response->withStatus($spec['status'] ?? 200);
    foreach ($spec['headers'] ?? [] as $line) {
        [$name, $value] = array_map('trim', explode(':', $line, 2) + [1 => '']);
        // One Content-Type (the response's default replaced): with two, nginx 1.22 mixes them.
        $response = strcasecmp($name, 'Content-Type') === 0 ? $response->withHeader($name, $value) : $response->withAddedHeader($name, $value);
    }
    $response->getBody()->write($spec['body'] ?? '');
    return $response;
});

$app->get('/cookies', function (Request $request, Response $response): Response {
    return $response
        ->withAddedHeader('Set-Cookie', 'a=1; path=/')
        ->withAddedHeader('Set-Cookie', 'b=two%20words%3B%20%22quoted%22; path=/; httponly; samesite=lax')
        ->withAddedHeader('Set-Cookie', 'd=deleted; expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; path=/')
        ->withHeader('X-Empty', '')
        ->withAddedHeader('Link', '</a.css>; rel=preload')
        ->withAddedHeader('Link', '</b.js>; rel=preload')
        ->withHeader('X-Spaced', 'two  spaces')
        ->withJson(['ok' => true]);
});

$app->get('/streamed', function (Request $request, Response $response): Response {
    $kb = (int) ($request->getQueryParams()['kb'] ?? 200);
    $body = new Slim\Http\Stream(fopen('php://temp', 'w+'));
    $body->write(str_repeat(str_repeat('0123456789abcdef', 4) . "\n", intdiv($kb * 1024, 65)) . 'end');
    return $response->withBody($body)->withHeader('Content-Type', 'text/plain');
});

$app->get('/large', function (Request $request, Response $response): Response {
    $kb = (int) ($request->getQueryParams()['kb'] ?? 200);
    $line = str_repeat('0123456789abcdef', 4) . "\n"; // 65 bytes
    $response->getBody()->write(str_repeat($line, intdiv($kb * 1024, 65)) . 'end');
    return $response->withHeader('Content-Type', 'text/plain');
});

/* What PHP was told about the request: the request's part of $_SERVER and what was parsed from it. */
$request = function (Request $request, Response $response): Response {
    $server = [];
    foreach ($_SERVER as $key => $value) {
        if (str_starts_with((string) $key, 'HTTP_') || in_array($key, ['REQUEST_METHOD', 'REQUEST_URI', 'QUERY_STRING',
                'SCRIPT_NAME', 'PHP_SELF', 'PATH_INFO', 'ORIG_PATH_INFO', 'PATH_TRANSLATED', 'CONTENT_TYPE', 'CONTENT_LENGTH', 'SERVER_PROTOCOL', 'SERVER_NAME',
                'REQUEST_SCHEME', 'HTTPS', 'DOCUMENT_ROOT', 'SCRIPT_FILENAME', 'PHP_AUTH_USER', 'PHP_AUTH_PW', 'PHP_AUTH_DIGEST'], true)) {
            $server[$key] = $value;
        }
    }
    ksort($server);
    $headers = $request->getHeaders();
    ksort($headers);
    return $response->withJson([
        'server' => $server,
        'get' => $_GET,
        'post' => $_POST,
        'cookie' => $_COOKIE,
        'query' => $request->getQueryParams(),
        'parsed' => $request->getParsedBody(),
        'body' => (string) $request->getBody(),
        'headers' => $headers,
        'protocol' => $request->getProtocolVersion(),
        'path' => $request->getUri()->getPath(),
        'uri-query' => $request->getUri()->getQuery(),
        'host' => $request->getUri()->getHost(),
    ]);
};
$app->map(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], '/request[/{rest:.*}]', $request);

$app->get('/exception', function (Request $request, Response $response): Response {
    throw new RuntimeException('this route always fails');
});

return $app;
