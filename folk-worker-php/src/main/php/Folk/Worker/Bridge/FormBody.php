<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * Parses a request body into `$_POST` and `$_FILES` the way PHP's SAPI does for PHP-FPM:
 * application/x-www-form-urlencoded with parse_str() semantics, multipart/form-data like
 * PHP's RFC 1867 parser (field names such as `a[]` and `a[b]`, files written to temporary
 * files with the UPLOAD_ERR_* codes, file_uploads, upload_max_filesize, MAX_FILE_SIZE,
 * post_max_size, max_file_uploads and max_input_vars ({@see InputVars}) honoured).
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
            && self::withinPostMax($length) && self::boundary($contentType) !== null;
    }

    /** Parses $body for a POST (PHP parses form bodies of POST requests only). */
    public static function parse(string $method, ?string $contentType, string $body): self
    {
        $form = new self();
        if ($method !== 'POST' || $contentType === null) {
            return $form;
        }
        $mediaType = self::mediaType($contentType);
        if ($mediaType !== 'application/x-www-form-urlencoded' && $mediaType !== 'multipart/form-data') {
            return $form;
        }
        if (!self::withinPostMax(strlen($body))) {
            // PHP: "POST Content-Length of N bytes exceeds the limit": no $_POST, no $_FILES
            // (php://input still has the body).
            return $form;
        }
        if ($mediaType === 'application/x-www-form-urlencoded') {
            $form->post = InputVars::postBody($body);
            return $form;
        }
        $boundary = self::boundary($contentType);
        if ($boundary !== null) { // without one PHP leaves the body to php://input
            $form->bodyConsumed = true;
            $form->parseMultipart($body, $boundary);
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

    private static function boundary(string $contentType): ?string
    {
        if (preg_match('/boundary=("([^"]*)"|([^,;\s]*))/i', $contentType, $m) !== 1) {
            return null;
        }
        $boundary = ($m[2] ?? '') !== '' ? $m[2] : ($m[3] ?? '');
        return $boundary === '' ? null : $boundary;
    }

    private function parseMultipart(string $body, string $boundary): void
    {
        $delimiter = '--' . $boundary;
        $start = strpos($body, $delimiter);
        if ($start === false) {
            return; // PHP: "Unable to find the boundary"; nothing is registered
        }
        $fields = [];
        $uploadsLeft = (int) ini_get('max_file_uploads');
        $fileUploads = filter_var(ini_get('file_uploads'), FILTER_VALIDATE_BOOLEAN);
        $uploadMax = self::iniBytes('upload_max_filesize');
        $formMax = null; // MAX_FILE_SIZE, when a field of that name came before the file
        $position = $start + strlen($delimiter);
        while (true) {
            // After a delimiter: "--" ends the body, else the rest of the line is ignored.
            if (substr($body, $position, 2) === '--') {
                break;
            }
            $lineEnd = strpos($body, "\n", $position);
            if ($lineEnd === false) {
                break;
            }
            $headersEnd = self::headersEnd($body, $lineEnd + 1);
            if ($headersEnd === null) {
                break;
            }
            [$headerBlock, $contentStart] = $headersEnd;
            $next = strpos($body, "\r\n" . $delimiter, $contentStart);
            $complete = $next !== false;
            $content = $complete ? substr($body, $contentStart, $next - $contentStart) : substr($body, $contentStart);
            $headers = self::partHeaders($headerBlock);
            $disposition = $headers['content-disposition'] ?? null;
            $params = $disposition === null ? null : self::dispositionParams($disposition);
            if ($params !== null && isset($params['name'])) {
                $name = $params['name'];
                if (!array_key_exists('filename', $params)) {
                    if ($complete) {
                        $fields[] = rawurlencode($name) . '=' . rawurlencode($content);
                        if (strcasecmp($name, 'MAX_FILE_SIZE') === 0) {
                            $formMax = (int) $content;
                        }
                    }
                } elseif ($fileUploads && $name !== '') {
                    // PHP: past max_file_uploads files are skipped; an empty file field does not count.
                    if ($params['filename'] === '' || $uploadsLeft-- > 0) {
                        $this->addFile($name, $params['filename'], $headers['content-type'] ?? '', $content, $complete, $uploadMax, $formMax);
                    }
                }
            }
            if (!$complete) {
                break;
            }
            $position = $next + 2 + strlen($delimiter);
        }
        if ($fields !== []) {
            $this->post = InputVars::multipartFields($fields);
        }
    }

    /** @return array{0: string, 1: int}|null the header block and where the content starts */
    private static function headersEnd(string $body, int $from): ?array
    {
        $crlf = strpos($body, "\r\n\r\n", $from);
        $lf = strpos($body, "\n\n", $from);
        if ($crlf === false && $lf === false) {
            return null;
        }
        if ($crlf !== false && ($lf === false || $crlf <= $lf)) {
            return [substr($body, $from, $crlf - $from), $crlf + 4];
        }
        return [substr($body, $from, $lf - $from), $lf + 2];
    }

    /** @return array<string, string> lower-cased name => value (folded lines joined) */
    private static function partHeaders(string $block): array
    {
        $headers = [];
        $last = null;
        foreach (preg_split('/\r?\n/', $block) as $line) {
            if ($line === '') {
                continue;
            }
            if (($line[0] === ' ' || $line[0] === "\t") && $last !== null) {
                $headers[$last] .= ' ' . trim($line);
                continue;
            }
            $colon = strpos($line, ':');
            if ($colon === false) {
                continue;
            }
            $last = strtolower(trim(substr($line, 0, $colon)));
            $headers[$last] = trim(substr($line, $colon + 1));
        }
        return $headers;
    }

    /** @return array<string, string>|null form-data parameters (name, filename), null if not form-data */
    private static function dispositionParams(string $value): ?array
    {
        $parts = self::splitParams($value);
        if ($parts === [] || strcasecmp(trim(array_shift($parts)), 'form-data') !== 0) {
            return null;
        }
        $params = [];
        foreach ($parts as $part) {
            $eq = strpos($part, '=');
            if ($eq === false) {
                continue;
            }
            $key = strtolower(trim(substr($part, 0, $eq)));
            $raw = trim(substr($part, $eq + 1));
            if (strlen($raw) >= 2 && $raw[0] === '"' && str_ends_with($raw, '"')) {
                // Like PHP: inside quotes only \" is an escape; other backslashes stay (Windows paths).
                $raw = str_replace('\\"', '"', substr($raw, 1, -1));
            }
            if (!isset($params[$key])) {
                $params[$key] = $raw;
            }
        }
        return $params;
    }

    /** @return list<string> the value split on ';' outside double quotes */
    private static function splitParams(string $value): array
    {
        $parts = [];
        $current = '';
        $quoted = false;
        $length = strlen($value);
        for ($i = 0; $i < $length; $i++) {
            $c = $value[$i];
            if ($c === '\\' && $quoted && $i + 1 < $length) {
                $current .= $c . $value[++$i];
            } elseif ($c === '"') {
                $quoted = !$quoted;
                $current .= $c;
            } elseif ($c === ';' && !$quoted) {
                $parts[] = $current;
                $current = '';
            } else {
                $current .= $c;
            }
        }
        $parts[] = $current;
        return $parts;
    }

    private function addFile(string $name, string $fullPath, string $type, string $content, bool $complete, int $uploadMax, ?int $formMax): void
    {
        // Like PHP: the client's name without any directory part (IE sends full Windows paths).
        $cut = max((int) strrpos($fullPath, '/'), (int) strrpos($fullPath, '\\'));
        $baseName = $cut > 0 || (isset($fullPath[0]) && ($fullPath[0] === '/' || $fullPath[0] === '\\'))
            ? substr($fullPath, $cut + 1) : $fullPath;
        $size = strlen($content);
        $error = match (true) {
            $fullPath === '' => UPLOAD_ERR_NO_FILE,
            !$complete => UPLOAD_ERR_PARTIAL,
            $uploadMax > 0 && $size > $uploadMax => UPLOAD_ERR_INI_SIZE,
            $formMax !== null && $formMax > 0 && $size > $formMax => UPLOAD_ERR_FORM_SIZE,
            default => UPLOAD_ERR_OK,
        };
        $tmpName = '';
        if ($error === UPLOAD_ERR_OK) {
            $dir = (string) ini_get('upload_tmp_dir');
            $path = tempnam($dir !== '' && is_dir($dir) ? $dir : sys_get_temp_dir(), 'php');
            if ($path === false || file_put_contents($path, $content) !== $size) {
                $error = $path === false ? UPLOAD_ERR_NO_TMP_DIR : UPLOAD_ERR_CANT_WRITE;
            } else {
                $tmpName = $path;
            }
            if ($path !== false) {
                $this->tempFiles[] = $path;
            }
        }
        $leaf = [
            'name' => $baseName,
            'full_path' => $fullPath,
            'type' => $error === UPLOAD_ERR_OK ? $type : '',
            'tmp_name' => $tmpName,
            'error' => $error,
            'size' => $error === UPLOAD_ERR_OK ? $size : 0,
        ];
        $this->register($name, $leaf);
    }

    /** Places one file into $this->files under a field name, with PHP's transposed arrays for `a[b][]`. */
    private function register(string $name, array $leaf): void
    {
        // Parse the name the way PHP registers variables: reuse parse_str for the key path.
        parse_str(rawurlencode($name) . '=1', $probe);
        if ($probe === []) {
            return;
        }
        $top = array_key_first($probe);
        $path = [];
        $node = $probe[$top];
        while (is_array($node)) {
            $key = array_key_first($node);
            $path[] = $key;
            $node = $node[$key];
        }
        if ($path === []) {
            if (!isset($this->files[$top])) { // like PHP, the first file of a plain name wins
                $this->files[$top] = $leaf;
            }
            return;
        }
        // PHP stores each attribute under $_FILES[top][attribute][segments...]; "[]" appends.
        $segments = self::segments($name);
        foreach ($leaf as $field => $value) {
            $target = &$this->files[$top][$field];
            $target ??= [];
            foreach ($segments as $i => $segment) {
                $last = $i === count($segments) - 1;
                if ($segment === '') {
                    if ($last) {
                        $target[] = $value;
                        continue 2;
                    }
                    $target[] = [];
                    $target = &$target[array_key_last($target)];
                    continue;
                }
                if ($last) {
                    $target[$segment] = $value;
                    continue 2;
                }
                $target[$segment] ??= [];
                $target = &$target[$segment];
            }
            unset($target);
        }
    }

    /** @return list<string> the bracket segments of a field name ("a[b][]" => ["b", ""]) */
    public static function segments(string $name): array
    {
        preg_match_all('/\[([^\]]*)\]/', substr($name, (int) strpos($name, '[')), $m);
        return $m[1];
    }
}
