<?php

/*
 * The header lines of a /respond spec (respond.php) put on an HttpFoundation response, Symfony's
 * or Laravel's (which extends it): Set-Cookie lines as cookies, Content-Type replacing the
 * default, every other line added.
 */

declare(strict_types=1);

use Symfony\Component\HttpFoundation\Cookie;
use Symfony\Component\HttpFoundation\Response;

return static function (Response $response, array $spec): Response {
    foreach ($spec['headers'] ?? [] as $line) {
        [$name, $value] = array_map('trim', explode(':', $line, 2) + [1 => '']);
        if (strcasecmp($name, 'Set-Cookie') === 0) {
            $response->headers->setCookie(Cookie::fromString($value));
        } else {
            $response->headers->set($name, $value, strcasecmp($name, 'Content-Type') === 0);
        }
    }
    return $response;
};
