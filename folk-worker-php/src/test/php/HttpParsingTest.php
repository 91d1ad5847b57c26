<?php

/*
 * The request parsing of the framework adapters (Bridge\PhpRequest, Bridge\FormBody) against
 * PHP-FPM itself: the probe application (apps/probe) prints what PHP made of a request
 * ($_GET, $_POST, $_COOKIE, $_FILES with file digests, $_REQUEST, php://input); every request
 * goes to nginx + PHP-FPM (fpm/serve.sh) and, as `http.handle` params exactly as the gateway
 * sends them, to the probe's worker. Status, headers and body must be equal.
 */

declare(strict_types=1);

namespace Folk\Worker\Tests;

const PROBE_APP = __DIR__ . '/apps/probe';

/** Runs $body with the probe served by PHP-FPM (port) and by a worker; shared by the tests of this file. */
function withProbe(\Closure $body): void
{
    static $fixture = null;
    if ($fixture === null) {
        if (($why = HttpCompare::missing(['php-fpm' => '/usr/sbin/php-fpm8.2', 'nginx' => '/usr/sbin/nginx'], frameworks: false)) !== null) {
            skip($why);
        }
        $dir = HttpCompare::tempDir('folk-probe-');
        $fpmDir = $dir . '/fpm';
        $port = HttpCompare::startFpm(PROBE_APP, $fpmDir);
        $worker = HttpCompare::startWorker(PROBE_APP . '/worker.php', $dir . '/worker');
        $fixture = [$port, $worker, $dir];
        register_shutdown_function(static function () use ($worker, $fpmDir, $dir): void {
            $worker->close();
            HttpCompare::stopFpm($fpmDir);
            HttpCompare::removeTree($dir);
        });
        $worker->ready();
    }
    [$port, $worker, $dir] = $fixture;
    $body($port, $worker, $dir . '/worker/tmp');
}

function sameAsFpm(string $method, string $uri, array $headers = [], string $body = ''): array
{
    $result = null;
    withProbe(function (int $port, TestMaster $worker, string $tmp) use ($method, $uri, $headers, $body, &$result): void {
        [, $ours] = HttpCompare::assertSameResponse($port, $worker, $method, $uri, $headers, $body);
        $result = json_decode($ours['body'], true);
        // The upload temporary files are gone once the next request is served (after the response).
        HttpCompare::workerRequest($worker, 'GET', '/', [['Host', HttpCompare::HOST]], '');
        assertSame([], array_values(array_diff(scandir($tmp), ['.', '..'])), 'upload temporary files removed after the request');
    });
    return $result;
}

const FORM = [['Content-Type', 'application/x-www-form-urlencoded']];

test('query strings are parsed like PHP: arrays, nested keys, mangled names, encodings', function (): void {
    $probe = sameAsFpm('GET', '/q?a[]=1&a[]=2&b.c=3&d[x][y]=4&e=%20+x&f&g[=1&h]=2&%61a=5&i[%20k]=6&j%5B%5D=7&&=8&k=%zz');
    assertSame(['1', '2'], $probe['get']['a']);
    assertSame('3', $probe['get']['b_c']);
});

test('cookies are parsed like PHP: first of equal names wins, values raw-URL-decoded, arrays', function (): void {
    $probe = sameAsFpm('GET', '/c', [['Cookie', 'x=1; x=2; a+b=c+d%20; a%20b=1; c[d]=1; c[e]=2;   sp=v; q="quoted"; e=; noeq; dot.name=3']]);
    assertSame('1', $probe['cookie']['x']);
});

test('repeated header lines are joined like nginx >= 1.23 does (", ", Cookie "; ")', function (): void {
    // Not compared with PHP-FPM: nginx 1.22 (Debian 12) passes only the last of repeated
    // headers to FastCGI; nginx 1.23+ joins them, as the gateway's `headers` map does.
    withProbe(function (int $port, TestMaster $worker): void {
        $ours = HttpCompare::workerRequest($worker, 'GET', '/c', [['Host', HttpCompare::HOST],
            ['Cookie', 'one=1'], ['Cookie', 'two=2'], ['X-Test', 'a'], ['X-Test', 'b']], '');
        $probe = json_decode($ours['body'], true);
        assertSame(['one' => '1', 'two' => '2'], $probe['cookie']);
        assertSame('one=1; two=2', $probe['http_cookie']);
        assertSame('a, b', $probe['http_x_test']);
    });
});

test('urlencoded bodies are parsed like PHP; PUT bodies and other types only reach php://input', function (): void {
    $probe = sameAsFpm('POST', '/f?q=1', FORM, 'a=1&b[]=2&b[]=3&c[k]=v&d=%E2%82%AC&e+f=g&q=2');
    assertSame(['2', '3'], $probe['post']['b']);
    sameAsFpm('POST', '/f', [['Content-Type', 'Application/X-WWW-Form-Urlencoded; charset=UTF-8']], 'x=1');
    sameAsFpm('PUT', '/f', FORM, 'a=1');
    sameAsFpm('POST', '/f', [['Content-Type', 'application/json']], '{"a":1}');
    sameAsFpm('POST', '/f', [], 'a=1');
});

test('multipart fields and files are parsed like PHP, nested names and several files included', function (): void {
    $b = 'Bnd7x';
    $body = HttpCompare::multipart($b, [
        ['empty', '', ''], ['a[]', 'one'], ['a[]', 'two'], ['m[k]', 'v'], ['plain', "multi\r\nline"],
        ['f1', 'first file', 'one.txt', 'text/plain'],
        ['f2', str_repeat("\x00\xff", 3000), 'C:\\Users\\me\\two.bin'],
        ['g[x][]', 'nested 1', 'n1.txt', 'text/plain'], ['g[x][]', 'nested 2', 'dir/n2.txt', 'text/plain'],
        ['g[y]', 'nested y', 'y.txt', 'text/plain'],
    ]);
    $probe = sameAsFpm('POST', '/m', [['Content-Type', "multipart/form-data; boundary=$b"]], $body);
    assertSame(['one', 'two'], $probe['post']['a']);
    assertSame('sha1:' . sha1('first file'), $probe['files']['f1']['tmp_name']);
    assertSame(UPLOAD_ERR_NO_FILE, $probe['files']['empty']['error']);
    assertSame('y.txt', $probe['files']['g']['name']['y'], 'max_file_uploads = 5 (an empty file field does not count)');
    sameAsFpm('POST', '/m', [['Content-Type', 'multipart/form-data; boundary="quoted b"']],
        HttpCompare::multipart('quoted b', [['x', 'y'], ['f', 'z', 'z.txt']]));
});

test('upload limits like PHP: upload_max_filesize, MAX_FILE_SIZE, max_file_uploads, post_max_size', function (): void {
    $b = 'Limits';
    $probe = sameAsFpm('POST', '/l', [['Content-Type', "multipart/form-data; boundary=$b"]], HttpCompare::multipart($b, [
        ['big', str_repeat('x', 1024 * 1024 + 1), 'big.txt'], ['small', 'ok', 'small.txt'],
        ['MAX_FILE_SIZE', '100'], ['over_form', str_repeat('y', 101), 'form.txt'], ['under_form', 'fine', 'u.txt'],
    ]));
    assertSame(UPLOAD_ERR_INI_SIZE, $probe['files']['big']['error']);
    assertSame(UPLOAD_ERR_FORM_SIZE, $probe['files']['over_form']['error']);
    $parts = [];
    for ($i = 1; $i <= 7; $i++) {
        $parts[] = ["f$i", "file $i", "f$i.txt"];
    }
    $probe = sameAsFpm('POST', '/l', [['Content-Type', "multipart/form-data; boundary=$b"]], HttpCompare::multipart($b, $parts));
    assertSame(5, count($probe['files']), 'max_file_uploads = 5');
    sameAsFpm('POST', '/l', FORM, 'a=' . str_repeat('z', 4 * 1024 * 1024));
});

test('a POST body over post_max_size is logged as PHP-FPM logs it, whatever its type', function (): void {
    withProbe(function (int $port, TestMaster $worker, string $tmp): void {
        $line = 'POST Content-Length of 4194306 bytes exceeds the limit of 4194304 bytes';
        $fpmLog = static fn (): string => (string) @file_get_contents(dirname($tmp, 2) . '/fpm/php-errors.log');
        [$fpmBefore, $oursBefore] = [substr_count($fpmLog(), $line), substr_count($worker->stderr(), $line)];
        foreach ([FORM, [['Content-Type', 'application/json']], [['Content-Type', 'multipart/form-data; boundary=B']]] as $i => $type) {
            sameAsFpm('POST', '/l', $type, 'a=' . str_repeat('z', 4 * 1024 * 1024));
            assertSame($fpmBefore + $i + 1, substr_count($fpmLog(), $line), 'PHP-FPM\'s log: ' . substr($fpmLog(), -600));
            waitUntil(static fn (): bool => substr_count($worker->stderr(), $line) === $oursBefore + $i + 1, 5.0,
                'the worker\'s log: ' . substr($worker->stderr(), -600));
            preg_match_all('/^\[[^]]*\] (PHP Warning: .*' . preg_quote($line, '/') . '.*)$/m', $fpmLog(), $fpmLines);
            assertContains(end($fpmLines[1]), $worker->stderr(), 'PHP-FPM\'s whole line');
        }
    });
});

test('multipart quirks of PHP\'s own reader are kept: types, repeated names, skipped files, parameters, cut bodies', function (): void {
    $b = 'Quirk';
    $type = [['Content-Type', "multipart/form-data; boundary=$b"]];
    $part = static fn (string $disposition, string $content, string $headers = ''): string =>
        "--$b\r\nContent-Disposition: $disposition\r\n{$headers}\r\n$content\r\n";
    // A file's type up to ";"; a later file of a plain name replaces the earlier one.
    $probe = sameAsFpm('POST', '/q', $type, $part('form-data; name="f"; filename="a.txt"', 'first', "Content-Type: text/html; charset=utf-8\r\n")
        . $part('form-data; name="f"; filename="b.txt"', 'second') . "--$b--\r\n");
    assertSame(['b.txt', ''], [$probe['files']['f']['name'], $probe['files']['f']['type']]);
    // A file name whose brackets do not close: that file and every file after it are skipped, fields stay.
    $probe = sameAsFpm('POST', '/q', $type, $part('form-data; name="ok"; filename="ok.txt"', 'kept')
        . $part('form-data; name="y]"; filename="y.txt"', 'skipped') . $part('form-data; name="later"; filename="l.txt"', 'skipped too')
        . $part('form-data; name="field"', 'stays') . "--$b--\r\n");
    assertSame(['ok'], array_keys($probe['files']));
    assertSame('stays', $probe['post']['field']);
    // Parameters as PHP's tokenizer reads them: single quotes, the last of a name, any disposition type,
    // a folded header line; white space at the start of an index stays in a field's name.
    sameAsFpm('POST', '/q', $type, $part("form-data; name='single'", '1') . $part('form-data; NAME="first"; name="last"', '2')
        . $part('attachment; name="attached"', '3') . "--$b\r\nContent-Disposition: form-data;\r\n name=\"folded\"\r\n\r\n4\r\n"
        . $part('form-data; name="n[ b]"', '5') . $part('form-data; name="MAX_FILE_SIZE"', '-1')
        . $part('form-data; name="refused"; filename="r.txt"', 'any content') . "--$b--\r\n");
    // LF without CR; a body cut inside its closing delimiter; a delimiter line with more after it.
    sameAsFpm('POST', '/q', $type, "--$b\nContent-Disposition: form-data; name=\"lf\"\n\nonly LF\n--$b--\n");
    sameAsFpm('POST', '/q', $type, $part('form-data; name="cut"', 'value') . "--$b");
    sameAsFpm('POST', '/q', $type, $part('form-data; name="cut"; filename="c.txt"', 'content') . "--Qu");
    sameAsFpm('POST', '/q', $type, $part('form-data; name="a"', '1') . "--{$b}x\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n"
        . $part('form-data; name="c"', '3') . "--$b--\r\n");
});

test('malformed multipart bodies are handled like PHP: no boundary, garbage, cut off, no disposition', function (): void {
    $b = 'Broken';
    $type = [['Content-Type', "multipart/form-data; boundary=$b"]];
    sameAsFpm('POST', '/x', [['Content-Type', 'multipart/form-data']], HttpCompare::multipart($b, [['a', '1']]));
    sameAsFpm('POST', '/x', $type, 'not a multipart body at all');
    sameAsFpm('POST', '/x', $type, HttpCompare::multipart($b, [['a', '1'], ['f', 'cut off file', 'c.txt']], close: false));
    sameAsFpm('POST', '/x', $type, "--$b\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n--$b\r\nContent-Disposition: form-data; name=\"ok\"\r\n\r\nyes\r\n--$b--\r\n");
});
