<?php

/*
 * A classic script for the plain `http()` handler's comparison with PHP-FPM (PlainHandlerTest):
 * "fine" without ?throw, else a header, some output and an exception it does not catch; with
 * ?status=N, http_response_code(N) first; with ?handler=1, after an exception handler of its own
 * (a status and a message); with ?display=1, display_errors on. Shared by the PHP-FPM front
 * controller and the worker. With ?cgi_status=S, CGI's `header('Status: S')` (legacy scripts
 * set their status so), after a Location with ?location=L, and exit() after the output with ?exit=1.
 * With ?parse=1 (and ?throw), it includes a file PHP cannot parse before its exception.
 */

declare(strict_types=1);

return static function (array $query): void {
    header('Content-Type: text/plain');
    if (isset($query['cgi_status'])) {
        if (isset($query['location'])) {
            header('Location: ' . $query['location']);
        }
        header('Status: ' . $query['cgi_status']);
        echo "status set with a Status: line\n";
        if (isset($query['exit'])) {
            exit;
        }
        return;
    }
    if (!isset($query['throw'])) {
        echo "fine\n";
        return;
    }
    if (isset($query['display'])) {
        ini_set('display_errors', '1');
    }
    if (isset($query['handler'])) {
        set_exception_handler(static function (\Throwable $e): void {
            http_response_code(503);
            echo 'handled: ', $e->getMessage(), "\n";
        });
    }
    if (isset($query['status'])) {
        http_response_code((int) $query['status']);
    }
    header('X-Before: 1');
    echo "printed before the exception\n";
    if (isset($query['parse'])) {
        include __DIR__ . '/syntax-error.inc';
    }
    throw new \RuntimeException('not caught');
};
