<?php

/*
 * The HTTP gateway tests' worker: http.handle answering by path.
 *   /php/dump, /other/...   what PHP received as JSON, plus what the Folk SDK's Request made of it;
 *   /php/header?name=N     the exact bytes of request header N as the body;
 *   /php/status?code=N     an answer with status N;
 *   /php/sleep?ms=N        sleeps, then 200 (/other/sleep and /legacy/sleep too);
 *   /php/large?kb=N        a body of N KiB;
 *   /php/cookies           two Set-Cookie lines and a body in a non-UTF-8 header value;
 *   /php/length?declared=L the body "12345" (none with &empty) with Content-Length L (none
 *                          without declared), the hop-by-hop headers PHP code sets (Connection,
 *                          Keep-Alive) and one addressed to nginx (X-Accel-Buffering);
 *   /php/big-header?bytes=N a header X-Big of N bytes (and Content-Type: text/plain).
 */

declare(strict_types=1);

require __DIR__ . '/../../../../folk-worker-php/src/main/php/autoload.php';

use Folk\Worker\Http\Request;

$worker = new Folk\Worker\Worker();
$worker->register('http.handle', static function (array $params): array {
    $path = parse_url((string) $params['uri'], PHP_URL_PATH);
    parse_str((string) parse_url((string) $params['uri'], PHP_URL_QUERY), $query);
    if ($path === '/php/header') {
        return ['status' => 200, 'headers' => ['Content-Type' => 'application/octet-stream'],
            'body' => $params['headers'][$query['name']] ?? ''];
    }
    if ($path === '/php/status') {
        return ['status' => (int) $query['code'], 'headers' => [], 'body' => 'status'];
    }
    if ($path === '/php/sleep' || $path === '/other/sleep' || $path === '/legacy/sleep') {
        usleep((int) $query['ms'] * 1000);
        return ['status' => 200, 'headers' => ['Content-Type' => 'text/plain'], 'body' => 'slept'];
    }
    if ($path === '/php/large') {
        return ['status' => 200, 'headers' => ['Content-Type' => 'text/plain'],
            'body' => str_repeat('0123456789abcdef', 64 * (int) $query['kb'])];
    }
    if ($path === '/php/range') {
        // A range PHP answers itself (a download script): its Content-Range counts the bytes of this text.
        $text = str_repeat('0123456789abcdef', 320); // 5120 bytes
        [$from, $to] = [(int) $query['from'], (int) $query['to']];
        return ['status' => 206, 'headers' => ['Content-Type' => 'text/plain', 'Content-Range' => "bytes $from-$to/5120"],
            'body' => substr($text, $from, $to - $from + 1)];
    }
    if ($path === '/php/big-header') {
        return ['status' => 200, 'headers' => ['Content-Type' => 'text/plain', 'X-Big' => str_repeat('b', (int) $query['bytes'])],
            'body' => 'big'];
    }
    if ($path === '/php/cookies') {
        return ['status' => 201, 'headers' => ['Set-Cookie' => ['a=1', 'b=2'], 'X-Latin' => "caf\xe9"],
            'body' => "\x00\xff"];
    }
    if ($path === '/php/odd-headers') {
        // What buggy code or another worker library may send: values that are no strings.
        return ['status' => 200, 'headers' => ['X-Nested' => [['a', 'b'], 'kept'], 'X-Map' => ['k' => 'v'], 'X-Number' => 5],
            'body' => 'odd'];
    }
    if ($path === '/php/cgi-status') {
        // CGI's Status header beside the answer's status, as a worker library that passes header() lines on sends it.
        return ['status' => (int) $query['code'], 'headers' => ['Status' => $query['line'], 'X-Fine' => 'ok'], 'body' => 'cgi'];
    }
    if ($path === '/php/length') {
        $headers = ['Content-Type' => 'text/plain', 'Connection' => 'close', 'Keep-Alive' => 'timeout=5',
            'X-Accel-Buffering' => 'no', 'X-Fine' => 'ok'];
        if (isset($query['declared'])) {
            $headers['Content-Length'] = $query['declared'];
        }
        return ['status' => 200, 'headers' => $headers, 'body' => isset($query['empty']) ? '' : '12345'];
    }
    $sdk = Request::fromParams($params);
    return ['status' => 200, 'headers' => ['Content-Type' => 'application/json'], 'body' => json_encode([
        'method' => $params['method'],
        'uri' => $params['uri'],
        'headers' => $params['headers'],
        'header_list' => $params['header_list'],
        'server' => $params['server'],
        'body' => $params['body'],
        'sdk' => ['method' => $sdk->method, 'uri' => $sdk->uri, 'path' => $sdk->path(),
            'x-multi' => $sdk->header('x-multi'), 'body' => $sdk->body],
    ], JSON_THROW_ON_ERROR)];
});
$worker->run();
