<?php

/*
 * What legacy code inside an application does with PHP's own functions, for the applications'
 * /legacy-headers and /legacy-redirect routes: header() and setcookie() beside the framework's
 * response, and a redirect by header() and exit. Shared so that every application does the same.
 */

declare(strict_types=1);

return static function (string $kind): void {
    if ($kind === 'redirect') {
        header('Location: /json?from=legacy');
        exit;
    }
    header('X-Legacy: set with header()');
    header('X-Legacy-Twice: one');
    header('X-Legacy-Twice: two', false);
    setcookie('legacy', 'set with setcookie()', ['path' => '/', 'httponly' => true]);
};
