<?php

declare(strict_types=1);

namespace Folk\Worker\Tests;

use Folk\Worker\MessagePack\MessagePack;

/**
 * Serving one request two ways and comparing: PHP-FPM behind nginx (support/../../fpm/serve.sh,
 * the reference) and a Folk worker fed `http.handle` params exactly as the gateway's contract
 * says. Used by the parsing and the framework adapter tests.
 */
final class HttpCompare
{
    public const SERVE = __DIR__ . '/../../fpm/serve.sh';
    public const SETTINGS = __DIR__ . '/../../fpm/php-settings.ini';
    public const HOST = 'app.test';

    /** Headers that legitimately differ between two servers (or that the gateway manages). */
    private const IGNORED = ['date', 'server', 'x-powered-by', 'content-length', 'transfer-encoding', 'connection', 'keep-alive'];

    /**
     * Why the comparison tests cannot run here, or null. With CI=true a missing package is a
     * failure, not a skip.
     *
     * @param array<string, string> $files Debian package => a file it installs
     * @param bool $frameworks whether the test runs a framework (they need php.ini's extensions)
     */
    public static function missing(array $files, bool $frameworks = true): ?string
    {
        if ($frameworks && TestMaster::withoutIni()) {
            return 'php -n: the frameworks need the extensions of php.ini (mbstring, xml, session...)';
        }
        foreach ($files as $package => $file) {
            if (!is_file($file)) {
                $why = "$file not found: apt-get install $package";
                if (getenv('CI') === 'true') {
                    fail("CI=true and $why (.ci/run installs it)");
                }
                return $why;
            }
        }
        return null;
    }

    /** @return list<string> the -d arguments that give a worker the PHP settings of the FPM side */
    public static function phpArgs(string $stateDir): array
    {
        $args = [];
        foreach (file(self::SETTINGS, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
            if ($line[0] !== ';') {
                $args[] = '-d';
                $args[] = preg_replace('/\s*=\s*/', '=', $line, 1);
            }
        }
        @mkdir($stateDir . '/sessions', 0700, true);
        @mkdir($stateDir . '/tmp', 0700, true);
        array_push($args, '-d', 'session.save_path=' . $stateDir . '/sessions', '-d', 'upload_tmp_dir=' . $stateDir . '/tmp');
        return $args;
    }

    /** Starts a worker for an application with the comparison's PHP settings; $stateDir holds its writable state. */
    public static function startWorker(string $script, string $stateDir, array $env = [], array $phpArgs = []): TestMaster
    {
        $master = TestMaster::start($script, env: $env + [
            'FOLK_APP_STATE' => $stateDir . '/app-state',
            'FOLK_WORKER_PHP' => realpath(__DIR__ . '/../../../main/php/autoload.php'),
            'TMPDIR' => $stateDir . '/tmp',
        ], phpArgs: [...self::phpArgs($stateDir), ...$phpArgs]);
        @mkdir($stateDir . '/app-state', 0700, true);
        return $master;
    }

    /**
     * Starts nginx + PHP-FPM for an application; returns its port. With $scripts, nginx runs the
     * script each path names (serve.sh's FPM_SCRIPTS=1), else the application's front controller.
     */
    public static function startFpm(string $appDir, string $workdir, bool $scripts = false): int
    {
        for ($attempt = 0; ; $attempt++) {
            $probe = stream_socket_server('tcp://127.0.0.1:0');
            $port = (int) substr(strrchr(stream_socket_get_name($probe, false), ':'), 1);
            fclose($probe);
            exec(($scripts ? 'FPM_SCRIPTS=1 ' : '') . 'bash ' . escapeshellarg(self::SERVE) . ' start ' . escapeshellarg($appDir) . ' ' . $port . ' ' . escapeshellarg($workdir) . ' 2>&1', $out, $code);
            if ($code === 0) {
                return $port;
            }
            if ($attempt >= 2 || !str_contains(implode("\n", $out), 'in use')) {
                fail('serve.sh start failed: ' . implode("\n", $out));
            }
        }
    }

    public static function stopFpm(string $workdir): void
    {
        exec('bash ' . escapeshellarg(self::SERVE) . ' stop ' . escapeshellarg($workdir) . ' 2>&1', $out, $code);
        if ($code !== 0) {
            fail('serve.sh stop failed: ' . implode("\n", $out));
        }
    }

    /** A fresh private directory, removed by {@see removeTree()}. */
    public static function tempDir(string $prefix): string
    {
        $dir = sys_get_temp_dir() . '/' . $prefix . bin2hex(random_bytes(4));
        mkdir($dir, 0700);
        return $dir;
    }

    public static function removeTree(string $dir): void
    {
        if (!is_dir($dir) || is_link($dir)) {
            @unlink($dir);
            return;
        }
        foreach (scandir($dir) as $entry) {
            if ($entry !== '.' && $entry !== '..') {
                self::removeTree($dir . '/' . $entry);
            }
        }
        @rmdir($dir);
    }

    /**
     * Sends one HTTP/1.1 request to nginx and reads the response.
     *
     * @param list<array{0: string, 1: string}> $headers
     * @return array{status: int, headers: list<array{0: string, 1: string}>, body: string}
     */
    public static function fpmRequest(int $port, string $method, string $uri, array $headers, string $body): array
    {
        $socket = stream_socket_client('tcp://127.0.0.1:' . $port, $errno, $error, 10);
        if ($socket === false) {
            fail("cannot connect to nginx on port $port: $error");
        }
        $head = "$method $uri HTTP/1.1\r\n";
        foreach ($headers as [$name, $value]) {
            $head .= "$name: $value\r\n";
        }
        if ($body !== '' || in_array($method, ['POST', 'PUT', 'PATCH'], true)) {
            $head .= 'Content-Length: ' . strlen($body) . "\r\n";
        }
        fwrite($socket, $head . "Connection: close\r\n\r\n" . $body);
        stream_set_timeout($socket, 20);
        $raw = stream_get_contents($socket);
        fclose($socket);
        $split = strpos($raw, "\r\n\r\n");
        if ($split === false) {
            fail('no HTTP response from nginx: ' . show($raw));
        }
        $lines = explode("\r\n", substr($raw, 0, $split));
        $status = (int) explode(' ', array_shift($lines))[1];
        $list = [];
        $chunked = false;
        foreach ($lines as $line) {
            [$name, $value] = array_map('trim', explode(':', $line, 2));
            $list[] = [$name, $value];
            $chunked = $chunked || (strcasecmp($name, 'Transfer-Encoding') === 0 && stripos($value, 'chunked') !== false);
        }
        $content = substr($raw, $split + 4);
        if ($chunked) {
            $decoded = '';
            $at = 0;
            while (($eol = strpos($content, "\r\n", $at)) !== false && ($size = hexdec(substr($content, $at, $eol - $at))) > 0) {
                $decoded .= substr($content, $eol + 2, $size);
                $at = $eol + 2 + $size + 2;
            }
            $content = $decoded;
        }
        return ['status' => $status, 'headers' => $list, 'body' => $content];
    }

    /**
     * The `http.handle` params the gateway sends for this request (see the contract): method,
     * uri, joined headers, header_list, body and the FastCGI-style server facts.
     *
     * @param list<array{0: string, 1: string}> $headers
     */
    public static function params(string $method, string $uri, array $headers, string $body, array $server = []): array
    {
        $joined = [];
        $list = [];
        if ($body !== '' || in_array($method, ['POST', 'PUT', 'PATCH'], true)) {
            $headers[] = ['Content-Length', (string) strlen($body)];
        }
        foreach ($headers as [$name, $value]) {
            $list[] = [$name, $value];
            $joined[$name] = isset($joined[$name]) ? $joined[$name] . (strcasecmp($name, 'Cookie') === 0 ? '; ' : ', ') . $value : $value;
        }
        $query = ($q = strpos($uri, '?')) === false ? '' : substr($uri, $q + 1);
        $facts = [
            'REMOTE_ADDR' => '127.0.0.1', 'REMOTE_PORT' => '40000', 'SERVER_ADDR' => '127.0.0.1',
            'SERVER_NAME' => 'localhost', 'SERVER_PORT' => '8080', 'SERVER_PROTOCOL' => 'HTTP/1.1',
            'REQUEST_SCHEME' => 'http', 'REQUEST_METHOD' => $method, 'REQUEST_URI' => $uri,
            'QUERY_STRING' => $query, 'SCRIPT_NAME' => '', 'PATH_INFO' => $q === false ? $uri : substr($uri, 0, $q),
            'DOCUMENT_ROOT' => '', 'SCRIPT_FILENAME' => '', 'GATEWAY_INTERFACE' => 'folk/1', 'SERVER_SOFTWARE' => 'Folk',
        ];
        foreach ($headers as [$name, $value]) {
            if (strcasecmp($name, 'Content-Type') === 0) {
                $facts['CONTENT_TYPE'] = $value;
            } elseif (strcasecmp($name, 'Content-Length') === 0) {
                $facts['CONTENT_LENGTH'] = $value;
            }
        }
        return ['method' => $method, 'uri' => $uri, 'headers' => $joined, 'body' => $body,
            'header_list' => $list, 'server' => $server + $facts];
    }

    /**
     * Calls `http.handle` on the worker.
     *
     * @return array{status: int, headers: list<array{0: string, 1: string}>, body: string}
     */
    public static function workerRequest(TestMaster $worker, string $method, string $uri, array $headers, string $body): array
    {
        [$error, $result] = $worker->call('http.handle', self::params($method, $uri, $headers, $body), 30.0);
        if ($error !== null) {
            fail("http.handle $method $uri failed: " . show($error) . "\nworker stderr: " . $worker->stderr());
        }
        return self::answer($result, (string) $result['body']);
    }

    /**
     * A worker's answer, or a streamed answer's head, with $body: its status checked, its headers
     * (name => value or values) as a list of [name, value] lines, each checked.
     *
     * @return array{status: int, headers: list<array{0: string, 1: string}>, body: string}
     */
    private static function answer(array $head, string $body): array
    {
        assertTrue(is_int($head['status']) && $head['status'] >= 200 && $head['status'] <= 599, 'status in 200..599: ' . show($head['status']));
        $list = [];
        foreach ($head['headers'] as $name => $values) {
            foreach (is_array($values) ? $values : [$values] as $value) {
                assertTrue(is_string($value) && !preg_match('/[\r\n\0]/', $value), "header $name: a string without CR/LF/NUL");
                $list[] = [(string) $name, $value];
            }
        }
        return ['status' => $head['status'], 'headers' => $list, 'body' => $body];
    }

    /**
     * Calls `http.handle` on the worker as the gateway does, asking for a streamed answer
     * (`stream: true`), and puts its parts together: the head's status and headers, the body's
     * parts, then the Response's body (none after `http.end`); `parts` counts the body's parts.
     *
     * @return array{status: int, headers: list<array{0: string, 1: string}>, body: string, parts: int}
     */
    public static function workerStreamedRequest(TestMaster $worker, string $method, string $uri, array $headers, string $body): array
    {
        static $id = 1 << 20; // apart from TestMaster's own ids
        $msgid = ++$id;
        $worker->send(MessagePack::codec()->pack([0, $msgid, 'http.handle', ['stream' => true] + self::params($method, $uri, $headers, $body)]));
        $head = null;
        $received = '';
        $parts = 0;
        $ended = false;
        while (true) {
            $message = $worker->receive(30.0);
            if ($message[0] === 1) {
                assertSame($msgid, $message[1], 'response msgid');
                if ($message[2] !== null) {
                    fail("http.handle $method $uri failed: " . show($message[2]) . "\nworker stderr: " . $worker->stderr());
                }
                $head ??= $message[3];
                if (!$ended) {
                    $received .= (string) $message[3]['body'];
                }
                break;
            }
            assertSame(2, $message[0], 'a Notify before the Response');
            if ($message[1] === 'http.head') {
                assertSame(null, $head, 'one head');
                $head = $message[2];
            } elseif ($message[1] === 'http.body') {
                assertTrue($head !== null && !$ended, 'a body part after the head, before http.end');
                $received .= $message[2];
                $parts++;
            } else {
                assertSame('http.end', $message[1]);
                $ended = true;
            }
        }
        return self::answer($head, $received) + ['parts' => $parts];
    }

    /**
     * The comparable form of a response: status, body and the headers (names lower-cased,
     * values in order) without the ones that differ by server; $mask rewrites values that are
     * random by design (session ids) on both sides.
     *
     * @param null|\Closure(string): string $mask applied to the body and every header value
     */
    public static function comparable(array $response, ?\Closure $mask = null): array
    {
        $mask ??= static fn (string $s): string => $s;
        $headers = [];
        foreach ($response['headers'] as [$name, $value]) {
            $key = strtolower($name);
            if (!in_array($key, self::IGNORED, true)) {
                $headers[$key][] = $mask($value);
            }
        }
        ksort($headers);
        return ['status' => $response['status'], 'headers' => $headers, 'body' => $mask($response['body'])];
    }

    /**
     * Sends the same request to both and asserts equal status, body and headers.
     *
     * @return array{0: array, 1: array} the raw [fpm, worker] responses
     */
    public static function assertSameResponse(int $port, TestMaster $worker, string $method, string $uri, array $headers = [], string $body = '', ?\Closure $mask = null): array
    {
        $headers = array_merge([['Host', self::HOST]], $headers);
        $fpm = self::fpmRequest($port, $method, $uri, $headers, $body);
        $ours = self::workerRequest($worker, $method, $uri, $headers, $body);
        $expected = self::comparable($fpm, $mask);
        $actual = self::comparable($ours, $mask);
        if ($expected !== $actual) {
            $flags = JSON_UNESCAPED_SLASHES | JSON_PARTIAL_OUTPUT_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE;
            $a = json_encode($expected, $flags);
            $b = json_encode($actual, $flags);
            $at = strspn($a ^ $b, "\0");
            $from = max(0, $at - 300);
            fail(sprintf("%s %s differs from PHP-FPM at character %d\nFPM:    ...%s\nworker: ...%s", $method, $uri, $at,
                substr($a, $from, 600), substr($b, $from, 600)));
        }
        return [$fpm, $ours];
    }

    /** A multipart/form-data body: $parts are [name, value] or [name, content, filename, type]. */
    public static function multipart(string $boundary, array $parts, bool $close = true): string
    {
        $body = '';
        foreach ($parts as $part) {
            $body .= "--$boundary\r\nContent-Disposition: form-data; name=\"{$part[0]}\"";
            if (isset($part[2])) {
                $body .= "; filename=\"{$part[2]}\"\r\nContent-Type: " . ($part[3] ?? 'application/octet-stream');
            }
            $body .= "\r\n\r\n{$part[1]}\r\n";
        }
        return $close ? $body . "--$boundary--\r\n" : $body;
    }
}
