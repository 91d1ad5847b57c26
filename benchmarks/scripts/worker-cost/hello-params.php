<?php

/*
 * The params the HTTP gateway sends for GET /php/hello (headers, header list and server facts),
 * for worker-cost.php and call-breakdown.php.
 */

declare(strict_types=1);

return [
    'method' => 'GET',
    'uri' => '/php/hello',
    'headers' => ['Host' => '127.0.0.1:8080', 'Accept' => '*/*', 'User-Agent' => 'wrk'],
    'body' => '',
    'header_list' => [['Host', '127.0.0.1:8080'], ['Accept', '*/*'], ['User-Agent', 'wrk']],
    'server' => [
        'REMOTE_ADDR' => '127.0.0.1', 'REMOTE_PORT' => '35856', 'SERVER_ADDR' => '127.0.0.1',
        'SERVER_NAME' => '127.0.0.1', 'SERVER_PORT' => '8080', 'SERVER_PROTOCOL' => 'HTTP/1.1',
        'REQUEST_SCHEME' => 'http', 'REQUEST_METHOD' => 'GET', 'REQUEST_URI' => '/php/hello',
        'QUERY_STRING' => '', 'SCRIPT_NAME' => '', 'PATH_INFO' => '/php/hello', 'DOCUMENT_ROOT' => '',
        'SCRIPT_FILENAME' => '', 'GATEWAY_INTERFACE' => 'folk/1', 'SERVER_SOFTWARE' => 'Folk',
    ],
    'stream' => true, // the gateway takes streamed answers (a hello is too small to stream)
];
