<?php

/*
 * The adapters in process, through Worker::call() (no PHP-FPM): what the comparisons with
 * PHP-FPM do not exercise (streamed responses, PSR-7 request details, bad params, bad status,
 * the superglobals restored after a request).
 */

declare(strict_types=1);

namespace Folk\Worker\Tests;

use Folk\Worker\Bridge\NativeSession;
use Folk\Worker\Bridge\PhpRequest;
use Folk\Worker\Bridge\RequestCycle;
use Folk\Worker\Bridge\ResponseResult;
use Folk\Worker\Bridge\SapiGlobals;
use Folk\Worker\Bridge\UploadedFiles;
use Folk\Worker\Psr\Psr15Adapter;
use Folk\Worker\Symfony\HttpKernelAdapter;
use Folk\Worker\Worker;

function requireFrameworks(array $packages, bool $needsExtensions = true): void
{
    if (($why = HttpCompare::missing($packages, $needsExtensions)) !== null) {
        skip($why);
    }
}

function quietAdapterWorker(): Worker
{
    return new Worker(log: static function (string $line): void {
    });
}

/** Sends the multipart form POST the PSR-15 tests share; returns the worker's [error, result]. */
function callWithFormPost(Worker $worker): array
{
    $b = 'B';
    $body = HttpCompare::multipart($b, [['f[x]', 'v'], ['up[]', 'file one', 'one.txt', 'text/plain'], ['up[]', 'file two', 'two.txt', 'text/plain']]);
    return $worker->call('http.handle', HttpCompare::params('POST', '/p/a%20th?x=1&y[]=2', [
        ['Host', 'example.test:8080'], ['X-Multi', 'one'], ['X-Multi', 'two'], ['Cookie', 'c=d'],
        ['Content-Type', "multipart/form-data; boundary=$b"],
    ], $body));
}

/** What any PSR-7 implementation's server request must carry of {@see callWithFormPost()}'s request. */
function assertFormPostSeen(\Psr\Http\Message\ServerRequestInterface $seen): void
{
    assertSame('/p/a%20th?x=1&y[]=2', $seen->getServerParams()['REQUEST_URI'], 'the raw request-target');
    assertSame(['one', 'two'], $seen->getHeader('X-Multi'));
    // The factories set Host from the absolute URI: it must not be there twice.
    assertSame(['example.test:8080'], $seen->getHeader('Host'), 'one Host line, the client\'s');
    assertSame(['x' => '1', 'y' => ['2']], $seen->getQueryParams());
    assertSame(['c' => 'd'], $seen->getCookieParams());
    assertSame(['f' => ['x' => 'v']], $seen->getParsedBody());
    $files = $seen->getUploadedFiles()['up'];
    assertSame(['one.txt', 'two.txt'], [$files[0]->getClientFilename(), $files[1]->getClientFilename()]);
    assertSame(['text/plain', 8, UPLOAD_ERR_OK], [$files[1]->getClientMediaType(), $files[1]->getSize(), $files[1]->getError()]);
    assertSame('1.1', $seen->getProtocolVersion());
}

test('symfony: a StreamedResponse is buffered into the body; the kernel is terminated after the call', function (): void {
    requireFrameworks(['php-symfony-http-kernel' => '/usr/share/php/Symfony/Component/HttpKernel/HttpKernel.php']);
    require_once 'Symfony/Component/HttpKernel/autoload.php';
    $kernel = new class() implements \Symfony\Component\HttpKernel\HttpKernelInterface, \Symfony\Component\HttpKernel\TerminableInterface {
        public array $terminated = [];

        public function handle(\Symfony\Component\HttpFoundation\Request $request, int $type = self::MAIN_REQUEST, bool $catch = true): \Symfony\Component\HttpFoundation\Response
        {
            return new \Symfony\Component\HttpFoundation\StreamedResponse(static function () use ($request): void {
                echo 'chunk 1 ';
                flush();
                echo 'chunk 2 for ', $request->getPathInfo(), ' ', $request->query->get('q');
            }, 202, ['Content-Type' => 'text/plain', 'X-Many' => ['a', 'b']]);
        }

        public function terminate(\Symfony\Component\HttpFoundation\Request $request, \Symfony\Component\HttpFoundation\Response $response): void
        {
            $this->terminated[] = $request->getPathInfo();
        }
    };
    $worker = (new HttpKernelAdapter($kernel))->register(quietAdapterWorker());
    [$error, $result] = $worker->call('http.handle', HttpCompare::params('GET', '/stream?q=x', [['Host', 'h']], ''));
    assertSame(null, $error);
    assertSame(202, $result['status']);
    assertSame('chunk 1 chunk 2 for /stream x', $result['body']);
    assertSame(['a', 'b'], $result['headers']['X-Many']);
    assertSame('text/plain;charset=UTF-8', $result['headers']['Content-Type'], 'default_charset appended as header() does');
    assertSame(['/stream'], $kernel->terminated);
});

test('bridge: CGI\'s Status header line sets a default 200 status, as under PHP-FPM, and is not sent as a header', function (): void {
    $notFound = ResponseResult::build(200, [], 'x', [['Status', '404 Not Found'], ['X-Kept', 'yes']]);
    assertSame(404, $notFound['status']);
    assertSame(false, isset($notFound['headers']['Status']));
    assertSame('yes', $notFound['headers']['X-Kept']);
    assertSame(503, ResponseResult::build(200, [], '', [['status', '503']])['status'], 'any case, no reason phrase');
    assertSame(500, ResponseResult::build(500, [], '', [['Status', '404 Not Found']])['status'], 'a status set otherwise stays');
    $bad = ResponseResult::build(200, [], '', [['Status', 'gone']]);
    assertSame(200, $bad['status']);
    assertSame(false, isset($bad['headers']['Status']));
});

test('bridge: output kept a write at a time costs time in proportion to its size (a script without output_buffering passes on every echo)', function (): void {
    $level = 90; // above any buffer this process opens
    $t0 = hrtime(true);
    for ($i = 0; $i < 1_000_000; $i++) {
        ResponseResult::keep($level, 'x');
    }
    $ms = (hrtime(true) - $t0) / 1e6;
    assertSame(1_000_000, ResponseResult::keptLength($level));
    assertSame(str_repeat('x', 1_000_000), ResponseResult::kept($level));
    // Linear: about 50 ms here; a copy of all held per write took over 5 s. The bound leaves room for a slow machine.
    assertTrue($ms < 2000, sprintf('a million one-byte writes kept in %.0f ms', $ms));
});

test('bridge: a variable past max_input_nesting_level in a query, a cookie or a form is dropped and logged, never raised into the application\'s error handler', function (): void {
    $deep = 'a' . str_repeat('[x]', 70);
    $log = tempnam(sys_get_temp_dir(), 'folk-log-');
    // PHP warns of it only with display_errors off (production's php.ini; `php -n` has it on).
    [$errorLog, $display] = [ini_set('error_log', $log), ini_set('display_errors', '0')];
    set_error_handler(static fn (int $type, string $message): never => throw new \ErrorException($message)); // a framework's
    try {
        assertSame(['b' => '2'], \Folk\Worker\Bridge\InputVars::query("$deep=1&b=2"));
        assertSame(['b' => '2'], \Folk\Worker\Bridge\PhpRequest::parseCookies("$deep=1; b=2"));
        assertSame(['b' => '2'], \Folk\Worker\Bridge\InputVars::postBody("$deep=1&b=2"));
    } finally {
        restore_error_handler();
        ini_set('error_log', (string) $errorLog);
        ini_set('display_errors', (string) $display);
    }
    $logged = (string) file_get_contents($log);
    unlink($log);
    assertSame(3, substr_count($logged, 'PHP Warning:  PHP Request Startup: Input variable nesting level exceeded 64.'), $logged);
});

test('bridge: an upload whose upload_tmp_dir cannot be written to is stored in the system\'s temporary directory, as PHP stores it, with no warning for the application\'s error handler', function (): void {
    // upload_tmp_dir is a php.ini setting: a process of its own, with /proc (nobody can create a file there, root included).
    $code = 'require ' . var_export(dirname(__DIR__, 2) . '/main/php/autoload.php', true) . ';'
        . 'set_error_handler(static fn (int $t, string $m): never => throw new ErrorException($m));' // a framework's
        . '$form = Folk\\Worker\\Bridge\\FormBody::parse("POST", "multipart/form-data; boundary=B",'
        . ' "--B\\r\\nContent-Disposition: form-data; name=\\"f\\"; filename=\\"a.txt\\"\\r\\n\\r\\ncontent\\r\\n--B--\\r\\n");'
        . '$f = $form->files["f"];'
        . 'echo json_encode([$f["error"], file_get_contents($f["tmp_name"]), dirname($f["tmp_name"])]);'
        . 'array_map("unlink", $form->tempFiles);';
    $out = [];
    exec(implode(' ', array_map('escapeshellarg', [PHP_BINARY, ...TestMaster::phpArgs(), '-d', 'upload_tmp_dir=/proc', '-r', $code])) . ' 2>&1', $out, $status);
    assertSame(0, $status, implode("\n", $out));
    assertSame([UPLOAD_ERR_OK, 'content', realpath(sys_get_temp_dir())], json_decode(implode('', $out), true), implode("\n", $out));
});

test('bridge: a NUL byte sent as it is in a urlencoded body is a NUL of the value, and the fields after it stay, as PHP\'s POST reader reads them', function (): void {
    $post = \Folk\Worker\Bridge\InputVars::postBody("a=1&b=x\0y&c\0d=2&e=3");
    assertSame(['a' => '1', 'b' => "x\0y", 'c' => '2', 'e' => '3'], $post);
});

test('bridge: max_input_vars as PHP counts it: a query keeps the first 1000, a urlencoded body 1001 (the piece that passed it), multipart fields and cookies 1000', function (): void {
    assertSame('1000', ini_get('max_input_vars'), 'the test assumes PHP\'s default');
    $pieces = array_map(static fn (int $i): string => "a[x][]=$i", range(1, 1000));
    $query = \Folk\Worker\Bridge\InputVars::query(implode('&', [...$pieces, 'a[x][]=past', 'b=1']));
    assertSame(1000, count($query['a']['x']));
    assertTrue(!isset($query['b']));
    // PHP's POST reader registers the piece that passes the limit, then stops: "[]" appends.
    $post = \Folk\Worker\Bridge\InputVars::postBody(implode('&', [...$pieces, 'a[x][]=last', 'b=1']));
    assertSame(1001, count($post['a']['x']));
    assertSame('last', $post['a']['x'][1000]);
    assertTrue(!isset($post['b']));
    $post = \Folk\Worker\Bridge\InputVars::postBody(implode('&', [...array_slice($pieces, 0, 999), '', 'c.d[e]=1', 'b=2']));
    assertSame(['e' => '1'], $post['c_d'], 'an empty piece counts; the name as PHP makes it');
    $multipart = implode('', array_map(static fn (int $i): string => "--B\r\nContent-Disposition: form-data; name=\"f$i\"\r\n\r\n$i\r\n", range(1, 1005))) . "--B--\r\n";
    $fields = \Folk\Worker\Bridge\FormBody::parse('POST', 'multipart/form-data; boundary=B', $multipart)->post;
    assertSame(1000, count($fields));
    assertSame('1000', $fields['f1000']);
    $cookies = \Folk\Worker\Bridge\PhpRequest::parseCookies(implode(';', array_map(static fn (int $i): string => "c$i=$i", range(1, 1005))) . ';;');
    assertSame(1000, count($cookies));
    assertSame('1000', $cookies['c1000']);
});

test('bridge: InputVars::register() registers a variable as parse_str() does, name by name into what is there', function (): void {
    // Names from the characters PHP's variable registration treats specially, compared in sequences
    // (an append, a replaced scalar, a nesting level past the limit) with parse_str() of the same pieces.
    mt_srand(11);
    $alphabet = ['a', 'b', '0', ' ', '.', '[', ']', '[]', '][', '_', "\t", '-', '__Host-', '._Secure-', "\0"];
    for ($n = 0; $n < 20000; $n++) {
        $names = [];
        for ($count = mt_rand(1, 4); $count > 0; $count--) {
            $name = '';
            for ($length = mt_rand(0, 9); $length > 0; $length--) {
                $name .= $alphabet[mt_rand(0, count($alphabet) - 1)];
            }
            $names[] = $name;
        }
        $names[] = 'deep' . str_repeat('[x]', mt_rand(60, 70));
        @parse_str(implode('&', array_map(static fn (string $name, int $i): string => rawurlencode($name) . "=$i", $names, array_keys($names))), $expected);
        $actual = [];
        foreach ($names as $i => $name) {
            \Folk\Worker\Bridge\InputVars::register($actual, $name, (string) $i);
        }
        assertSame($expected, $actual, json_encode($names));
    }
});

test('bridge: an Authorization header gives PHP_AUTH_USER, PHP_AUTH_PW or PHP_AUTH_DIGEST, as a web SAPI does', function (): void {
    $server = static fn (string $auth): array => PhpRequest::fromParams(
        HttpCompare::params('GET', '/', [['Host', 'h'], ['Authorization', $auth]], ''))->server;
    $basic = $server('Basic ' . base64_encode('alice:s3cret:with colon'));
    assertSame(['alice', 's3cret:with colon'], [$basic['PHP_AUTH_USER'], $basic['PHP_AUTH_PW']]);
    assertSame(false, isset($basic['PHP_AUTH_DIGEST']));
    $noPassword = $server('basic ' . base64_encode('bob:'));
    assertSame('bob', $noPassword['PHP_AUTH_USER']);
    assertSame(false, isset($noPassword['PHP_AUTH_PW']), 'an empty password is left out, as PHP does');
    assertSame(false, isset($server('Basic ' . base64_encode('no colon'))['PHP_AUTH_USER']));
    assertSame('username="c", nonce="n"', $server('Digest username="c", nonce="n"')['PHP_AUTH_DIGEST']);
    $bearer = $server('Bearer t');
    assertSame(false, isset($bearer['PHP_AUTH_USER']) || isset($bearer['PHP_AUTH_DIGEST']));
});

test('http: output flushed out of the capture (ob_flush(), an own buffer flushed, ob_end_flush()) stays in the body, in order', function (): void {
    // A plain output buffer would pass flushed output on to stdout: lost to the answer, where
    // PHP-FPM sends it to the client.
    $worker = quietAdapterWorker()->http(static function (): string {
        echo 'a';
        ob_flush();
        ob_start();
        echo 'b';
        ob_end_flush();
        echo 'c';
        ob_flush();
        echo 'd';
        return '';
    });
    [$error, $result] = $worker->call('http.handle', ['method' => 'GET', 'uri' => '/', 'headers' => [], 'body' => '']);
    assertSame(null, $error);
    assertSame('abcd', $result['body']);
    $level = ob_get_level();
    $worker = quietAdapterWorker()->http(static function (): string {
        echo 'kept ';
        ob_end_flush(); // the handler closes the capture itself: what it held is still the answer's
        return 'returned';
    });
    [$error, $result] = $worker->call('http.handle', ['method' => 'GET', 'uri' => '/', 'headers' => [], 'body' => '']);
    assertSame('returnedkept ', $result['body']);
    assertSame($level, ob_get_level());
});

test('psr-15: the server request carries headers in order, query, cookies, parsed form body, uploaded files, body stream', function (): void {
    requireFrameworks(['php-nyholm-psr7' => '/usr/share/php/Nyholm/Psr7/Factory/Psr17Factory.php'], needsExtensions: false);
    require_once 'Nyholm/Psr7/autoload.php';
    $seen = null;
    $handler = static function (\Psr\Http\Message\ServerRequestInterface $request) use (&$seen): \Psr\Http\Message\ResponseInterface {
        $seen = $request;
        return (new \Nyholm\Psr7\Response(201, ['Set-Cookie' => ['a=1', 'b=2'], 'Content-Type' => 'application/json']))
            ->withBody(\Nyholm\Psr7\Stream::create('{"ok":true}'));
    };
    $worker = (new Psr15Adapter($handler))->register(quietAdapterWorker());
    [$error, $result] = callWithFormPost($worker);
    assertSame(null, $error);
    assertSame(['status' => 201, 'headers' => ['Set-Cookie' => ['a=1', 'b=2'], 'Content-Type' => 'application/json'], 'body' => '{"ok":true}'], $result);
    assertSame('http://example.test:8080/p/a%20th?x=1&y%5B%5D=2', (string) $seen->getUri(), 'as nyholm/psr7 normalises it');
    assertFormPostSeen($seen);

    [$error] = $worker->call('http.handle', HttpCompare::params('PUT', '/j', [['Content-Type', 'application/json']], '{"a":1}'));
    assertSame(null, $error);
    assertSame(null, $seen->getParsedBody(), 'only form POST bodies are parsed');
    assertSame('{"a":1}', (string) $seen->getBody());
    assertSame(null, $seen->getUploadedFiles()['up'] ?? null, 'nothing of the previous request');
});

test('psr-15: the server request and its uploaded files are built with the PSR-17 factories given (guzzlehttp/psr7)', function (): void {
    requireFrameworks(['php-guzzlehttp-psr7' => '/usr/share/php/GuzzleHttp/Psr7/HttpFactory.php'], needsExtensions: false);
    require_once 'GuzzleHttp/Psr7/autoload.php';
    $factory = new \GuzzleHttp\Psr7\HttpFactory();
    $seen = null;
    $contents = null;
    $handler = static function (\Psr\Http\Message\ServerRequestInterface $request) use (&$seen, &$contents, $factory): \Psr\Http\Message\ResponseInterface {
        $seen = $request;
        $contents = (string) $request->getUploadedFiles()['up'][1]->getStream(); // read while the request lasts
        return $factory->createResponse(200)->withHeader('Content-Type', 'text/plain')
            ->withBody($factory->createStream('guzzle'));
    };
    $worker = (new Psr15Adapter($handler, $factory, $factory, $factory))->register(quietAdapterWorker());
    [$error, $result] = callWithFormPost($worker);
    assertSame(null, $error);
    // PHP adds default_charset to a text/ type, as PHP-FPM sends it.
    assertSame(['status' => 200, 'headers' => ['Content-Type' => 'text/plain;charset=UTF-8'], 'body' => 'guzzle'], $result);
    assertSame(\GuzzleHttp\Psr7\ServerRequest::class, get_class($seen));
    assertSame('example.test', $seen->getUri()->getHost());
    assertSame(8080, $seen->getUri()->getPort());
    assertFormPostSeen($seen);
    $files = $seen->getUploadedFiles()['up'];
    assertSame([\GuzzleHttp\Psr7\UploadedFile::class, \GuzzleHttp\Psr7\UploadedFile::class], [get_class($files[0]), get_class($files[1])]);
    assertSame('file two', $contents);
});

test('adapters: bad params and a bad status are errors; the superglobals are restored after every request', function (): void {
    requireFrameworks(['php-nyholm-psr7' => '/usr/share/php/Nyholm/Psr7/Factory/Psr17Factory.php'], needsExtensions: false);
    require_once 'Nyholm/Psr7/autoload.php';
    $status = 200;
    $worker = (new Psr15Adapter(static function () use (&$status): \Psr\Http\Message\ResponseInterface {
        return new \Nyholm\Psr7\Response($status, [], 'q=' . ($_GET['q'] ?? '-'));
    }))->register(quietAdapterWorker());
    $getBefore = $_GET;
    [$error, $result] = $worker->call('http.handle', HttpCompare::params('GET', '/?q=seen', [], ''));
    assertSame([null, 'q=seen'], [$error, $result['body']], 'the application sees $_GET');
    assertSame($getBefore, $_GET, '$_GET restored');
    [$error] = $worker->call('http.handle', ['method' => 'GET', 'uri' => '/', 'header_list' => [['X-Bad', ['not', 'a string']]]]);
    assertSame(Worker::HANDLER_ERROR, $error['code']);
    assertContains('header value must be a string', $error['message']);
    [$error] = $worker->call('http.handle', ['method' => 'GET', 'uri' => '/', 'server' => 'not a map']);
    assertSame(Worker::HANDLER_ERROR, $error['code']);
    $status = 101;
    [$error] = $worker->call('http.handle', HttpCompare::params('GET', '/', [], ''));
    assertContains('outside 200..599', $error['message']);
});

test('bridge: a front controller has no PATH_INFO and PHP_SELF is its script, as under PHP-FPM; a URL naming the script keeps both', function (): void {
    $server = static fn (string $uri, string $scriptName, string $pathInfo): array => \Folk\Worker\Bridge\PhpRequest::fromParams(
        HttpCompare::params('GET', $uri, [['Host', 'h']], '', ['SCRIPT_NAME' => $scriptName, 'PATH_INFO' => $pathInfo]))->server;
    // Every path rewritten to the front controller (nginx try_files): the gateway mounts "" or "/app".
    foreach ([['/json?x=1', '', '/json', '/index.php'], ['/app/json', '/app', '/json', '/app/index.php']] as [$uri, $mount, $rest, $self]) {
        $s = $server($uri, $mount, $rest);
        assertSame([$self, $self, false], [$s['SCRIPT_NAME'], $s['PHP_SELF'], array_key_exists('PATH_INFO', $s)], $uri);
    }
    // The URL names the script ("/index.php/json"): PATH_INFO is the rest, PHP_SELF both.
    $s = $server('/index.php/json', '/index.php', '/json');
    assertSame(['/index.php', '/index.php/json', '/json'], [$s['SCRIPT_NAME'], $s['PHP_SELF'], $s['PATH_INFO']]);
});

test('symfony: a mount prefix (SCRIPT_NAME "/app") is the base URL, as under a PHP-FPM front controller', function (): void {
    requireFrameworks(['php-symfony-http-kernel' => '/usr/share/php/Symfony/Component/HttpKernel/HttpKernel.php']);
    require_once 'Symfony/Component/HttpKernel/autoload.php';
    $kernel = new class() implements \Symfony\Component\HttpKernel\HttpKernelInterface {
        public function handle(\Symfony\Component\HttpFoundation\Request $request, int $type = self::MAIN_REQUEST, bool $catch = true): \Symfony\Component\HttpFoundation\Response
        {
            return new \Symfony\Component\HttpFoundation\JsonResponse([$request->getBaseUrl(), $request->getPathInfo(),
                $request->server->get('SCRIPT_NAME'), $request->getUri()]);
        }
    };
    $worker = (new HttpKernelAdapter($kernel))->register(quietAdapterWorker());
    $cases = [
        // [SCRIPT_NAME, SCRIPT_FILENAME, uri] => [base URL, path info, SCRIPT_NAME as FPM has it]
        [['/app', '', '/app/json?x=1'], ['/app', '/json', '/app/index.php']],
        [['/app', '/srv/app/public/front.php', '/app/json'], ['/app', '/json', '/app/front.php']],
        [['', '', '/json'], ['', '/json', '/index.php']],
        [['', '', '/'], ['', '/', '/index.php']],
    ];
    foreach ($cases as [[$scriptName, $scriptFilename, $uri], [$base, $path, $seenScript]]) {
        $prefixLength = strlen($scriptName);
        [$error, $result] = $worker->call('http.handle', HttpCompare::params('GET', $uri, [['Host', 'h']], '', [
            'SCRIPT_NAME' => $scriptName, 'SCRIPT_FILENAME' => $scriptFilename,
            'PATH_INFO' => substr(strtok($uri, '?'), $prefixLength),
        ]));
        assertSame(null, $error);
        [$seenBase, $seenPath, $seenName] = json_decode($result['body'], true);
        assertSame([$base, $path, $seenScript], [$seenBase, $seenPath, $seenName], "SCRIPT_NAME '$scriptName', uri $uri");
    }
});

test('bridge: an exception the application does not catch ends its request as PHP ends it: the exception handler answers, else 500 and the log line', function (): void {
    $worker = quietAdapterWorker();
    $worker->register('http.handle', new RequestCycle($worker, static function (PhpRequest $request): array {
        echo "printed before\n";
        if (($request->get['handler'] ?? '') === '1') {
            set_exception_handler(static function (\Throwable $e): void {
                http_response_code(503);
                echo 'handled: ', $e->getMessage(), "\n";
            });
        }
        throw new \RuntimeException('not caught');
    }));
    $throwLine = __LINE__ - 2;
    // Without a handler: PHP's fatal error "Uncaught ...", logged; 500 where display_errors is off.
    $log = tempnam(sys_get_temp_dir(), 'folk-log-');
    $settings = [ini_set('error_log', $log), ini_set('display_errors', '0'), ini_set('log_errors', '1')];
    try {
        [$error, $result] = $worker->call('http.handle', HttpCompare::params('GET', '/', [['Host', 'h']], ''));
    } finally {
        [$errorLog, $display, $logErrors] = $settings;
        ini_set('error_log', (string) $errorLog);
        ini_set('display_errors', (string) $display);
        ini_set('log_errors', (string) $logErrors);
    }
    $logged = (string) file_get_contents($log);
    unlink($log);
    assertSame(null, $error, 'an answer, not a failed call (the gateway\'s 502)');
    assertSame([500, "printed before\n"], [$result['status'], $result['body']]);
    assertTrue(str_contains($logged, 'PHP Fatal error:  Uncaught RuntimeException: not caught'), $logged);
    // display_errors on: PHP's rule keeps 200, and the error follows the output as PHP prints it (html_errors off).
    $settings = [ini_set('error_log', $log), ini_set('display_errors', '1'), ini_set('html_errors', '0')];
    try {
        [$error, $result] = $worker->call('http.handle', HttpCompare::params('GET', '/', [['Host', 'h']], ''));
    } finally {
        [$errorLog, $display, $html] = $settings;
        ini_set('error_log', (string) $errorLog);
        ini_set('display_errors', (string) $display);
        ini_set('html_errors', (string) $html);
        @unlink($log);
    }
    assertSame([null, 200], [$error, $result['status']]);
    assertTrue(str_starts_with($result['body'], "printed before\n\nFatal error: Uncaught RuntimeException: not caught in " . __FILE__ . ':')
        && str_ends_with($result['body'], "\n  thrown in " . __FILE__ . ' on line ' . $throwLine . "\n"), $result['body']);
    // With one: it runs, and the answer is what was printed, with the status it set.
    try {
        [$error, $result] = $worker->call('http.handle', HttpCompare::params('GET', '/?handler=1', [['Host', 'h']], ''));
    } finally {
        restore_exception_handler(); // the serve loop sets a request's handlers back after it (RequestState)
    }
    assertSame(null, $error);
    assertSame([503, "printed before\nhandled: not caught\n"], [$result['status'], $result['body']]);
});

test('bridge: move_uploaded_file() and is_uploaded_file() take the request\'s uploads as under PHP-FPM (with ext-ffi), and only those', function (): void {
    $target = sys_get_temp_dir() . '/folk-moved-' . getmypid();
    if (!is_dir($target) && !mkdir($target)) {
        fail("cannot create $target");
    }
    $seen = [];
    $worker = quietAdapterWorker();
    $worker->register('http.handle', new RequestCycle($worker, static function (PhpRequest $request) use ($target, &$seen): array {
        $tmp = $_FILES['up']['tmp_name'];
        $seen = ['tmp' => $tmp, 'uploaded' => is_uploaded_file($tmp), 'script' => is_uploaded_file(__FILE__)];
        if (($request->get['move'] ?? '') === '1') {
            $seen['other'] = move_uploaded_file(__FILE__, "$target/script.php");
            $seen['moved'] = @move_uploaded_file($tmp, "$target/one.txt");
            $seen['after'] = is_uploaded_file($tmp);
        }
        return [200, [], 'ok'];
    }));
    $b = 'B';
    $call = static fn (string $query) => $worker->call('http.handle', HttpCompare::params('POST', '/upload?' . $query,
        [['Host', 'h'], ['Content-Type', "multipart/form-data; boundary=$b"]],
        HttpCompare::multipart($b, [['up', 'file one', 'one.txt', 'text/plain']])));
    try {
        assertSame(null, $call('move=1')[0]);
        $moved = UploadedFiles::available();
        assertSame(extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0' && getenv('FOLK_CLI_UPLOADS') !== '0',
            $moved, 'the worker lists uploads wherever FFI is there to do it');
        assertSame([$moved, false, false, $moved, false], [$seen['uploaded'], $seen['script'], $seen['other'], $seen['moved'], $seen['after']]);
        assertSame($moved ? 'file one' : false, @file_get_contents("$target/one.txt"), 'moved with its content');
        assertTrue(!file_exists("$target/script.php"), 'a file the request did not upload is not moved');
        // Not moved: after the request it is neither listed nor left on disk.
        assertSame(null, $call('move=0')[0]);
        assertSame($moved, $seen['uploaded']);
        assertSame([false, false], [is_uploaded_file($seen['tmp']), file_exists($seen['tmp'])]);
    } finally {
        @unlink("$target/one.txt");
        @rmdir($target);
    }
});

test('bridge: getallheaders() and apache_request_headers() answer for the request as PHP-FPM\'s do, and are empty outside one', function (): void {
    $request = PhpRequest::fromParams(HttpCompare::params('POST', '/x', [['Host', 'h:8080'], ['User-Agent', 'curl/7.88.1'],
        ['x-a', '1'], ['Content-Type', 'text/plain'], ['X-Forwarded-For', '10.0.0.1'], ['Content-Length', '5']], 'hello'));
    $saved = $request->installGlobals();
    try {
        // What nginx + PHP-FPM gave this request: the last header first, Content-Type and Content-Length
        // (from CONTENT_TYPE and CONTENT_LENGTH) at their header's place, names rebuilt from HTTP_* keys.
        $fpm = ['Content-Length' => '5', 'X-Forwarded-For' => '10.0.0.1', 'Content-Type' => 'text/plain', 'X-A' => '1',
            'User-Agent' => 'curl/7.88.1', 'Host' => 'h:8080'];
        assertIdentical($fpm, getallheaders());
        assertIdentical($fpm, apache_request_headers());
    } finally {
        PhpRequest::restoreGlobals($saved);
    }
    assertIdentical([], getallheaders(), 'no request, no headers');
});

test('bridge: php://input reads the request\'s body as under PHP-FPM (with ext-ffi), empty for multipart and after the request', function (): void {
    $input = static fn (): string => (string) file_get_contents('php://input');
    $within = static function (string $method, string $contentType, string $body) use ($input): array {
        $request = PhpRequest::fromParams(HttpCompare::params($method, '/api', [['Host', 'h'], ['Content-Type', $contentType]], $body));
        $saved = $request->installGlobals();
        try {
            $stream = fopen('php://input', 'rb');
            $seen = [$input(), (string) stream_get_contents($stream), $input()]; // read twice, as PHP allows
            fclose($stream);
            return $seen;
        } finally {
            PhpRequest::restoreGlobals($saved);
        }
    };
    $works = extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0' && getenv('FOLK_CLI_INPUT') !== '0';
    $json = '{"legacy":"api","n":1}';
    assertSame(array_fill(0, 3, $works ? $json : ''), $within('POST', 'application/json', $json));
    $large = str_repeat("line of a large body\n", 150000); // 3 MiB
    assertSame($works ? [strlen($large), sha1($large)] : [0, sha1('')], (static function () use ($within, $large): array {
        $seen = $within('PUT', 'text/plain', $large)[1];
        return [strlen($seen), sha1($seen)];
    })());
    assertSame(array_fill(0, 3, $works ? 'a=1&b=2' : ''), $within('POST', 'application/x-www-form-urlencoded', 'a=1&b=2'));
    $b = 'B';
    assertSame(['', '', ''], $within('POST', "multipart/form-data; boundary=$b", HttpCompare::multipart($b, [['f', 'v']])), 'PHP consumed it');
    assertSame('', $input(), 'nothing between requests');
});

test('bridge: a native session a plain http() handler opens is closed after its call: the next client never finds it, and a session that cannot be written is logged, not raised', function (): void {
    if (!extension_loaded('ffi') || (string) ini_get('ffi.enable') === '0' || !function_exists('session_start')) {
        skip('needs the session extension, and ext-ffi to start sessions in this test process, whose stdout has had output');
    }
    $dir = sys_get_temp_dir() . '/folk-sessions-plain-' . getmypid();
    @mkdir($dir, 0700);
    $savedPath = (string) ini_get('session.save_path');
    $log = tempnam(sys_get_temp_dir(), 'folk-log-');
    $errorLog = ini_set('error_log', $log);
    $level = ob_get_level();
    ob_start(); // nothing may reach stdout while the calls run: PHP refuses sessions once headers count as sent
    try {
        SapiGlobals::clearHeadersSent();
        ini_set('session.save_path', $dir);
        $worker = quietAdapterWorker()->http(static function (\Folk\Worker\Http\Request $request): string {
            session_start();
            $seen = $_SESSION['who'] ?? '-';
            $_SESSION['who'] = $request->query()['who'];
            return $seen;
        });
        $call = static fn (string $who): array => $worker->call('http.handle', HttpCompare::params('GET', "/?who=$who", [['Host', 'h']], ''));
        [$error, $result] = $call('ada');
        assertSame([null, '-'], [$error, $result['body']], 'a call starts without a session');
        [$error, $result] = $call('bob');
        assertSame([null, '-'], [$error, $result['body']], 'not the previous client\'s session');
        assertSame([PHP_SESSION_NONE, false], [session_status(), isset($_SESSION)]);
        // A save handler that cannot write, in an application whose error handler throws (a framework's).
        session_set_save_handler(new class() implements \SessionHandlerInterface {
            public function open(string $path, string $name): bool { return true; }
            public function close(): bool { return true; }
            public function read(string $id): string|false { return ''; }
            public function write(string $id, string $data): bool { return false; }
            public function destroy(string $id): bool { return true; }
            public function gc(int $max): int|false { return 0; }
        }, false);
        set_error_handler(static fn (int $type, string $message): never => throw new \ErrorException($message));
        try {
            foreach (['ada', 'bob'] as $who) {
                [$error, $result] = $call($who);
                assertSame([null, 200, '-'], [$error, $result['status'] ?? null, $result['body'] ?? null], $who);
            }
        } finally {
            restore_error_handler();
        }
    } finally {
        if (session_status() === PHP_SESSION_ACTIVE) {
            session_abort();
        }
        ini_set('session.save_path', $savedPath);
        ini_set('session.save_handler', 'files');
        ini_set('error_log', (string) $errorLog);
        while (ob_get_level() > $level) {
            ob_end_clean();
        }
        array_map('unlink', glob("$dir/*") ?: []);
        @rmdir($dir);
    }
    $logged = (string) file_get_contents($log);
    unlink($log);
    assertSame(2, substr_count($logged, 'PHP Warning:  Unknown: Failed to write session data'), $logged);
});

test('bridge: a native session starts as a PHP-FPM request does (with ext-ffi): no id before session_start(), which reads the request\'s cookie itself', function (): void {
    if (!extension_loaded('ffi') || (string) ini_get('ffi.enable') === '0' || !function_exists('session_start')) {
        skip('needs ext-ffi and the session extension; without them the id is set from the cookie (README, known differences)');
    }
    $dir = sys_get_temp_dir() . '/folk-sessions-' . getmypid();
    @mkdir($dir, 0700);
    $savedPath = (string) ini_get('session.save_path');
    $session = new NativeSession();
    $level = ob_get_level();
    ob_start(); // nothing may reach stdout while the requests run: PHP refuses session ids once headers count as sent
    try {
        SapiGlobals::clearHeadersSent();
        ini_set('session.save_path', $dir);
        $request = static function (?string $cookie, \Closure $code) use ($session): array {
            $headers = [['Host', 'h']];
            if ($cookie !== null) {
                $headers[] = ['Cookie', $cookie];
            }
            $saved = PhpRequest::fromParams(HttpCompare::params('GET', '/', $headers, ''))->installGlobals();
            try {
                $session->begin($_COOKIE);
                $seen = $code();
                $seen[] = $session->requestCookie();
                $session->end(false);
                header_remove();
                return $seen;
            } finally {
                PhpRequest::restoreGlobals($saved);
            }
        };
        // Legacy code's idiom, which a worker that set the id before the request never let start.
        $legacy = static function (): array {
            $before = session_id();
            if (session_id() == '') {
                session_start();
            }
            return [$before, session_id(), session_status() === PHP_SESSION_ACTIVE];
        };
        $id1 = 'folk' . bin2hex(random_bytes(12));
        $id2 = 'folk' . bin2hex(random_bytes(12));
        assertIdentical(['', $id1, true, null], $request("PHPSESSID=$id1", $legacy), 'a returning visitor');
        assertIdentical(['', $id2, true, null], $request("PHPSESSID=$id2", $legacy), 'the next one: not the previous request\'s id');
        [$before, $fresh, $active] = $request(null, $legacy);
        assertIdentical(['', true], [$before, $active], 'a new visitor');
        assertTrue(!in_array($fresh, ['', $id1, $id2], true), "a new id, not $fresh");
        assertIdentical([$id2, null], $request("PHPSESSID=$id1; OTHER=$id2", static function (): array {
            session_name('OTHER'); // the name set before session_start() decides which cookie counts
            session_start();
            $id = session_id();
            session_write_close();
            session_name('PHPSESSID');
            return [$id];
        }), 'the cookie of the session name in force at session_start()');
        assertSame('', session_id(), 'none between requests');
    } finally {
        if (session_status() === PHP_SESSION_ACTIVE) {
            session_write_close();
        }
        while (ob_get_level() > $level) {
            ob_end_clean();
        }
        ini_set('session.save_path', $savedPath);
        array_map('unlink', glob($dir . '/*') ?: []);
        @rmdir($dir);
    }
});

test('bridge: filter_input() and filter_has_var() find each request\'s query, form and cookies, and getenv() its FastCGI params, in a worker that lives on (with ext-ffi), nothing of the request before, and the process\'s own superglobals stay as they were', function (): void {
    $seen = [];
    $worker = quietAdapterWorker();
    $worker->register('http.handle', new RequestCycle($worker, static function (PhpRequest $request) use (&$seen): array {
        $seen = [filter_input_array(INPUT_GET), filter_input_array(INPUT_POST), filter_input_array(INPUT_COOKIE),
            filter_input(INPUT_GET, 'n', FILTER_VALIDATE_INT), filter_has_var(INPUT_POST, 'f'), getenv('QUERY_STRING')];
        return [200, [], 'ok'];
    }));
    $before = [$_GET, $_POST, $_COOKIE, $_SERVER];
    $b = 'B';
    assertSame(null, $worker->call('http.handle', HttpCompare::params('POST', '/x?n=7&q[]=a', [['Host', 'h'], ['Cookie', 'c=1; c=2'],
        ['Content-Type', "multipart/form-data; boundary=$b"]], HttpCompare::multipart($b, [['f[x]', 'v'], ['up', 'file', 'a.txt', 'text/plain']])))[0]);
    $works = extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0' && getenv('FOLK_FILTER_INPUT') !== '0';
    assertSame($works ? [['n' => '7', 'q' => ['a']], ['f' => ['x' => 'v']], ['c' => '1'], 7, true, 'n=7&q[]=a'] : [null, null, null, null, false, false], $seen);
    assertSame(null, $worker->call('http.handle', HttpCompare::params('GET', '/y', [['Host', 'h']], ''))[0]);
    assertSame([null, null, null, null, false, $works ? '' : false], $seen, 'nothing of the request before');
    assertSame(null, $worker->call('http.handle', HttpCompare::params('POST', '/z?n=x', [['Host', 'h'],
        ['Content-Type', 'application/x-www-form-urlencoded']], 'f=1'))[0]);
    assertSame($works ? [['n' => 'x'], ['f' => '1'], null, false, true, 'n=x'] : [null, null, null, null, false, false], $seen);
    assertIdentical($before, [$_GET, $_POST, $_COOKIE, $_SERVER], 'the superglobals after the requests');
    assertSame(false, getenv('QUERY_STRING'), 'getenv() between requests: the environment');
});
