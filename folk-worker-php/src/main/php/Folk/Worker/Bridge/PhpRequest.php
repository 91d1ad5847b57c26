<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * One `http.handle` request seen the way a PHP application under PHP-FPM sees it: `$_SERVER`,
 * `$_GET`, `$_POST`, `$_COOKIE`, `$_FILES`, `$_REQUEST` and php://input, built from the
 * gateway's params (see the http.handle contract: method, uri, headers, header_list, body,
 * server). Shared by the PSR-15, Symfony and Laravel adapters.
 *
 * The request owns the temporary files of its uploads: {@see cleanup()} removes them (the
 * adapters call it after the response is built, as PHP does at the end of a request).
 */
final class PhpRequest
{
    /** $_SERVER keys that describe the CLI process, not a request: never carried into a request. */
    private const CLI_KEYS = ['argv' => 0, 'argc' => 0, 'PHP_SELF' => 0, 'SCRIPT_NAME' => 0, 'SCRIPT_FILENAME' => 0,
        'PATH_TRANSLATED' => 0, 'DOCUMENT_ROOT' => 0, 'REQUEST_TIME' => 0, 'REQUEST_TIME_FLOAT' => 0];

    /**
     * `$_SERVER` entries PHP adds itself, not from FastCGI params (main/php_variables.c, the CLI's argv;
     * PHP_SELF: PHP-FPM's SAPI, from the params).
     */
    private const PHP_OWN = ['REQUEST_TIME' => 0, 'REQUEST_TIME_FLOAT' => 0, 'PHP_AUTH_USER' => 0, 'PHP_AUTH_PW' => 0,
        'PHP_AUTH_DIGEST' => 0, 'AUTH_TYPE' => 0, 'PHP_SELF' => 0, 'argv' => 0, 'argc' => 0];

    /** Cookie names PHP keeps as they are (no '.', ' ' or '[' to mangle): most of them. */
    private const PLAIN_NAME = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';

    /**
     * The base `$_SERVER` last given to {@see fromParams()} and the same without {@see CLI_KEYS}: a
     * worker passes the same array with every request, which is then not filtered again.
     */
    private static array $lastBase = [];
    private static array $lastBaseRequestKeys = [];
    /** The request whose superglobals are installed, for {@see currentHeaders()}. */
    private static ?self $installed = null;
    /** @var array<string, string> each front controller's directory, its symbolic links resolved as getcwd() gives it */
    private static array $scriptDirs = [];
    /** The worker's environment as `$_SERVER` entries, which the request's own entries were laid over. */
    private array $environment = [];
    /** @var array<string, string>|null {@see fastCgiParams()}, once asked for */
    private ?array $fastCgiParams = null;

    /**
     * @param array<string, string>     $server  $_SERVER
     * @param array<array-key, mixed>   $get     $_GET
     * @param array<array-key, mixed>   $post    $_POST
     * @param array<array-key, mixed>   $cookies $_COOKIE
     * @param array<array-key, mixed>   $files   $_FILES (PHP's shape)
     * @param string                    $body    php://input (empty for multipart, as in PHP)
     * @param list<array{0: string, 1: string}> $headerList header lines in order
     * @param list<string>              $tempFiles upload files to remove after the request
     */
    private function __construct(
        public readonly string $method,
        public readonly string $uri,
        public readonly array $server,
        public readonly array $get,
        public readonly array $post,
        public readonly array $cookies,
        public readonly array $files,
        public readonly string $body,
        public readonly array $headerList,
        private array $tempFiles,
    ) {
    }

    /**
     * @param mixed                $params   the `http.handle` params
     * @param array<string, mixed> $baseServer the process's `$_SERVER` to start from (environment variables)
     * @throws \InvalidArgumentException on params that break the contract
     */
    public static function fromParams(mixed $params, array $baseServer = []): self
    {
        if (is_object($params)) {
            $params = get_object_vars($params);
        }
        if (!is_array($params)) {
            throw new \InvalidArgumentException('http.handle params must be a map, got ' . get_debug_type($params));
        }
        $method = self::string($params, 'method', 'GET');
        $uri = self::string($params, 'uri', '/');
        $body = self::string($params, 'body', '');
        $headerList = self::headerList($params);
        $facts = self::map($params['server'] ?? []);

        if ($baseServer !== self::$lastBase) { // the same array: identical at once, without comparing entries
            self::$lastBase = $baseServer;
            self::$lastBaseRequestKeys = array_diff_key($baseServer, self::CLI_KEYS);
        }
        $http = [];
        foreach ($headerList as [$name, $value]) {
            $key = 'HTTP_' . strtoupper(str_replace('-', '_', $name));
            // Repeated headers are joined as nginx and PHP-FPM join them (Cookie with "; ").
            $http[$key] = isset($http[$key]) ? $http[$key] . ($key === 'HTTP_COOKIE' ? '; ' : ', ') . $value : $value;
        }
        // PHP-FPM lists the parameters nginx sends it last first: the headers in reverse order (what
        // iterates $_SERVER or a framework's header bag built from it sees them so).
        $server = self::$lastBaseRequestKeys;
        foreach (array_reverse($http) as $key => $value) {
            $server[$key] = $value; // over an environment variable of that name (HTTP_PROXY), as PHP-FPM has it
        }
        $query = ($q = strpos($uri, '?')) === false ? '' : substr($uri, $q + 1);
        $path = $q === false ? $uri : substr($uri, 0, $q);
        $server = [
            'REQUEST_METHOD' => $method,
            'REQUEST_URI' => $uri,
            'QUERY_STRING' => $query,
            'SCRIPT_NAME' => '',
            'SCRIPT_FILENAME' => '',
            'DOCUMENT_ROOT' => '',
            'SERVER_PROTOCOL' => 'HTTP/1.1',
        ] + $server;
        foreach ($facts as $key => $value) {
            $server[(string) $key] = is_string($value) ? $value : self::scalar($value, 'server.' . $key);
        }
        if (!isset($facts['PATH_INFO']) && !isset($facts['SCRIPT_NAME'])) {
            $server['PATH_INFO'] = $path;
        }
        $contentType = self::header($headerList, 'Content-Type');
        if ($contentType !== null && !isset($facts['CONTENT_TYPE'])) {
            $server['CONTENT_TYPE'] = $contentType;
        }
        if (!isset($facts['CONTENT_LENGTH']) && ($length = self::header($headerList, 'Content-Length')) !== null) {
            $server['CONTENT_LENGTH'] = $length;
        }
        $mount = $server['SCRIPT_NAME'];
        [$server['SCRIPT_NAME'], $server['SCRIPT_FILENAME']] = self::frontController($mount, $server['SCRIPT_FILENAME']);
        if ($server['SCRIPT_NAME'] !== $mount) {
            // A front controller every path is rewritten to (nginx's try_files, Apache's FallbackResource):
            // the URL did not name the script, so PHP-FPM has no PATH_INFO and PHP_SELF is the script's path.
            unset($server['PATH_INFO']);
        }
        $server['PHP_SELF'] = $server['SCRIPT_NAME'] . ($server['PATH_INFO'] ?? '');
        if (isset($server['HTTP_AUTHORIZATION'])) {
            self::authorization($server['HTTP_AUTHORIZATION'], $server);
        }
        $now = microtime(true);
        $server['REQUEST_TIME_FLOAT'] = $now;
        $server['REQUEST_TIME'] = (int) $now;

        $get = InputVars::query($server['QUERY_STRING']);
        $cookies = self::parseCookies($server['HTTP_COOKIE'] ?? '');
        $form = FormBody::parse($method, $server['CONTENT_TYPE'] ?? null, $body);
        $request = new self($method, $uri, $server, $get, $form->post, $cookies, $form->files,
            $form->bodyConsumed ? '' : $body, $headerList, $form->tempFiles);
        $request->environment = self::$lastBaseRequestKeys;
        return $request;
    }

    /**
     * The `$_SERVER` entries PHP-FPM has from the request's FastCGI params: all but the worker's
     * environment variables (as they are: not a header, a server fact or a value of PHP's of that
     * name) and the entries PHP adds itself (`REQUEST_TIME`, `PHP_AUTH_USER`, ...). What PHP-FPM's
     * input filter sees ({@see FilterInput}) and its getenv() finds ({@see SapiGetenv}).
     *
     * @return array<string, string>
     */
    public function fastCgiParams(): array
    {
        if ($this->fastCgiParams === null) {
            $this->fastCgiParams = [];
            foreach ($this->server as $name => $value) {
                if (is_string($value) && !isset(self::PHP_OWN[$name])
                    && !(isset($this->environment[$name]) && $this->environment[$name] === $value)) {
                    $this->fastCgiParams[(string) $name] = $value;
                }
            }
        }
        return $this->fastCgiParams;
    }

    /** The request whose superglobals are installed ({@see installGlobals()}), or null between requests. */
    public static function current(): ?self
    {
        return self::$installed;
    }

    /**
     * Parses a Cookie header like PHP: pairs split on ';', leading blanks skipped, names taken
     * as they are, values raw-URL-decoded ('+' stays), names mangled like
     * other variables (`a.b` => `a_b`, `a[x]` => array), the first of two equal names kept, and
     * none past max_input_vars.
     *
     * @return array<array-key, mixed>
     */
    public static function parseCookies(string $header): array
    {
        $cookies = [];
        $left = $header === '' ? 0 : (int) ini_get('max_input_vars');
        foreach (explode(';', $header) as $pair) {
            if ($pair === '') {
                continue; // PHP splits with strtok(), which skips empty pieces
            }
            if ($left-- === 0) {
                InputVars::exceeded();
                break; // PHP drops the cookies past max_input_vars, as other variables
            }
            $pair = ltrim($pair, " \t\n\r\v\f");
            if ($pair === '') {
                continue;
            }
            $eq = strpos($pair, '=');
            $name = $eq === false ? $pair : substr($pair, 0, $eq);
            $value = $eq === false ? '' : rawurldecode(substr($pair, $eq + 1));
            if ($name !== '' && strspn($name, self::PLAIN_NAME) === strlen($name)) {
                $cookies[$name] ??= $value; // what parse_str() would make of it, without its cost
                continue;
            }
            $one = InputVars::parse(rawurlencode($name) . '=' . rawurlencode($value));
            foreach ($one as $key => $parsed) {
                if (!is_array($parsed)) {
                    $cookies[$key] ??= $parsed; // PHP keeps the first (most specific) cookie
                } else {
                    $cookies[$key] = is_array($cookies[$key] ?? null) ? self::mergeLikePhp($cookies[$key], $parsed) : ($cookies[$key] ?? $parsed);
                }
            }
        }
        return $cookies;
    }

    /**
     * SCRIPT_NAME and SCRIPT_FILENAME as PHP-FPM gives them to a front controller: the gateway
     * sends the mount prefix ("" or "/app") and the configured script (maybe ""), PHP-FPM the
     * script's URL path ("/index.php", "/app/index.php") and its file. Frameworks derive their
     * base URL from these (Symfony's Request::getBaseUrl(): with SCRIPT_NAME "/app" a request
     * for "/app/json" would be routed as "/app/json" instead of "/json").
     *
     * @return array{0: string, 1: string}
     */
    private static function frontController(string $scriptName, string $scriptFilename): array
    {
        $file = str_ends_with($scriptFilename, '.php') ? basename($scriptFilename) : 'index.php';
        if (!str_ends_with($scriptName, '.php')) {
            $scriptName = rtrim($scriptName, '/') . '/' . $file;
        }
        return [$scriptName, $scriptFilename !== '' ? $scriptFilename : $file];
    }

    /** $_FILES turned into a tree whose leaves are one file each ({name, full_path, type, tmp_name, error, size}). */
    public function normalizedFiles(): array
    {
        $tree = [];
        foreach ($this->files as $field => $info) {
            $tree[$field] = self::transpose($info);
        }
        return $tree;
    }

    /** Whether the request body is a form PHP parsed into $_POST. */
    public function hasFormBody(): bool
    {
        $type = strtolower($this->server['CONTENT_TYPE'] ?? '');
        return $this->method === 'POST'
            && (str_starts_with($type, 'application/x-www-form-urlencoded') || str_starts_with($type, 'multipart/form-data'));
    }

    /**
     * Sets the superglobals to this request's values and returns what they were, for
     * {@see restoreGlobals()}. Applications and libraries that read `$_SERVER` or `$_GET`
     * directly then see the request, as under PHP-FPM.
     *
     * @return array<string, array<array-key, mixed>>
     */
    public function installGlobals(): array
    {
        $saved = ['_SERVER' => $_SERVER, '_GET' => $_GET, '_POST' => $_POST, '_COOKIE' => $_COOKIE,
            '_FILES' => $_FILES, '_REQUEST' => $_REQUEST ?? []];
        $_SERVER = $this->server;
        $_GET = $this->get;
        $_POST = $this->post;
        $_COOKIE = $this->cookies;
        $_FILES = $this->files;
        self::$installed = $this;
        self::enterScriptDirectory($this->server['SCRIPT_FILENAME'] ?? '');
        RequestBody::install($this->body); // php://input, as under PHP-FPM
        UploadedFiles::register($this->tempFiles); // move_uploaded_file() takes them, as under PHP-FPM
        $order = (string) ini_get('request_order');
        $order = $order !== '' ? $order : (string) ini_get('variables_order');
        $request = [];
        foreach (str_split(strtoupper($order)) as $source) {
            $request = match ($source) {
                'G' => array_replace($request, $this->get),
                'P' => array_replace($request, $this->post),
                'C' => array_replace($request, $this->cookies),
                default => $request,
            };
        }
        $_REQUEST = $request;
        return $saved;
    }

    /**
     * PHP-FPM starts each request in its script's directory (php_execute_script()), where relative
     * paths (`file_get_contents('data.json')`, `include 'config.php'`) resolve, whatever directory an
     * earlier request changed to; a worker starts in its pool's. One getcwd() (~1 us) a request.
     */
    private static function enterScriptDirectory(string $script): void
    {
        if ($script === '' || $script[0] !== '/') {
            return;
        }
        if (!isset(self::$scriptDirs[$script]) && count(self::$scriptDirs) >= 64) {
            self::$scriptDirs = []; // a master that names many scripts: the cache stays small
        }
        $dir = self::$scriptDirs[$script] ??= (realpath(dirname($script)) ?: dirname($script));
        if (getcwd() !== $dir) {
            @chdir($dir); // as PHP-FPM, which goes on where it cannot
        }
    }

    /** @param array<string, array<array-key, mixed>> $saved what {@see installGlobals()} returned */
    public static function restoreGlobals(array $saved): void
    {
        self::$installed = null;
        RequestBody::clear();
        $_SERVER = $saved['_SERVER'];
        $_GET = $saved['_GET'];
        $_POST = $saved['_POST'];
        $_COOKIE = $saved['_COOKIE'];
        $_FILES = $saved['_FILES'];
        $_REQUEST = $saved['_REQUEST'];
    }

    /**
     * What PHP-FPM's getallheaders() and apache_request_headers() return for the request being
     * served (autoload.php defines both where PHP lacks them, as the CLI does), empty outside one.
     * PHP-FPM rebuilds them from its FastCGI params, and so does this: each header of the request
     * once, its value as in `$_SERVER` (repeated lines joined), its name rebuilt from the `HTTP_*`
     * key (`HTTP_X_FORWARDED_FOR` is `X-Forwarded-For`), in the reverse of the order the params
     * came in (PHP-FPM keeps them in a list it prepends to): the last header first. Content-Type
     * and Content-Length come from `CONTENT_TYPE` and `CONTENT_LENGTH`, which nginx sends before
     * the headers, at the place of their header line.
     *
     * @return array<string, string>
     */
    public static function currentHeaders(): array
    {
        $request = self::$installed;
        if ($request === null) {
            return [];
        }
        $params = []; // [name, value] in the order of the FastCGI params
        foreach (['CONTENT_TYPE' => 'Content-Type', 'CONTENT_LENGTH' => 'Content-Length'] as $key => $name) {
            if (isset($request->server[$key])) {
                $params[] = [$name, (string) $request->server[$key]];
            }
        }
        $seen = [];
        foreach ($request->headerList as [$name]) {
            $key = 'HTTP_' . strtoupper(str_replace('-', '_', $name));
            if (isset($seen[$key]) || !isset($request->server[$key])) {
                continue;
            }
            $seen[$key] = true;
            // PHP-FPM: the first character as it is, '_' becomes '-' and keeps the next one, the rest lower case.
            $params[] = [preg_replace_callback('/(?<=.)(_.?|[A-Z]+)/', static fn (array $m): string
                => $m[0][0] === '_' ? '-' . substr($m[0], 1) : strtolower($m[0]), substr($key, 5)), (string) $request->server[$key]];
        }
        $headers = [];
        foreach (array_reverse($params) as [$name, $value]) {
            $headers[$name] = $value; // a name seen again keeps its place and takes this value, as PHP's array does
        }
        return $headers;
    }

    /** Removes the temporary files of the uploads that the application did not move away. */
    public function cleanup(): void
    {
        UploadedFiles::forget($this->tempFiles);
        foreach ($this->tempFiles as $file) {
            if (is_file($file)) {
                @unlink($file);
            }
        }
        $this->tempFiles = [];
    }

    private static function transpose(array $info): mixed
    {
        if (!is_array($info['name'] ?? null)) {
            return $info;
        }
        $tree = [];
        foreach ($info['name'] as $key => $_) {
            $sub = [];
            foreach ($info as $field => $values) {
                $sub[$field] = $values[$key] ?? null;
            }
            $tree[$key] = self::transpose($sub);
        }
        return $tree;
    }

    private static function mergeLikePhp(array $into, array $add): array
    {
        foreach ($add as $key => $value) {
            if (is_array($value) && is_array($into[$key] ?? null)) {
                $into[$key] = self::mergeLikePhp($into[$key], $value);
            } elseif (is_int($key) && array_key_exists($key, $into)) {
                $into[] = $value; // "a[]" appends
            } else {
                $into[$key] = $value;
            }
        }
        return $into;
    }

    /** @return list<array{0: string, 1: string}> */
    private static function headerList(array $params): array
    {
        $list = [];
        if (isset($params['header_list']) && is_array($params['header_list'])) {
            foreach ($params['header_list'] as $pair) {
                if (!is_array($pair) || count($pair) !== 2) {
                    throw new \InvalidArgumentException('http.handle params: header_list entries must be [name, value]');
                }
                [$name, $value] = array_values($pair);
                $list[] = [is_string($name) ? $name : self::scalar($name, 'header name'),
                    is_string($value) ? $value : self::scalar($value, 'header value')];
            }
            return $list;
        }
        // Older masters send only the joined map.
        foreach (self::map($params['headers'] ?? []) as $name => $value) {
            $list[] = [(string) $name, is_array($value) ? implode(', ', $value) : self::scalar($value, 'header ' . $name)];
        }
        return $list;
    }

    /**
     * The value of the first of $list's `[name, value]` lines named $name (any case), or null.
     *
     * @param list<array{0: string, 1: string}> $list
     */
    public static function header(array $list, string $name): ?string
    {
        foreach ($list as [$key, $value]) {
            if (strcasecmp($key, $name) === 0) {
                return $value;
            }
        }
        return null;
    }

    private static function map(mixed $value): array
    {
        if (is_object($value)) {
            $value = get_object_vars($value);
        }
        if (!is_array($value)) {
            throw new \InvalidArgumentException('http.handle params: expected a map, got ' . get_debug_type($value));
        }
        return $value;
    }

    private static function string(array $params, string $key, string $default): string
    {
        $value = $params[$key] ?? $default;
        if (!is_string($value)) {
            throw new \InvalidArgumentException(sprintf('http.handle params: %s must be a string, got %s', $key, get_debug_type($value)));
        }
        return $value;
    }

    private static function scalar(mixed $value, string $what): string
    {
        if (is_string($value) || is_int($value) || is_float($value)) {
            return (string) $value;
        }
        throw new \InvalidArgumentException(sprintf('http.handle params: %s must be a string, got %s', $what, get_debug_type($value)));
    }

    /**
     * What a web SAPI makes of an Authorization header (PHP's php_handle_auth_data()), which
     * PHP-FPM does and the CLI does not: Basic credentials as PHP_AUTH_USER and PHP_AUTH_PW (legacy
     * code's HTTP authentication reads them), else Digest ones as PHP_AUTH_DIGEST.
     *
     * @param array<string, mixed> $server
     */
    private static function authorization(string $auth, array &$server): void
    {
        if (strncasecmp($auth, 'Basic ', 6) === 0) {
            $decoded = base64_decode(substr($auth, 6));
            $colon = $decoded === false ? false : strpos($decoded, ':');
            if ($colon !== false) {
                // C strings in PHP: each ends at its first NUL.
                $server['PHP_AUTH_USER'] = explode("\0", substr($decoded, 0, $colon), 2)[0];
                $password = explode("\0", substr($decoded, $colon + 1), 2)[0];
                if ($password !== '') { // an empty one is left out, as PHP leaves it out
                    $server['PHP_AUTH_PW'] = $password;
                }
                return;
            }
        }
        if (strncasecmp($auth, 'Digest ', 7) === 0) {
            $server['PHP_AUTH_DIGEST'] = substr($auth, 7);
        }
    }
}
