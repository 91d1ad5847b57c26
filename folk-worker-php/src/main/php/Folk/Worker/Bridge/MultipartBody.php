<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * A multipart/form-data body read into `$_POST` and `$_FILES` the way PHP's own RFC 1867 reader
 * does for PHP-FPM, quirks included, because applications were written against what that reader
 * gives them and PHP-FPM is the reference every answer is compared with:
 *
 * - a part starts after a line that is exactly `--boundary` (a CR before the LF is dropped) and
 *   ends at the next LF followed by `--boundary` (one CR before that LF is dropped); a line that
 *   only starts with the delimiter ends the part but does not start the next one;
 * - part headers: the first of a name counts; a line that starts with white space, or has no
 *   colon, is appended to the header before it;
 * - Content-Disposition: any type, `name` and `filename` as PHP's tokenizer reads them (double or
 *   single quotes, `\"` and `\\` escapes; unquoted values end at white space), the last of each
 *   counts; a part with neither ends the whole body; a file part without a name is named `0`, `1`...;
 * - a file's type is its Content-Type up to the first `;`, its name the part of the filename after
 *   the last `/` or `\`, its full_path the filename as sent;
 * - a file field whose brackets do not close, or that has text after a `]`, is skipped;
 * - field and file names are registered as PHP registers them (spaces and dots in the first part
 *   become `_`, white space at the start of an index is dropped, a later file of the same name
 *   replaces an earlier one), and a field is not registered under the name of a file before it;
 * - max_input_vars (fields), max_file_uploads (an empty file field counts only while uploads are
 *   left), max_multipart_body_parts, upload_max_filesize, MAX_FILE_SIZE and file_uploads.
 */
final class MultipartBody
{
    /** PHP's read size for uploads: a file's size is checked against its limits after each read. */
    private const READ_SIZE = 5 * 1024 - 1;

    /** @var array<array-key, mixed> */
    private array $post = [];
    /** @var array<array-key, mixed> */
    private array $files = [];
    /** @var list<string> temporary files written */
    private array $tempFiles = [];
    /** @var array<string, true> names, normalized, that a field must not take (those of files) */
    private array $protected = [];
    private int $position;
    private readonly string $delimiter;
    private readonly string $nextDelimiter;

    private function __construct(private readonly string $body, string $boundary)
    {
        $this->delimiter = '--' . $boundary;
        $this->nextDelimiter = "\n--" . $boundary;
        $this->position = 0;
    }

    /**
     * The boundary as PHP takes it from a Content-Type: after the first "boundary" (any case) and
     * the `=` after it, up to a closing double quote, or else up to `,` or `;`.
     */
    public static function boundary(string $contentType): ?string
    {
        $at = strpos($contentType, 'boundary');
        if ($at === false) {
            $at = strpos(strtolower($contentType), 'boundary');
        }
        $equals = $at === false ? false : strpos($contentType, '=', $at);
        if ($equals === false) {
            return null; // PHP: "Missing boundary in multipart/form-data POST data"
        }
        $value = substr($contentType, $equals + 1);
        if (str_starts_with($value, '"')) {
            $close = strpos($value, '"', 1);
            if ($close === false) {
                return null; // PHP: "Invalid boundary in multipart/form-data POST data"
            }
            $value = substr($value, 1, $close - 1);
        } else {
            $value = substr($value, 0, strcspn($value, ',;'));
        }
        return $value === '' ? null : $value;
    }

    /**
     * @return array{0: array<array-key, mixed>, 1: array<array-key, mixed>, 2: list<string>}
     *         $_POST, $_FILES and the temporary files written (the caller removes them)
     */
    public static function parse(string $body, string $boundary): array
    {
        $multipart = new self($body, $boundary);
        $multipart->read();
        return [$multipart->post, $multipart->files, $multipart->tempFiles];
    }

    private function read(): void
    {
        $maxVars = (int) ini_get('max_input_vars');
        $uploadsLeft = (int) ini_get('max_file_uploads');
        $fileUploads = filter_var(ini_get('file_uploads'), FILTER_VALIDATE_BOOLEAN);
        $uploadMax = FormBody::iniBytes('upload_max_filesize');
        $partsLeft = ini_get('max_multipart_body_parts');
        $partsLeft = $partsLeft === false || (int) $partsLeft < 0 ? $maxVars + $uploadsLeft : (int) $partsLeft;
        $maxParts = $partsLeft;
        $formMax = 0; // MAX_FILE_SIZE, from a field before the file
        $fields = 0;
        $anonymous = 0;
        $skipFiles = false;
        while ($this->position < strlen($this->body)) {
            $headers = $this->headers();
            if ($headers === null) {
                return; // no further part
            }
            $disposition = PhpRequest::header($headers, 'Content-Disposition');
            if ($disposition === null) {
                continue; // the next part's delimiter line is looked for past this one's content
            }
            if (--$partsLeft < 0) {
                error_log(sprintf('PHP Warning:  PHP Request Startup: Multipart body parts limit exceeded %d. To increase '
                    . 'the limit change max_multipart_body_parts in php.ini. in Unknown on line 0', $maxParts));
                return;
            }
            [$name, $filename] = self::dispositionNames($disposition);
            if ($filename === null && $name !== null) {
                [$value] = $this->content();
                if (++$fields <= $maxVars) {
                    InputVars::register($this->post, $name, $value);
                } elseif ($fields === $maxVars + 1) {
                    InputVars::exceeded($maxVars);
                }
                if (strcasecmp($name, 'MAX_FILE_SIZE') === 0) {
                    // strtoll(): leading white space, a sign and digits; "1e3" is 1, not 1000.
                    $formMax = preg_match('/^[ \t\n\r\v\f]*[+-]?[0-9]+/', $value, $m) === 1 ? (int) trim($m[0]) : 0;
                }
                continue;
            }
            // Once a file part is skipped, PHP skips every file part after it (its flag is never reset).
            $skipFiles = $skipFiles || !$fileUploads || $uploadsLeft <= 0;
            if ($fileUploads && $uploadsLeft === 0) {
                $uploadsLeft--; // warned once
                error_log('PHP Warning:  Maximum number of allowable file uploads has been exceeded in Unknown on line 0');
            }
            if ($name === null && $filename === null) {
                return; // PHP: "File Upload Mime headers garbled"; nothing after it is read
            }
            $name ??= (string) $anonymous++;
            $skipFiles = $skipFiles || !self::bracketsClose($name);
            if ($skipFiles) {
                continue;
            }
            $error = $filename === '' ? UPLOAD_ERR_NO_FILE : UPLOAD_ERR_OK;
            $size = 0;
            $tmpName = '';
            if ($error === UPLOAD_ERR_OK) {
                [$content, $complete] = $this->content();
                $uploadsLeft--;
                $size = strlen($content);
                $error = self::sizeError($size, $uploadMax, $formMax) ?? ($complete ? UPLOAD_ERR_OK : UPLOAD_ERR_PARTIAL);
                [$error, $tmpName] = $this->store($content, $error);
            }
            $type = PhpRequest::header($headers, 'Content-Type');
            $this->addFile($name, [
                'name' => self::baseName($filename),
                'full_path' => $filename,
                'type' => $error !== UPLOAD_ERR_OK || $type === null ? '' : substr($type, 0, strcspn($type, ';')),
                'tmp_name' => $tmpName,
                'error' => $error,
                'size' => $error === UPLOAD_ERR_OK ? $size : 0,
            ]);
        }
    }

    /**
     * The next line, up to LF, without a CR before it, and cut at a NUL as PHP's C strings are; null
     * at the end of the body, where a last line without LF is not one.
     */
    private function line(): ?string
    {
        $end = strpos($this->body, "\n", $this->position);
        if ($end === false) {
            $this->position = strlen($this->body);
            return null;
        }
        $line = substr($this->body, $this->position, $end - $this->position);
        $this->position = $end + 1;
        if (str_ends_with($line, "\r")) {
            $line = substr($line, 0, -1);
        }
        $nul = strpos($line, "\0");
        return $nul === false ? $line : substr($line, 0, $nul);
    }

    /** @return list<array{0: string, 1: string}>|null the headers of the next part; null without one */
    private function headers(): ?array
    {
        do {
            $line = $this->line();
            if ($line === null) {
                return null;
            }
        } while ($line !== $this->delimiter);
        $headers = [];
        while (($line = $this->line()) !== null && $line !== '') {
            $colon = strspn($line, InputVars::WHITE_SPACE, 0, 1) === 1 ? false : strpos($line, ':');
            if ($colon !== false) {
                $headers[] = [substr($line, 0, $colon), ltrim(substr($line, $colon + 1), InputVars::WHITE_SPACE)];
            } elseif ($headers !== []) {
                $headers[array_key_last($headers)][1] .= $line;
            }
        }
        return $headers;
    }

    /**
     * The part's content: up to the next LF followed by the delimiter (one CR before it dropped),
     * or to the end of the body.
     *
     * @return array{0: string, 1: bool} the content and whether a delimiter ended it
     */
    private function content(): array
    {
        $start = $this->position;
        $end = strpos($this->body, $this->nextDelimiter, $start);
        $complete = $end !== false;
        if (!$complete) {
            // A body cut inside a delimiter: PHP stops before what could still become one.
            $length = strlen($this->body);
            $end = $length;
            for ($at = max($start, $length - strlen($this->nextDelimiter) + 1); $at < $length; $at++) {
                if ($this->body[$at] === "\n" && str_starts_with($this->nextDelimiter, substr($this->body, $at))) {
                    $end = $at;
                    break;
                }
            }
        }
        $this->position = $complete ? $end : strlen($this->body); // at the LF: the delimiter's line is next
        $content = substr($this->body, $start, $end - $start);
        return [$end < strlen($this->body) && str_ends_with($content, "\r") ? substr($content, 0, -1) : $content, $complete];
    }

    /** @return array{0: ?string, 1: ?string} the name and filename parameters of a Content-Disposition */
    private static function dispositionNames(string $disposition): array
    {
        $name = null;
        $filename = null;
        $rest = ltrim($disposition, InputVars::WHITE_SPACE);
        while ($rest !== '') {
            $pair = self::word($rest, ';');
            $rest = ltrim($rest, InputVars::WHITE_SPACE);
            if (!str_contains($pair, '=')) {
                continue;
            }
            $key = self::word($pair, '=');
            if (strcasecmp($key, 'name') === 0) {
                $name = self::value($pair);
            } elseif (strcasecmp($key, 'filename') === 0) {
                $filename = self::value($pair);
            }
        }
        return [$name, $filename];
    }

    /**
     * Takes from $line up to the first $stop outside quotes (double or single, with backslash
     * escapes of the quote), and every $stop after it; all of $line if there is none.
     */
    private static function word(string &$line, string $stop): string
    {
        $length = strlen($line);
        $i = 0;
        while ($i < $length && $line[$i] !== $stop) {
            $quote = $line[$i];
            if ($quote === '"' || $quote === "'") {
                for ($i++; $i < $length && $line[$i] !== $quote; $i++) {
                    if ($line[$i] === '\\' && ($line[$i + 1] ?? '') === $quote) {
                        $i++;
                    }
                }
            }
            $i++;
        }
        if ($i >= $length) {
            $word = $line;
            $line = '';
            return $word;
        }
        $word = substr($line, 0, $i);
        $line = substr($line, $i + strspn($line, $stop, $i));
        return $word;
    }

    /**
     * A parameter's value: after white space, a quoted string up to its closing quote (or the end),
     * else up to white space; a backslash escapes a backslash, or the quote inside quotes.
     */
    private static function value(string $raw): string
    {
        $raw = ltrim($raw, InputVars::WHITE_SPACE);
        $quote = $raw[0] ?? '';
        if ($quote === '"' || $quote === "'") {
            $raw = substr($raw, 1);
        } else {
            $quote = '';
            $raw = substr($raw, 0, strcspn($raw, InputVars::WHITE_SPACE));
        }
        $value = '';
        $length = strlen($raw);
        for ($i = 0; $i < $length && $raw[$i] !== $quote; $i++) {
            $next = $raw[$i + 1] ?? '';
            if ($raw[$i] === '\\' && ($next === '\\' || ($quote !== '' && $next === $quote))) {
                $i++;
            }
            $value .= $raw[$i];
        }
        return $value;
    }

    /** PHP's rule for file field names: every `[` closed, and a `]` followed only by `[` or the end. */
    private static function bracketsClose(string $name): bool
    {
        $depth = 0;
        $length = strlen($name);
        for ($i = 0; $i < $length; $i++) {
            if ($name[$i] === '[') {
                $depth++;
            } elseif ($name[$i] === ']') {
                $depth--;
                if ($i + 1 < $length && $name[$i + 1] !== '[') {
                    return false;
                }
            }
            if ($depth < 0) {
                return false;
            }
        }
        return $depth === 0;
    }

    /**
     * UPLOAD_ERR_INI_SIZE or UPLOAD_ERR_FORM_SIZE, null within both: PHP checks the size read so far
     * against upload_max_filesize, then MAX_FILE_SIZE, after each read, so the limit passed in an
     * earlier read decides.
     */
    private static function sizeError(int $size, int $uploadMax, int $formMax): ?int
    {
        if ($size === 0) {
            return null; // nothing read, nothing checked
        }
        $iniRead = $uploadMax > 0 && $size > $uploadMax ? intdiv($uploadMax, self::READ_SIZE) : PHP_INT_MAX;
        // Any MAX_FILE_SIZE but 0 counts: a negative one refuses every file that has content.
        $formRead = $formMax !== 0 && $size > $formMax ? intdiv(max($formMax, 0), self::READ_SIZE) : PHP_INT_MAX;
        if ($iniRead === PHP_INT_MAX && $formRead === PHP_INT_MAX) {
            return null;
        }
        return $iniRead <= $formRead ? UPLOAD_ERR_INI_SIZE : UPLOAD_ERR_FORM_SIZE;
    }

    /** @return array{0: int, 1: string} the error after writing the upload, and its temporary file ('' if none) */
    private function store(string $content, int $error): array
    {
        if ($error !== UPLOAD_ERR_OK) {
            return [$error, ''];
        }
        $dir = (string) ini_get('upload_tmp_dir');
        // What fails here is the upload's error code, as under PHP-FPM, never a warning for the
        // application's error handler (a framework's makes it an exception): tempnam()'s notice of a
        // directory it cannot write to (it falls back to the system's, as PHP does), a full disk.
        set_error_handler(static fn (): bool => true);
        try {
            $path = tempnam($dir !== '' && is_dir($dir) ? $dir : sys_get_temp_dir(), 'php');
            if ($path === false) {
                return [UPLOAD_ERR_NO_TMP_DIR, ''];
            }
            $this->tempFiles[] = $path;
            if (file_put_contents($path, $content) !== strlen($content)) {
                return [UPLOAD_ERR_CANT_WRITE, ''];
            }
        } finally {
            restore_error_handler();
        }
        return [UPLOAD_ERR_OK, $path];
    }

    /** The client's filename without any directory part, as PHP gives it in `name`. */
    private static function baseName(string $filename): string
    {
        $cut = max((int) strrpos($filename, '/'), (int) strrpos($filename, '\\'));
        return $cut > 0 || str_starts_with($filename, '/') || str_starts_with($filename, '\\')
            ? substr($filename, $cut + 1) : $filename;
    }

    /**
     * Registers each of a file's entries as PHP does: `$_FILES[top][entry]` for a plain name,
     * `$_FILES[top][entry][index...]` for `top[index...]`, the names normalized, none over a
     * protected one except tmp_name; then the field's name and its tmp_name entry are protected.
     *
     * @param array<string, string|int> $entries
     */
    private function addFile(string $name, array $entries): void
    {
        $open = strpos($name, '[');
        $isArray = $open !== false && str_ends_with($name, ']');
        foreach ($entries as $entry => $value) {
            $variable = $isArray
                ? substr($name, 0, $open) . '[' . $entry . '][' . substr($name, $open + 1, -1) . ']'
                : $name . '[' . $entry . ']';
            $normalized = self::normalize($variable);
            if ($entry === 'tmp_name') {
                $this->protected[self::normalize($name)] = true;
                $this->protected[$normalized] = true;
            } elseif (isset($this->protected[$normalized])) {
                continue;
            }
            InputVars::register($this->files, $normalized, $value);
        }
    }

    /**
     * A variable name as PHP's upload reader compares and registers it: leading spaces dropped,
     * spaces and dots before the first `[` made `_`, white space at the start of each index
     * dropped, and anything after a `]` that does not open another index dropped.
     */
    private static function normalize(string $name): string
    {
        $name = ltrim($name, ' ');
        $open = strpos($name, '[');
        if ($open === false) {
            return strtr($name, ' .', '__');
        }
        $normalized = strtr(substr($name, 0, $open), ' .', '__') . '[';
        $at = $open + 1;
        $length = strlen($name);
        while (true) {
            $at += strspn($name, " \r\n\t", $at);
            $close = strpos($name, ']', $at);
            $end = $close === false ? $length : $close + 1;
            $normalized .= substr($name, $at, $end - $at);
            if ($end < $length && $name[$end] === '[') {
                $normalized .= '[';
                $at = $end + 1;
                continue;
            }
            return $normalized;
        }
    }
}
