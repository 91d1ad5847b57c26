<?php

/*
 * What legacy code inside an application does with PHP's own functions, for the applications'
 * /legacy-headers, /legacy-redirect, /legacy-status, /legacy-request-headers, /legacy-input and
 * /legacy-finish routes: header() and setcookie() beside the framework's response, a redirect by
 * header() and exit, a CGI "Status:" header and exit, the request's
 * headers as PHP-FPM's getallheaders() gives them, and its body as php://input gives it (read
 * twice, as PHP allows; JSON answers). Shared so that every application does the same.
 */

declare(strict_types=1);

return static function (string $kind): ?string {
    if ($kind === 'request-headers') {
        $status = http_response_code(); // 200 at a request's start, whatever the previous one set
        http_response_code(299); // then set, as legacy code does; the framework's response decides the answer's
        return json_encode(['status at the start' => $status, 'getallheaders' => getallheaders(),
            'apache_request_headers is the same' => apache_request_headers() === getallheaders()]) . "\n";
    }
    if ($kind === 'input') {
        $stream = fopen('php://input', 'rb');
        $streamed = stream_get_contents($stream);
        fclose($stream);
        $read = file_get_contents('php://input');
        return json_encode(['read' => $read, 'read again' => $streamed === $read, 'length' => strlen((string) $read),
            'json' => json_decode((string) $read, true)]) . "\n";
    }
    if ($kind === 'finish') {
        // fastcgi_finish_request(): the client has what was printed, with the headers set so far;
        // what follows (output, headers, the framework's response) goes nowhere, as under PHP-FPM.
        header('X-Before-Finish: yes');
        echo "printed before fastcgi_finish_request()\n";
        $finished = fastcgi_finish_request();
        echo "printed after it\n";
        header('X-After-Finish: yes');
        return 'returned after it (' . ($finished ? 'finished' : 'not finished') . ")\n";
    }
    if ($kind === 'redirect') {
        header('Location: /json?from=legacy');
        exit;
    }
    if ($kind === 'status') {
        // CGI's way to set the status, which legacy scripts use: PHP-FPM answers with it.
        header('Status: 404 Not Found');
        echo "not here\n";
        exit;
    }
    header('X-Legacy: set with header()');
    header('X-Legacy-Twice: one');
    header('X-Legacy-Twice: two', false);
    setcookie('legacy', 'set with setcookie()', ['path' => '/', 'httponly' => true]);
    return null;
};
