<?php

/*
 * What legacy code inside an application does with PHP's own functions, for the applications'
 * /legacy-headers, /legacy-redirect and /legacy-request-headers routes: header() and setcookie()
 * beside the framework's response, a redirect by header() and exit, and the request's headers as
 * PHP-FPM's getallheaders() gives them (a JSON body). Shared so that every application does the same.
 */

declare(strict_types=1);

return static function (string $kind): ?string {
    if ($kind === 'request-headers') {
        return json_encode(['getallheaders' => getallheaders(),
            'apache_request_headers is the same' => apache_request_headers() === getallheaders()]) . "\n";
    }
    if ($kind === 'redirect') {
        header('Location: /json?from=legacy');
        exit;
    }
    header('X-Legacy: set with header()');
    header('X-Legacy-Twice: one');
    header('X-Legacy-Twice: two', false);
    setcookie('legacy', 'set with setcookie()', ['path' => '/', 'httponly' => true]);
    return null;
};
