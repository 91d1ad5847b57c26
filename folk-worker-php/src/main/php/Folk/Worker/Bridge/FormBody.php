<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * Parses a request body into `$_POST` and `$_FILES` the way PHP's SAPI does for PHP-FPM:
 * application/x-www-form-urlencoded with parse_str() semantics ({@see InputVars}), multipart/form-data
 * as PHP's RFC 1867 reader reads it ({@see MultipartBody}), within post_max_size.
 *
 * Temporary files go to upload_tmp_dir, else sys_get_temp_dir() (the worker's TMPDIR); the
 * caller removes them after the request ({@see PhpRequest::cleanup()}).
 */
final class FormBody
{
    /** @var array<array-key, mixed> */
    public array $post = [];
    /** @var array<array-key, mixed> $_FILES shape */
    public array $files = [];
    /** @var list<string> temporary files written */
    public array $tempFiles = [];
    /** Whether PHP would have consumed the body (multipart, or too large): php://input is then empty. */
    public bool $bodyConsumed = false;

    private function __construct()
    {
    }

    /**
     * Whether PHP would consume this body into `$_POST` and `$_FILES`, leaving php://input empty:
     * a multipart/form-data POST with a boundary, within post_max_size.
     */
    public static function consumes(string $method, ?string $contentType, int $length): bool
    {
        return $method === 'POST' && $contentType !== null && self::mediaType($contentType) === 'multipart/form-data'
            && self::withinPostMax($length) && MultipartBody::boundary($contentType) !== null;
    }

    /** Parses $body for a POST (PHP parses form bodies of POST requests only). */
    public static function parse(string $method, ?string $contentType, string $body): self
    {
        $form = new self();
        if ($method !== 'POST' || $contentType === null) {
            return $form;
        }
        $mediaType = self::mediaType($contentType);
        if (!self::withinPostMax(strlen($body))) {
            // PHP-FPM's log line at the request's start, whatever the body's type (PHP's multipart reader
            // says it without the "Request Startup" part); no $_POST, no $_FILES (php://input still has
            // the body). Without it an application's "invalid token" is all one sees.
            error_log(sprintf('PHP Warning:  %sPOST Content-Length of %d bytes exceeds the limit of %d bytes in Unknown on line 0',
                $mediaType === 'multipart/form-data' ? '' : 'PHP Request Startup: ', strlen($body), self::iniBytes('post_max_size')));
            return $form;
        }
        if ($mediaType !== 'application/x-www-form-urlencoded' && $mediaType !== 'multipart/form-data') {
            return $form;
        }
        if ($mediaType === 'application/x-www-form-urlencoded') {
            $form->post = InputVars::postBody($body);
            return $form;
        }
        $boundary = MultipartBody::boundary($contentType);
        if ($boundary !== null) { // without one PHP leaves the body to php://input
            $form->bodyConsumed = true;
            [$form->post, $form->files, $form->tempFiles] = MultipartBody::parse($body, $boundary);
        }
        return $form;
    }

    /** A php.ini size ("2M", "8K", "1G", "0") in bytes. */
    public static function iniBytes(string $name): int
    {
        $value = trim((string) ini_get($name));
        if ($value === '') {
            return 0;
        }
        $number = (int) $value;
        return match (strtolower(substr($value, -1))) {
            'g' => $number * 1024 * 1024 * 1024,
            'm' => $number * 1024 * 1024,
            'k' => $number * 1024,
            default => $number,
        };
    }

    /** PHP compares the media type up to the first ';', ',' or space, case-insensitively. */
    private static function mediaType(string $contentType): string
    {
        return strtolower(substr($contentType, 0, strcspn($contentType, '; ,')));
    }

    private static function withinPostMax(int $length): bool
    {
        $postMax = self::iniBytes('post_max_size');
        return $postMax <= 0 || $length <= $postMax;
    }
}
