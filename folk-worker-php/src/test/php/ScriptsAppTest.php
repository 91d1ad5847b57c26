<?php

/*
 * Folk\Worker\Scripts against PHP-FPM: an application of scripts (apps/scripts/public: a front
 * controller, scripts in directories, a session, a form and an upload, a redirect, exit(), a fatal
 * error, an exception, a shutdown function, exit() in one) is served by nginx + PHP-FPM with the usual setup for
 * such applications (fpm/serve.sh with FPM_SCRIPTS=1, the reference) and by a worker that runs each
 * request's script in a process of its own. For every request status, body and headers must be
 * equal (Date, Server and the gateway-managed ones aside; session ids masked).
 */

declare(strict_types=1);

namespace Folk\Worker\Tests;

const SCRIPTS_APP = __DIR__ . '/apps/scripts';

/** Runs $body with the scripts application under PHP-FPM (its port) and in a worker, shared by the tests. */
function withScripts(\Closure $body): void
{
    static $running = null;
    if (TestMaster::withoutIni()) {
        skip('php -n: a script\'s header() lines, php://input and uploads need ext-ffi (see the README)');
    }
    if (($why = HttpCompare::missing(['php-fpm' => '/usr/sbin/php-fpm8.2', 'nginx' => '/usr/sbin/nginx'], false)) !== null) {
        skip($why);
    }
    if (!function_exists('pcntl_fork')) {
        skip('ext-pcntl is not loaded');
    }
    if ($running === null) {
        $dir = HttpCompare::tempDir('folk-scripts-');
        $port = HttpCompare::startFpm(SCRIPTS_APP, "$dir/fpm", true);
        $master = HttpCompare::startWorker(SCRIPTS_APP . '/worker.php', "$dir/worker");
        register_shutdown_function(static function () use ($master, $dir): void {
            exec('pkill -KILL -P ' . $master->pid()); // a request's process a failed test left running
            $master->close();
            HttpCompare::stopFpm("$dir/fpm");
            HttpCompare::removeTree($dir);
        });
        $running = [$port, $master, $dir];
        assertSame(readyParams($master->pid()), $master->ready(10.0));
    }
    [$port, $master, $dir] = $running;
    try {
        $body($port, $master, $dir);
    } catch (AssertionFailed $e) {
        throw new AssertionFailed($e->getMessage() . "\nworker stderr:\n" . substr($master->stderr(), 0, 3000), 0, $e);
    }
}

function maskSession(string $value): string
{
    return preg_replace('/\b(PHPSESSID|OTHER)=[^;\s"]+/', '$1=<session-id>', $value);
}

test('scripts: each path runs the script it names, or the front controller, as under PHP-FPM', function (): void {
    withScripts(function (int $port, TestMaster $worker): void {
        $same = static fn (string $method, string $uri, array $headers = [], string $body = ''): array
            => HttpCompare::assertSameResponse($port, $worker, $method, $uri, $headers, $body, maskSession(...));

        [, $ours] = $same('GET', '/info.php/a/b?x=1&y[]=2');
        $info = json_decode($ours['body'], true);
        assertSame(['/info.php', '/info.php/a/b', '/a/b', '/info.php', 'public', '/info.php/a/b', '200'],
            [$info['script'], $info['self'], $info['path_info'], $info['file'], $info['cwd'], $info['document_uri'],
                $info['redirect_status']]);
        [, $again] = $same('GET', '/info.php');
        $info = json_decode($again['body'], true);
        assertSame([1, 1, 'hi'], [$info['global'], $info['static'], $info['constant']], 'a fresh process: nothing of the request before');

        [, $ours] = $same('GET', '/some/pretty/url?page=2');
        assertSame("front /some/pretty/url?page=2 /index.php /index.php /index.php no-path-info {\"page\":\"2\"}\n", $ours['body']);
        $same('GET', '/');
        $same('GET', '/index.php');
        [, $ours] = $same('GET', '/admin/');
        assertSame("admin index /admin/index.php in admin\n", $ours['body']);
        // A directory without its "/": nginx redirects (its own page, an absolute URL), and so does the worker.
        $fpm = HttpCompare::fpmRequest($port, 'GET', '/admin?x=1', [['Host', HttpCompare::HOST]], '');
        $ours = HttpCompare::workerRequest($worker, 'GET', '/admin?x=1', [['Host', HttpCompare::HOST]], '');
        assertSame([301, 301], [$fpm['status'], $ours['status']]);
        assertSame('http://' . HttpCompare::HOST . ":$port/admin/?x=1", headerOf($fpm, 'Location'));
        assertSame('/admin/?x=1', headerOf($ours, 'Location'));
        // Sent as "//admin", the path still goes on resolved: "//admin/" would name a host "admin".
        $fpm = HttpCompare::fpmRequest($port, 'GET', '//admin?x=1', [['Host', HttpCompare::HOST]], '');
        $ours = HttpCompare::workerRequest($worker, 'GET', '//admin?x=1', [['Host', HttpCompare::HOST]], '');
        assertSame([301, 301], [$fpm['status'], $ours['status']]);
        assertSame('http://' . HttpCompare::HOST . ":$port/admin/?x=1", headerOf($fpm, 'Location'));
        assertSame('/admin/?x=1', headerOf($ours, 'Location'));
        // A directory without an index.php: nginx's 403.
        $fpm = HttpCompare::fpmRequest($port, 'GET', '/images/', [['Host', HttpCompare::HOST]], '');
        $ours = HttpCompare::workerRequest($worker, 'GET', '/images/', [['Host', HttpCompare::HOST]], '');
        assertSame([403, 403], [$fpm['status'], $ours['status']]);
        $same('GET', '/admin/./../info.php');
        $same('GET', '/%69nfo.php');
        [, $ours] = $same('GET', '/nothing.php');
        assertSame(404, $ours['status']);
        $same('GET', '/nothing.php/more');
        $same('GET', '/admin/nothing.php');
    });
});

test('scripts: forms, uploads, redirects, exit(), errors and shutdown functions answer as under PHP-FPM', function (): void {
    withScripts(function (int $port, TestMaster $worker, string $dir): void {
        $same = static fn (string $method, string $uri, array $headers = [], string $body = ''): array
            => HttpCompare::assertSameResponse($port, $worker, $method, $uri, $headers, $body, maskSession(...));

        [, $ours] = $same('POST', '/form.php', [['Content-Type', 'application/x-www-form-urlencoded']], 'name=Ada&tags[]=a&tags[]=b');
        assertSame(['name' => 'Ada', 'tags' => ['a', 'b']], json_decode($ours['body'], true)['post']);
        $same('POST', '/form.php', [['Content-Type', 'application/json']], '{"legacy":"api"}');
        $upload = HttpCompare::multipart('B0undary', [['note', 'hello'], ['file', "line one\nline two\n", 'notes.txt', 'text/plain']]);
        [, $ours] = $same('POST', '/form.php', [['Content-Type', 'multipart/form-data; boundary=B0undary']], $upload);
        $file = json_decode($ours['body'], true)['files']['file'];
        assertSame(['notes.txt', 'text/plain', 18, 0, true], [$file['name'], $file['type'], $file['size'], $file['error'], $file['tmp_name'][0]]);

        [, $ours] = $same('GET', '/redirect.php');
        assertSame(302, $ours['status']);
        // Removed once the upload's answer went out, before its process ended (the worker waited for it).
        assertSame([], glob("$dir/worker/tmp/php*") ?: [], 'the upload temporary file is removed after the request');
        [, $ours] = $same('GET', '/forbidden.php');
        assertSame([403, 'not for you (exit)'], [$ours['status'], $ours['body']]);
        [, $ours] = $same('GET', '/fatal.php');
        assertSame([500, 'before the error'], [$ours['status'], $ours['body']]);
        [, $ours] = $same('GET', '/exception.php');
        assertSame(500, $ours['status']);
        [, $ours] = $same('GET', '/session-ops?ops=name:OTHER,start,set:a=1');
        assertContains('"name":"OTHER"', $ours['body']);
        [, $ours] = $same('GET', '/session-ops?ops=start');
        assertContains('"name":"PHPSESSID"', $ours['body'], 'a session setting the request before changed is gone');
        [, $ours] = $same('GET', '/shutdown.php');
        assertSame('the script and its shutdown function', $ours['body']);
        [, $ours] = $same('GET', '/destructor.php');
        assertSame('the page and its shutdown function and its destructor', $ours['body']);
        [, $ours] = $same('GET', '/exit-in-shutdown.php');
        assertSame([503, 'the script, its shutdown function, its destructor'], [$ours['status'], $ours['body']]);
        [, $ours] = $same('POST', '/exit-in-shutdown.php', [['Content-Type', 'multipart/form-data; boundary=B0undary']], $upload);
        assertSame('the script with a file, its shutdown function, its destructor', $ours['body']);
        // header_register_callback() runs just before the headers go, as PHP-FPM runs it (with ext-ffi).
        foreach (['', '?cookie=1', '?missing=1&text=1', '?big=1&cookie=1'] as $query) {
            [, $ours] = $same('GET', "/header-callback.php$query");
            if (extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0') {
                assertTrue(in_array('X-Lines-Seen', array_column($ours['headers'], 0), true), "the callback ran for $query: " . show($ours));
            }
        }
        // .user.ini files, from the document root down to the script's directory, as PHP-FPM reads them.
        [, $ours] = $same('GET', '/settings/show.php');
        $seen = json_decode(explode("\n", $ours['body'])[0], true);
        assertSame(['96M', 'SETTINGSSESSID', '4096', 'set at the top level by prepend.php', 'declared before the script', ''],
            [$seen['memory_limit'], $seen['session.name'], $seen['output_buffering'], $seen['prepended'], $seen['function'],
                $seen['disable_functions']], $ours['body']);
        assertContains("\nappended after show.php", $ours['body']);
        if (extension_loaded('ffi') && (string) ini_get('ffi.enable') !== '0') { // without it only what ini_set() may set
            assertSame('1K', $seen['upload_max_filesize']);
        }
        [, $ours] = $same('GET', '/settings/show.php?exit=1');
        assertTrue(!str_contains($ours['body'], 'appended'), 'no auto_append_file after exit(): ' . $ours['body']);
        [, $ours] = $same('GET', '/settings/deeper/show.php');
        assertSame(['80M', null], [json_decode($ours['body'], true)['memory_limit'], json_decode($ours['body'], true)['prepended']]);
        $file = HttpCompare::multipart('B0undary', [['file', str_repeat('x', 1500), 'big.txt', 'text/plain']]);
        foreach (['/settings/show.php', '/settings/deeper/show.php'] as $uri) { // over upload_max_filesize there, within it here
            $same('POST', $uri, [['Content-Type', 'multipart/form-data; boundary=B0undary']], $file);
        }
        $same('GET', '/info.php'); // the worker serves on after all of them
        assertSame([], glob("$dir/worker/tmp/php*") ?: [], 'the upload temporary file is removed after exit() in a shutdown function too');
    });
});

test('scripts: a script that drops the autoloaders or puts a refusing one first answers as under PHP-FPM, its end included', function (): void {
    withScripts(function (int $port, TestMaster $worker): void {
        // The library's classes that run after the script (its answer, at exit) are loaded before the
        // request's process begins: the application's autoloading cannot refuse them. Asked for in
        // parts, as the gateway asks (fastcgi_finish_request() answers at once only then).
        $host = [['Host', HttpCompare::HOST]];
        foreach (['drop', 'refuse'] as $how) {
            $fpmCookie = $ourCookie = null;
            foreach (['', '&big=1', '&flush=1', '&finish=1', '&exit=1', '&fatal=1'] as $i => $more) {
                $uri = "/autoloaders.php?$how=1$more";
                $fpm = HttpCompare::fpmRequest($port, 'GET', $uri, $fpmCookie === null ? $host : [...$host, ['Cookie', $fpmCookie]], '');
                $ours = HttpCompare::workerStreamedRequest($worker, 'GET', $uri, $ourCookie === null ? $host : [...$host, ['Cookie', $ourCookie]], '');
                assertSame(HttpCompare::comparable($fpm, maskSession(...)), HttpCompare::comparable($ours, maskSession(...)), $uri);
                assertSame($more === '&fatal=1' ? 500 : 200, $ours['status'], $uri);
                assertContains('n=' . ($i + 1), $ours['body'], "$uri: the session");
                $fpmCookie ??= sessionCookieOf($fpm);
                $ourCookie ??= sessionCookieOf($ours);
            }
        }
    });
});

test('scripts: filter_input(), filter_has_var() and filter_input_array() find the request\'s query, form, cookies and FastCGI params, as under PHP-FPM', function (): void {
    withScripts(function (int $port, TestMaster $worker): void {
        $same = static fn (string $method, string $uri, array $headers = [], string $body = ''): array
            => HttpCompare::assertSameResponse($port, $worker, $method, $uri, $headers, $body, maskSession(...));
        $form = [['Content-Type', 'application/x-www-form-urlencoded'], ['Cookie', 'sid=first; sid=second; a.b=c%20d; x[y]=1'],
            ['X-Trace', 'abc'], ['Authorization', 'Basic ' . base64_encode('ada:secret')], ['Proxy', 'http://evil.example']];
        [, $ours] = $same('POST', '/inputs.php?n=42&tags[]=a&tags[]=b&e=%41+%2B', $form, 'name=Ada&email=ada%40example.org&m[k][]=v&m[k][]=w');
        $seen = json_decode($ours['body'], true);
        assertSame(['n' => '42', 'tags' => ['a', 'b'], 'e' => 'A +'], $seen['get']);
        assertSame(['name' => 'Ada', 'email' => 'ada@example.org', 'm' => ['k' => ['v', 'w']]], $seen['post']);
        assertSame(['sid' => 'first', 'a_b' => 'c d', 'x' => ['y' => '1']], $seen['cookie'], 'the first of two cookies of one name');
        assertSame([42, 'ada@example.org', [true, true, true]], [$seen['n'], $seen['email'], $seen['has']]);
        assertSame([true, 'abc'], $seen['server']['HTTP_X_TRACE']);
        assertSame([[true, 'POST'], [false, null], [false, null], [false, null]], [$seen['server']['REQUEST_METHOD'],
            $seen['server']['REQUEST_TIME'], $seen['server']['PHP_AUTH_USER'], $seen['server']['PATH']], 'PHP\'s own entries and the environment are not FastCGI params');
        assertSame(['abc', 'POST', 'n=42&tags[]=a&tags[]=b&e=%41+%2B', true, false, false, false, false], $seen['getenv'],
            'getenv(): the FastCGI params; not HTTP_PROXY (httpoxy), nor what PHP adds itself');
        // The next request's script finds its own, nothing of the one before.
        [, $ours] = $same('GET', '/inputs.php');
        $seen = json_decode($ours['body'], true);
        assertSame([null, null, null, [false, false, false]], [$seen['get'], $seen['post'], $seen['cookie'], $seen['has']]);
        // A query and cookies whose every variable PHP drops: the filter has them, as empty arrays.
        [, $ours] = $same('GET', '/inputs.php?[a]=1&b' . str_repeat('[x]', 70) . '=deep', [['Cookie', '[c]=1']]);
        assertSame([[], []], [json_decode($ours['body'], true)['get'], json_decode($ours['body'], true)['cookie']]);
        // A NUL byte sent as it is (not as %00) is part of its value; the fields after it stay.
        [, $ours] = $same('POST', '/inputs.php', [['Content-Type', 'application/x-www-form-urlencoded']], "name=A\0da&email=ada%40example.org");
        assertSame(['name' => "A\0da", 'email' => 'ada@example.org'], json_decode($ours['body'], true)['post']);
        $upload = HttpCompare::multipart('B0undary', [['name', 'Grace'], ['email', 'not an address'], ['file', 'content', 'a.txt', 'text/plain']]);
        [, $ours] = $same('POST', '/inputs.php', [['Content-Type', 'multipart/form-data; boundary=B0undary']], $upload);
        assertSame([['name' => 'Grace', 'email' => 'not an address'], false], [json_decode($ours['body'], true)['post'], json_decode($ours['body'], true)['email']]);
        // PHP's own server variables hold the request's too (the input filter registers each entry there):
        // ob_gzhandler finds the client's Accept-Encoding, and compresses as under PHP-FPM.
        [, $ours] = $same('GET', '/filtered.php', [['Accept-Encoding', 'gzip, deflate']]);
        assertSame("A PAGE, FILTERED\n", gzdecode($ours['body']));
        // phpMyAdmin's: its page flushed out of ob_gzhandler's buffer in a shutdown function, which PHP ends with the request.
        [, $ours] = $same('GET', '/late-page.php?gzip=1', [['Accept-Encoding', 'gzip']]);
        assertSame("<html><body>the page, printed late</body></html>\n", gzdecode($ours['body']), 'the whole gzip stream');
    });
});

test('scripts: what a script printed has gone out once PHP-FPM\'s output_buffering buffer passed it on: cleaning the buffer keeps it, header(), the status and a session then refuse', function (): void {
    withScripts(function (int $port, TestMaster $worker): void {
        $host = [['Host', HttpCompare::HOST]];
        // Without output_buffering every write goes out at once; with 4096 (the document root's), once the buffer fills.
        foreach (['/unbuffered/output.php?n=10', '/output.php?n=10', '/output.php?n=5000'] as $page) {
            foreach (['endclean', 'getclean', 'clean', 'late'] as $do) {
                $uri = "$page&do=$do";
                [$fpm] = HttpCompare::assertSameResponse($port, $worker, 'GET', $uri, [], '', maskSession(...));
                // As the gateway asks, in parts.
                $ours = HttpCompare::workerStreamedRequest($worker, 'GET', $uri, $host, '');
                assertSame(HttpCompare::comparable($fpm, maskSession(...)), HttpCompare::comparable($ours, maskSession(...)), "$uri in parts");
            }
        }
        // A page printed at once still goes in one frame, its answer: what the buffer passed on is held for a while.
        foreach (['/unbuffered/output.php?n=50000', '/output.php?n=50000'] as $uri) {
            $ours = HttpCompare::workerStreamedRequest($worker, 'GET', $uri, $host, '');
            assertSame([50001, 0], [strlen($ours['body']), $ours['parts']], $uri);
        }
        // What the comparison is about, said plainly: PHP-FPM's own answers.
        $fpm = static fn (string $uri): array => HttpCompare::fpmRequest($port, 'GET', $uri, $host, '');
        assertSame("x\nafter closing every buffer: level 0\n", $fpm('/unbuffered/output.php?n=1&do=endclean')['body']);
        assertSame("x\nA\nB\nC\n", $fpm('/unbuffered/output.php?n=1&do=clean')['body']);
        assertSame("C\n", $fpm('/output.php?n=1&do=clean')['body'], 'nothing passed on yet: all cleaned');
        assertSame(str_repeat('x', 5000) . "C\n", $fpm('/output.php?n=5000&do=clean')['body'], 'the 5000 bytes that filled the buffer stay');
        assertSame(303, $fpm('/output.php?n=10&do=late')['status'], 'with 4096 bytes of buffer, still open');
        assertSame([200, null], [($late = $fpm('/unbuffered/output.php?n=10&do=late'))['status'], sessionCookieOf($late)], 'after the first byte went out');
        assertSame([200, null], [($late = $fpm('/output.php?n=5000&do=late'))['status'], sessionCookieOf($late)], 'after 4096 bytes went out');
    });
});

test('scripts: a script with output_buffering at 4096 that prints 8 KiB and then waits has its client see them while it waits, as under PHP-FPM', function (): void {
    withScripts(function (int $port, TestMaster $worker, string $dir): void {
        $name = 'output-marker-' . bin2hex(random_bytes(4));
        $uri = "/output.php?do=wait&marker=$name";
        // PHP-FPM: the first body bytes come before the marker exists.
        $socket = stream_socket_client('tcp://127.0.0.1:' . $port, $errno, $error, 10);
        fwrite($socket, "GET $uri HTTP/1.1\r\nHost: " . HttpCompare::HOST . "\r\nConnection: close\r\n\r\n");
        $raw = '';
        $deadline = microtime(true) + 5;
        while (!preg_match('/\r\n\r\n[0-9a-f]+\r\n[a-p]/', $raw)) {
            $read = [$socket];
            $none = null;
            $left = $deadline - microtime(true);
            assertTrue($left > 0 && stream_select($read, $none, $none, 0, (int) ($left * 1e6)) !== false, 'PHP-FPM\'s first bytes within 5 s: ' . show($raw));
            $chunk = fread($socket, 65536);
            assertTrue($chunk !== false && $chunk !== '' || $read === [], 'PHP-FPM\'s answer ended before its first bytes: ' . show($raw));
            $raw .= (string) $chunk;
        }
        touch("$dir/fpm/app-state/$name");
        stream_set_timeout($socket, 20);
        $raw .= stream_get_contents($socket);
        fclose($socket);
        assertContains("the client had the first bytes\n", $raw, 'PHP-FPM');
        // The worker, asked as the gateway asks: a part with the first bytes before the marker exists.
        $msgid = 1 << 24;
        $worker->send(\Folk\Worker\MessagePack\MessagePack::codec()->pack([0, $msgid, 'http.handle',
            ['stream' => true] + HttpCompare::params('GET', $uri, [['Host', HttpCompare::HOST]], '')]));
        $body = '';
        $message = null;
        try {
            while ($body === '') {
                $message = $worker->receive(5.0); // fails once 5 s passed: the script waits 10 s
                assertSame(2, $message[0], 'a part before the answer: ' . show($message));
                if ($message[1] === 'http.body') {
                    $body .= $message[2];
                }
            }
            assertTrue(strlen($body) >= 4096, 'at least what filled the buffer once: ' . strlen($body) . ' bytes');
        } finally {
            touch("$dir/worker/app-state/$name");
            while ($message === null || $message[0] === 2) { // to the answer, failed or not: the tests after go on in step
                $message = $worker->receive(15.0);
                $body .= $message[0] === 2 && $message[1] === 'http.body' ? $message[2] : '';
            }
        }
        assertSame([$msgid, null], [$message[1], $message[2]]);
        $body .= $message[3]['body'];
        assertSame(8192 + strlen("the client had the first bytes\n"), strlen($body));
        assertContains("the client had the first bytes\n", $body, 'the worker');
        @unlink("$dir/fpm/app-state/$name");
        @unlink("$dir/worker/app-state/$name");
    });
});

test('scripts: a script that asks whether it runs on a command line (PHP_SAPI, php_sapi_name(), STDIN, $argv) is told no, and phpinfo() prints its HTML page, as under PHP-FPM', function (): void {
    withScripts(function (int $port, TestMaster $worker): void {
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/sapi.php');
        assertSame(['PHP_SAPI' => 'fpm-fcgi', 'php_sapi_name' => 'fpm-fcgi', 'STDIN' => false, 'STDOUT' => false, 'STDERR' => false,
            'argv' => false, 'argc' => false, 'html' => true, 'server_api' => 'FPM/FastCGI'], json_decode($ours['body'], true));
        // The worker's own log still reaches its stderr from a request's process: a fatal error is logged there.
        $logged = substr_count($worker->stderr(), 'PHP Fatal error:');
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/fatal.php');
        waitUntil(static fn (): bool => substr_count($worker->stderr(), 'PHP Fatal error:') > $logged, 5.0, 'the fatal error in the worker\'s log: ' . $worker->stderr());
        // The worker's own line names the script and the error's first line, not the stack trace PHP logged already.
        waitUntil(static fn (): bool => str_contains($worker->stderr(), '/fatal.php ended with a PHP fatal error'), 5.0, $worker->stderr());
        assertContains('ended with a PHP fatal error (request ', $worker->stderr());
        assertContains('Uncaught Error: Call to undefined function undefined_function_of_a_legacy_script() in ', $worker->stderr());
        assertSame(substr_count($worker->stderr(), 'PHP Fatal error:'), substr_count($worker->stderr(), 'Stack trace:'),
            'each stack trace once: ' . $worker->stderr());
        assertContains('(logged above); answered', $worker->stderr());
    });
});

test('scripts: php.ini\'s max_execution_time counts in a request\'s process, as PHP-FPM takes it from its php.ini, where the CLI forces its own; a .user.ini and a -d of the worker\'s stand over php.ini', function (): void {
    withScripts(function (): void { // the same conditions (PHP-FPM and nginx there, ext-ffi, ext-pcntl)
    });
    $dir = HttpCompare::tempDir('folk-scripts-ini-');
    file_put_contents("$dir/php.ini", "max_execution_time = 7\noutput_buffering = 2048\nhtml_errors = On\nmax_input_time = 45\n");
    // The comparison's settings come as -d (html_errors=Off among them); max_input_time too, here.
    $worker = HttpCompare::startWorker(SCRIPTS_APP . '/worker.php', "$dir/worker", phpArgs: ['-c', "$dir/php.ini", '-d', 'max_input_time=50']);
    try {
        assertSame(readyParams($worker->pid()), $worker->ready(10.0));
        $ours = HttpCompare::workerRequest($worker, 'GET', '/ini.php', [['Host', HttpCompare::HOST]], '');
        // php.ini's 7 s (the CLI's 0: no limit); its 2048 under the document root's .user.ini 4096; the -d's.
        assertSame(['7', '4096', '', '50'], json_decode($ours['body'], true), $ours['body']);
    } finally {
        $worker->close();
        HttpCompare::removeTree($dir);
    }
});

test('scripts: what PHP says of the running script (getlastmod(), getmyinode(), get_current_user(), a private cache limiter\'s Last-Modified) is the requested script\'s, as under PHP-FPM', function (): void {
    withScripts(function (int $port, TestMaster $worker): void {
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', '/lastmod.php', [], '', maskSession(...));
        $stat = stat(SCRIPTS_APP . '/public/lastmod.php');
        $seen = json_decode($ours['body'], true);
        assertSame([$stat['mtime'], $stat['ino']], [$seen['lastmod'], $seen['inode']]);
    });
});

test('scripts: what a script leaves open is closed at its end, as PHP-FPM closes it: temporary files removed, a gzip file complete', function (): void {
    withScripts(function (int $port, TestMaster $worker, string $dir): void {
        $n = bin2hex(random_bytes(4));
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, 'GET', "/left-open.php?n=$n", [], '', maskSession(...));
        assertSame("left open\n", $ours['body']);
        $gz = "$dir/worker/tmp/left-open-$n.gz";
        waitUntil(static fn (): bool => @gzdecode((string) @file_get_contents($gz)) === "the whole text\n", 5.0,
            'the gzip file complete: ' . bin2hex((string) @file_get_contents($gz)));
        waitUntil(static fn (): bool => (glob("$dir/worker/tmp/php*") ?: []) === [], 5.0,
            'the temporary files removed: ' . implode(' ', glob("$dir/worker/tmp/php*") ?: []));
        @unlink($gz);
    });
});

test('scripts: a native session and a cookie across requests, as under PHP-FPM', function (): void {
    withScripts(function (int $port, TestMaster $worker): void {
        $host = [['Host', HttpCompare::HOST]];
        $fpm = HttpCompare::fpmRequest($port, 'GET', '/admin/visits.php', $host, '');
        $ours = HttpCompare::workerRequest($worker, 'GET', '/admin/visits.php', $host, '');
        assertSame(HttpCompare::comparable($fpm, maskSession(...)), HttpCompare::comparable($ours, maskSession(...)), 'first visit');
        $fpmCookie = sessionCookieOf($fpm);
        $ourCookie = sessionCookieOf($ours);
        assertTrue($ourCookie !== null, 'a session cookie: ' . show($ours['headers']));
        $fpm = HttpCompare::fpmRequest($port, 'GET', '/admin/visits.php', [...$host, ['Cookie', $fpmCookie]], '');
        $ours = HttpCompare::workerRequest($worker, 'GET', '/admin/visits.php', [...$host, ['Cookie', $ourCookie]], '');
        assertSame(HttpCompare::comparable($fpm, maskSession(...)), HttpCompare::comparable($ours, maskSession(...)), 'second visit');
        assertSame("visits: 2\n", $ours['body']);
    });
});

/** GETs /$name, a script of $code written into the application for the call and removed after: the worker's [error, result]. */
function callWrittenScript(TestMaster $worker, string $name, string $code): array
{
    $script = SCRIPTS_APP . '/public/' . $name;
    file_put_contents($script, $code);
    try {
        return $worker->call('http.handle', HttpCompare::params('GET', '/' . $name, [['Host', HttpCompare::HOST]], ''), 10.0);
    } finally {
        unlink($script);
    }
}

test('scripts: a status outside 200..599 fails the call naming the script, which called no exit()', function (): void {
    withScripts(function (int $port, TestMaster $worker): void {
        [$error] = callWrittenScript($worker, 'odd-status.php', "<?php\nhttp_response_code(99);\necho 'ok';\n");
        assertTrue($error !== null && str_contains($error['message'], '/odd-status.php ended, and its answer failed')
            && str_contains($error['message'], 'outside 200..599') && !str_contains($error['message'], 'exit()'),
            'the call fails: ' . show($error));
    });
});

test('scripts: a request whose process is killed fails its call, and the worker serves on', function (): void {
    withScripts(function (int $port, TestMaster $worker): void {
        // A script that kills its own process, as the OOM killer or a crash in an extension would.
        [$error] = callWrittenScript($worker, 'kill-self.php',
            "<?php\nfunction_exists('posix_kill') ? posix_kill(getmypid(), 9) : exec('kill -9 ' . getmypid());\n");
        assertTrue($error !== null && str_contains($error['message'], 'killed by signal 9'), 'the call fails: ' . show($error));
        $ours = HttpCompare::workerRequest($worker, 'GET', '/info.php', [['Host', HttpCompare::HOST]], '');
        assertSame(200, $ours['status']);
    });
});

/** The first value of a response's header $name, or null. */
function headerOf(array $response, string $name): ?string
{
    foreach ($response['headers'] as [$n, $value]) {
        if (strcasecmp($n, $name) === 0) {
            return $value;
        }
    }
    return null;
}

/** The PHPSESSID=... of a response's Set-Cookie, or null. */
function sessionCookieOf(array $response): ?string
{
    foreach ($response['headers'] as [$name, $value]) {
        if (strcasecmp($name, 'Set-Cookie') === 0 && preg_match('/^PHPSESSID=[^;]+/', $value, $m) === 1) {
            return $m[0];
        }
    }
    return null;
}

test('scripts: max_execution_time counts in the request\'s process, as under PHP-FPM', function (): void {
    withScripts(function (int $port, TestMaster $ignored, string $dir): void {
        // A timer is not inherited by fork(): the request's process must arm its own.
        $master = HttpCompare::startWorker(SCRIPTS_APP . '/worker.php', "$dir/limited", phpArgs: ['-d', 'max_execution_time=1']);
        $script = SCRIPTS_APP . '/public/spin.php';
        file_put_contents($script, "<?php\necho 'spinning';\nwhile (true) {\n}\n");
        try {
            assertSame(readyParams($master->pid()), $master->ready(10.0));
            $started = microtime(true);
            $ours = HttpCompare::workerRequest($master, 'GET', '/spin.php', [['Host', HttpCompare::HOST]], '');
            assertSame(500, $ours['status']);
            assertTrue(microtime(true) - $started < 5.0, 'ended by its time limit, not by the test');
            assertContains('Maximum execution time of 1 second exceeded', $master->stderr());
        } finally {
            unlink($script);
            exec('pkill -KILL -P ' . $master->pid()); // a request's process still spinning if the test failed
            $master->close();
        }
    });
});

test('scripts: a backtrace asked of the worker (SIGUSR2) is the running script\'s', function (): void {
    if (!function_exists('pcntl_signal')) {
        skip('no ext-pcntl: the worker does not declare the backtrace feature');
    }
    withScripts(function (int $port, TestMaster $worker): void {
        $release = tempnam(sys_get_temp_dir(), 'folk-release-');
        unlink($release);
        $script = SCRIPTS_APP . '/public/wait-for-release.php';
        file_put_contents($script, "<?php\nfunction wait_for_release(string \$file): void\n{\n    while (!file_exists(\$file)) {\n"
            . "        usleep(2000);\n    }\n}\nwait_for_release(\$_GET['file']);\necho 'released';\n");
        try {
            $params = HttpCompare::params('GET', '/wait-for-release.php?file=' . rawurlencode($release), [['Host', HttpCompare::HOST]], '');
            $worker->send(\Folk\Worker\MessagePack\MessagePack::codec()->pack([0, 77, 'http.handle', $params]));
            $block = null;
            waitUntil(function () use ($worker, &$block): bool {
                signalUsr2($worker->pid()); // the worker's pid, as the pool signals it
                usleep(20000);
                if (preg_match_all('/^folk-backtrace-begin pid=\d+ msgid=77\n(.*?)^folk-backtrace-end$/ms', $worker->stderr(), $g) === 0) {
                    return false;
                }
                $block = end($g[1]);
                return str_contains($block, 'wait_for_release()');
            }, 5.0, 'a backtrace block for request 77 inside the script on stderr');
            assertTrue(preg_match('~^#0 .*/public/wait-for-release\.php:\d+ wait_for_release\(\)$~m', $block) === 1, 'the script\'s frame: ' . $block);
            touch($release);
            [, , $error, $result] = $worker->receive(10.0);
            $answered = true;
            assertSame([null, 200, 'released'], [$error, $result['status'], $result['body']]);
        } finally {
            if (!isset($answered)) { // the script still waits: end it, and take its call's answer
                exec('pkill -KILL -P ' . $worker->pid());
                try {
                    $worker->receive(10.0);
                } catch (\Throwable) {
                }
            }
            @unlink($release);
            unlink($script);
        }
    });
});

test('scripts: a request\'s process is reaped once it ends, not left a zombie until the next request', function (): void {
    withScripts(function (int $port, TestMaster $worker): void {
        HttpCompare::workerRequest($worker, 'GET', '/info.php', [['Host', HttpCompare::HOST]], '');
        $children = static function () use ($worker): array {
            $found = [];
            foreach (glob('/proc/[0-9]*/stat') ?: [] as $stat) {
                $fields = explode(' ', (string) substr((string) @file_get_contents($stat), (int) strrpos((string) @file_get_contents($stat), ')') + 2));
                if (($fields[1] ?? '') === (string) $worker->pid()) {
                    $found[] = $fields[0]; // the state: Z for a zombie
                }
            }
            return $found;
        };
        waitUntil(static fn (): bool => $children() === [], 5.0, 'the worker without children (a zombie left: ' . implode(',', $children()) . ')');
    });
});

test('scripts: params the request\'s process cannot take fail their call once, and the worker serves on', function (): void {
    withScripts(function (int $port, TestMaster $worker): void {
        $params = HttpCompare::params('GET', '/info.php', [['Host', HttpCompare::HOST]], '');
        $params['server']['REMOTE_ADDR'] = ['not', 'a', 'string']; // bad params, seen only once the request is set up
        [$error, $result] = $worker->call('http.handle', $params, 10.0);
        assertTrue($error !== null && $result === null, 'the call fails: ' . show([$error, $result]));
        $ours = HttpCompare::workerRequest($worker, 'GET', '/info.php', [['Host', HttpCompare::HOST]], '');
        assertSame(200, $ours['status'], 'the next call is answered, in step');
        assertSame([null, 'still here'], $worker->call('echo', 'still here'));
    });
});

test('scripts: a document root reached through a link a deploy re-points runs the release it names now, as nginx\'s $realpath_root', function (): void {
    if (!function_exists('pcntl_fork') || TestMaster::withoutIni()) {
        skip('needs ext-pcntl and ext-ffi');
    }
    // Capistrano's and Deployer's layout: releases side by side, `current` re-pointed at each deploy
    // (a new link renamed over it). The gateway serves the files of the release the link names now;
    // the scripts must be that release's too, not those of the release the worker started in.
    $dir = HttpCompare::tempDir('folk-scripts-deploy-');
    foreach (['rel1', 'rel2'] as $release) {
        mkdir("$dir/$release/public", 0700, true);
        file_put_contents("$dir/$release/public/release.php",
            "<?php echo basename(dirname(__DIR__)), ' ', \$_SERVER['DOCUMENT_ROOT'], ' ', \$_SERVER['SCRIPT_FILENAME'];\n");
    }
    symlink('rel1', "$dir/current");
    file_put_contents("$dir/worker.php", "<?php\nrequire getenv('FOLK_WORKER_PHP');\n"
        . "Folk\\Worker\\Scripts::serve(" . var_export("$dir/current/public", true) . ");\nrequire Folk\\Worker\\Scripts::script();\n");
    $worker = HttpCompare::startWorker("$dir/worker.php", "$dir/state");
    try {
        assertSame(readyParams($worker->pid()), $worker->ready(10.0));
        $release = static fn (): string => HttpCompare::workerRequest($worker, 'GET', '/release.php', [['Host', HttpCompare::HOST]], '')['body'];
        $real = realpath($dir);
        assertSame("rel1 $real/rel1/public $real/rel1/public/release.php", $release());
        symlink('rel2', "$dir/next");
        rename("$dir/next", "$dir/current");
        assertSame("rel2 $real/rel2/public $real/rel2/public/release.php", $release(), 'the next request after the deploy');
        // A link to a release that is not there (removed by the deploy tool): PHP-FPM's 404, said once in the log.
        symlink('rel3', "$dir/next");
        rename("$dir/next", "$dir/current");
        assertSame("File not found.\n", $release());
        assertSame("File not found.\n", $release());
        waitUntil(static fn (): bool => substr_count($worker->stderr(), 'is not a directory now') === 1, 5.0, $worker->stderr());
        symlink('rel2', "$dir/next");
        rename("$dir/next", "$dir/current");
        assertSame("rel2 $real/rel2/public $real/rel2/public/release.php", $release(), 'back');
        waitUntil(static fn (): bool => str_contains($worker->stderr(), "is back: $real/rel2/public"), 5.0, $worker->stderr());
    } finally {
        $worker->close();
        HttpCompare::removeTree($dir);
    }
});

test('scripts: under a mapping whose prefix is stripped, the prefix leads SCRIPT_NAME and the path below it picks the script', function (): void {
    withScripts(function (int $port, TestMaster $worker): void {
        // What the gateway sends for /legacy/... with strip-prefix: the prefix as SCRIPT_NAME, the raw rest as PATH_INFO.
        $call = static function (string $uri) use ($worker): array {
            $params = HttpCompare::params('GET', $uri, [['Host', HttpCompare::HOST]], '');
            $path = explode('?', substr($uri, strlen('/legacy')), 2)[0];
            $params['server']['SCRIPT_NAME'] = '/legacy';
            $params['server']['PATH_INFO'] = $path;
            [$error, $result] = $worker->call('http.handle', $params, 10.0);
            assertSame(null, $error, "GET $uri");
            return $result;
        };
        $info = json_decode($call('/legacy/info.php/a/b?x=1')['body'], true);
        assertSame(['/legacy/info.php', '/legacy/info.php/a/b', '/a/b', '/info.php', ['x' => '1'], '/legacy/info.php/a/b'],
            [$info['script'], $info['self'], $info['path_info'], $info['file'], $info['get'], $info['document_uri']]);
        assertSame("front /legacy/some/page /legacy/index.php /legacy/index.php /legacy/index.php no-path-info []\n", $call('/legacy/some/page')['body']);
        assertSame("admin index /legacy/admin/index.php in admin\n", $call('/legacy/admin/')['body']);
        $redirect = $call('/legacy/admin?x=1');
        assertSame([301, '/legacy/admin/?x=1'], [$redirect['status'], $redirect['headers']['Location']]);
        // The prefix itself, without its "/": nginx's prefix location sends it on with it.
        $redirect = $call('/legacy?x=1');
        assertSame([301, '/legacy/?x=1'], [$redirect['status'], $redirect['headers']['Location']]);
        assertSame(404, $call('/legacy/nothing.php')['status']);
    });
});

test('scripts: with the opcache on, a script edited in place runs as edited from the next request, as PHP-FPM revalidates it', function (): void {
    if (TestMaster::withoutIni() || !extension_loaded('Zend OPcache') || !function_exists('pcntl_fork')) {
        skip('needs php.ini\'s opcache and ext-pcntl');
    }
    // The CLI keeps one request time, the worker's start, for its life, and each request's process
    // inherits it: counted from it, opcache.revalidate_freq would never come, and a script the opcache
    // holds would never be checked again (PHP-FPM checks it every 2 s by default); nor would a script
    // written since be kept (opcache.file_update_protection, 2 s after its writing under PHP-FPM).
    $dir = HttpCompare::tempDir('folk-scripts-edit-');
    mkdir("$dir/public");
    $write = static function (string $version, int $age) use ($dir): void {
        file_put_contents("$dir/public/page.php", "<?php echo '$version', opcache_is_script_cached(__FILE__) ? ' from the opcache' : ' compiled';\n");
        touch("$dir/public/page.php", time() - $age);
    };
    $write('v1', 60);
    file_put_contents("$dir/worker.php", "<?php\nrequire getenv('FOLK_WORKER_PHP');\n"
        . "Folk\\Worker\\Scripts::serve(" . var_export("$dir/public", true) . ");\nrequire Folk\\Worker\\Scripts::script();\n");
    $worker = HttpCompare::startWorker("$dir/worker.php", "$dir/state", phpArgs: ['-d', 'opcache.enable_cli=1']);
    try {
        assertSame(readyParams($worker->pid()), $worker->ready(10.0));
        $page = static fn (): string => HttpCompare::workerRequest($worker, 'GET', '/page.php', [['Host', HttpCompare::HOST]], '')['body'];
        assertSame('v1 from the opcache', $page(), 'the first request');
        assertSame('v1 from the opcache', $page(), 'the second');
        $write('v2', 0); // written now, long after the worker started: kept too (file_update_protection)
        assertSame('v2 from the opcache', $page(), 'the next request after the edit');
    } finally {
        $worker->close();
    }
    // With validate_timestamps off (production's opcache): a deploy, then new workers at once. The
    // scripts, written less than file_update_protection before the worker started, are kept too.
    $write('v3', 0);
    $worker = HttpCompare::startWorker("$dir/worker.php", "$dir/state", phpArgs: ['-d', 'opcache.enable_cli=1', '-d', 'opcache.validate_timestamps=0']);
    try {
        assertSame(readyParams($worker->pid()), $worker->ready(10.0));
        $page = static fn (): string => HttpCompare::workerRequest($worker, 'GET', '/page.php', [['Host', HttpCompare::HOST]], '')['body'];
        assertSame('v3 from the opcache', $page(), 'validate_timestamps off: the first request');
        assertSame('v3 from the opcache', $page(), 'validate_timestamps off: the second');
    } finally {
        $worker->close();
        HttpCompare::removeTree($dir);
    }
});

test('scripts: a worker script that opens a socket before serve() (a database connection every request\'s process would share) is told so at start', function (): void {
    if (!function_exists('pcntl_fork')) {
        skip('needs ext-pcntl');
    }
    $dir = HttpCompare::tempDir('folk-scripts-socket-');
    file_put_contents("$dir/worker.php", '<?php $held = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, '
        . 'STREAM_IPPROTO_IP); require ' . var_export(SCRIPTS_APP . '/worker.php', true) . ';');
    foreach (["$dir/worker.php" => true, SCRIPTS_APP . '/worker.php' => false] as $script => $said) {
        $master = HttpCompare::startWorker($script, "$dir/state");
        try {
            assertSame(readyParams($master->pid()), $master->ready(10.0));
            assertSame($said, str_contains($master->stderr(), 'opened 2 sockets before Scripts::serve()'),
                "$script, stderr: " . $master->stderr());
            assertSame(false, str_contains($master->stderr(), 'opened a socket'), $master->stderr());
        } finally {
            $master->close();
        }
    }
    HttpCompare::removeTree($dir);
});

test('scripts: a worker whose opcache is off says so at start (each request\'s process would compile its scripts anew)', function (): void {
    if (TestMaster::withoutIni() || !extension_loaded('Zend OPcache') || !function_exists('pcntl_fork')) {
        skip('needs php.ini\'s opcache and ext-pcntl');
    }
    foreach ([['0', true], ['1', false]] as [$enabled, $said]) {
        $dir = HttpCompare::tempDir('folk-scripts-opcache-');
        $master = HttpCompare::startWorker(SCRIPTS_APP . '/worker.php', "$dir/worker", phpArgs: ['-d', "opcache.enable_cli=$enabled"]);
        try {
            assertSame(readyParams($master->pid()), $master->ready(10.0));
            assertSame($said, str_contains($master->stderr(), 'the opcache is off in this worker'),
                "opcache.enable_cli=$enabled, stderr: " . $master->stderr());
        } finally {
            $master->close();
            HttpCompare::removeTree($dir);
        }
    }
});
