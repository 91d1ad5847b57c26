<?php

/*
 * The /respond route of the Slim, Symfony and Laravel applications: decodes ?spec= (base64url of JSON:
 * status, header lines, body, and "framework"), and, unless the answer is to be the framework's
 * response, makes it with PHP's own header(), http_response_code() and echo, then exit. Returns
 * the spec for the framework's response otherwise.
 */

declare(strict_types=1);

return static function (string $encoded): array {
    $spec = json_decode(base64_decode(strtr($encoded, '-_', '+/')), true);
    if (!($spec['framework'] ?? false)) {
        foreach ($spec['headers'] ?? [] as $line) {
            header($line, false);
        }
        if (isset($spec['status'])) {
            http_response_code($spec['status']);
        }
        echo $spec['body'] ?? '';
        exit;
    }
    return $spec;
};
