<?php

/*
 * Prints, as JSON, what PHP made of the request: $_GET, $_POST, $_COOKIE, $_FILES (a file's
 * tmp_name replaced by the sha1 of its content, since temporary names differ), $_REQUEST, the
 * raw body (php://input under PHP-FPM; the CLI has none, the worker passes the request's) and the request's $_SERVER keys the parsing depends on. Shared by the PHP-FPM
 * front controller and the worker.
 */

declare(strict_types=1);

return static function (string $input): void {
    $digest = static function (mixed $tmp) use (&$digest): mixed {
        if (is_array($tmp)) {
            return array_map($digest, $tmp);
        }
        return $tmp === '' ? '' : (is_file($tmp) ? 'sha1:' . sha1_file($tmp) : 'missing');
    };
    $files = $_FILES;
    foreach ($files as &$file) {
        $file['tmp_name'] = $digest($file['tmp_name']);
    }
    unset($file);
    header('Content-Type: application/json');
    echo json_encode([
        'get' => $_GET,
        'post' => $_POST,
        'cookie' => $_COOKIE,
        'files' => $files,
        'request' => $_REQUEST,
        'input' => base64_encode($input),
        'method' => $_SERVER['REQUEST_METHOD'] ?? null,
        'query_string' => $_SERVER['QUERY_STRING'] ?? null,
        'request_uri' => $_SERVER['REQUEST_URI'] ?? null,
        'content_type' => $_SERVER['CONTENT_TYPE'] ?? null,
        'http_cookie' => $_SERVER['HTTP_COOKIE'] ?? null,
        'http_x_test' => $_SERVER['HTTP_X_TEST'] ?? null,
    ], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR);
};
