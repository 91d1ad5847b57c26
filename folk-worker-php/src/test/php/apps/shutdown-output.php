<?php

/*
 * For the applications' /shutdown-output route: a shutdown function the request registers, which
 * sends a header and prints. Under PHP-FPM it runs when the script ends: what it prints is sent
 * unless the application ended the request first (Symfony's and Laravel's send() call
 * fastcgi_finish_request(), Slim's emitter does not), and its header only while nothing was sent
 * yet (?empty=1: a response without a body).
 */

declare(strict_types=1);

return static function (): string {
    register_shutdown_function(static function (): void {
        header('X-From-Shutdown: 1');
        echo "printed by a shutdown function\n";
    });
    return isset($_GET['empty']) ? '' : "the page\n";
};
