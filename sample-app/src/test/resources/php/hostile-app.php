<?php
// A worker whose answers are malformed on purpose, for the bridge's hostile-input tests; the
// ordinary sample routes are served by including the sample app itself for anything else.
declare(strict_types=1);

require getenv('FOLK_WORKER_PHP');

use Folk\Worker\Http\Request;
use Folk\Worker\Http\Response;
use Folk\Worker\Worker;

$worker = new Worker();
$worker->register('http.handle', function ($params) {
    $path = parse_url((string) $params['uri'], PHP_URL_PATH);
    switch ($path) {
        case '/php/split-header':
            // A header value carrying CR/LF: a response-splitting attempt.
            return ['status' => 200, 'headers' => ['X-Evil' => "a\r\nSet-Cookie: pwned=1", 'X-Fine' => 'ok'],
                    'body' => 'body'];
        case '/php/bad-header-name':
            return ['status' => 200, 'headers' => ["Bad Name\r\n" => 'x', 'Transfer-Encoding' => 'chunked'],
                    'body' => 'body'];
        case '/php/bad-status':
            return ['status' => 999, 'headers' => [], 'body' => 'x'];
        case '/php/not-a-response':
            return 'just a string';
        default:
            // Echo what arrived: method, uri and body, bytes as they are.
            return ['status' => 200, 'headers' => ['Content-Type' => 'application/octet-stream'],
                    'body' => $params['body'] ?? ''];
    }
});
$worker->run();
