<?php

/*
 * The streamed-answer tests' worker: http.handle answering in parts (docs/PROTOCOL.md,
 * "Streamed answers"), sent with Worker::sendPart() so that each test controls them exactly.
 *   /s/big?parts=N&size=S   head, N parts of S bytes (part k is S times the letter A+k%26), answer "tail"
 *   /s/wait?file=F          head, part "first", waits until file F exists, part "second", answer "end"
 *   /s/die?file=F           head, part "partial", waits until file F exists, then SIGKILL to itself
 *   /s/finish?file=F        head, part "answered", http.end (fastcgi_finish_request()), a part, then
 *                           waits until file F exists and answers
 *   /s/bad-head             a head with status 102, a part, an answer
 *   /s/body-first           a part before the head, then a head, a part and an answer
 *   /s/two-heads            a head, a part "first", a second head (status 201), a part, an answer
 * With ?length=L, the head declares Content-Length L; with ?header=N, it holds a header X-Big of N bytes.
 * Paths under /s/cycle/ go through the framework adapters' request cycle (folk-worker-php's Bridge),
 * printed as an application prints them:
 *   /s/cycle/events?file=F      server-sent events as legacy code writes them: every output buffer
 *                           closed, an event echoed and flush()ed, waits until file F exists, another
 *   /s/cycle/ticks[?ignore=1&file=F]  an event every 50 ms for 20 s; with ignore, ignore_user_abort()
 *                           and, once connection_aborted() says the client went away, file F made
 *   /s/cycle/cleaned        100 KB printed, then discarded with ob_clean(), then "kept"
 *   /s/cycle/dated[?status=304]  "dated" with headers Date (2024-01-01) and ETag, or a 304 with them
 * /s/printed?mb=N goes to a plain http() handler (folk-worker-php's HttpHandler) that may hold
 * 32 MB (memory_limit) and echoes N MiB (MiB k is the letter A+k%26) after its returned body
 * "returned:", with status 203 and a header X-Printed: yes; with &throw=1, then throws an exception
 * it does not catch (display_errors off).
 * Every answer is refused (500) unless the params asked for parts.
 */

declare(strict_types=1);

require __DIR__ . '/../../../../folk-worker-php/src/main/php/autoload.php';

use Folk\Worker\Bridge\PhpRequest;
use Folk\Worker\Bridge\RequestCycle;
use Folk\Worker\Http\HttpHandler;
use Folk\Worker\Http\Request;
use Folk\Worker\Http\Response;
use Folk\Worker\Worker;

/** Waits (up to 20 s) until the test has created $file: it has seen what it waits for. */
function waitFor(string $file): void
{
    $deadline = microtime(true) + 20;
    while (!file_exists($file) && microtime(true) < $deadline) {
        usleep(10000);
    }
}

$worker = new Worker();
$cycle = new RequestCycle($worker, static function (PhpRequest $request): array {
    switch (parse_url($request->uri, PHP_URL_PATH)) {
        case '/s/cycle/events':
            header('Content-Type: text/event-stream');
            while (ob_get_level() > 0) {
                ob_end_flush();
            }
            echo "data: first\n\n";
            flush();
            waitFor($request->get['file']);
            echo "data: second\n\n";
            flush();
            break;
        case '/s/cycle/ticks':
            // An endless stream: an event every 50 ms for 20 s, unless its client goes away first; with
            // ?ignore=1 (ignore_user_abort()) until connection_aborted() says so, then file F is made.
            $ignore = isset($request->get['ignore']);
            ignore_user_abort($ignore);
            header('Content-Type: text/event-stream');
            while (ob_get_level() > 0) {
                ob_end_flush();
            }
            for ($tick = 0; $tick < 400 && !connection_aborted(); $tick++) {
                echo "data: tick $tick\n\n";
                flush();
                usleep(50000);
            }
            if ($ignore && connection_aborted()) {
                touch($request->get['file']);
            }
            break;
        case '/s/cycle/cleaned':
            echo str_repeat('x', 100 * 1024);
            ob_clean();
            echo 'kept';
            break;
        case '/s/cycle/dated':
            header('Date: Mon, 01 Jan 2024 00:00:00 GMT');
            header('ETag: "v1"');
            if (($request->get['status'] ?? '') === '304') {
                return [304, [], ''];
            }
            echo 'dated';
            break;
    }
    return [200, [], ''];
});
$printed = new HttpHandler(static function (Request $request): Response {
    ini_set('memory_limit', '32M'); // for this request only: set back after it
    for ($k = 0; $k < (int) ($request->query()['mb'] ?? 0); $k++) {
        echo str_repeat(chr(65 + $k % 26), 1 << 20);
    }
    if (isset($request->query()['throw'])) {
        ini_set('display_errors', '0'); // for this request only, as memory_limit
        throw new \RuntimeException('failed after printing');
    }
    return new Response('returned:', 203, ['X-Printed' => 'yes']);
}, $worker);
$worker->register('http.handle', static function (array $params) use ($cycle, $printed): array {
    if (($params['stream'] ?? false) !== true) {
        return ['status' => 500, 'headers' => [], 'body' => 'the gateway did not ask for parts'];
    }
    $path = parse_url((string) $params['uri'], PHP_URL_PATH);
    if (str_starts_with($path, '/s/cycle/')) {
        return $cycle($params);
    }
    if ($path === '/s/printed') {
        return $printed($params);
    }
    parse_str((string) parse_url((string) $params['uri'], PHP_URL_QUERY), $query);
    $head = ['status' => 200, 'headers' => ['Content-Type' => 'application/octet-stream', 'X-Streamed' => 'yes']];
    if (isset($query['length'])) {
        $head['headers']['Content-Length'] = $query['length']; // a length the body may keep to, or not
    }
    if (isset($query['header'])) {
        $head['headers']['X-Big'] = str_repeat('h', (int) $query['header']);
    }
    switch ($path) {
        case '/s/big':
            Worker::sendPart('http.head', $head);
            $size = min((int) $query['size'], Worker::partLimit());
            for ($k = 0; $k < (int) $query['parts']; $k++) {
                Worker::sendPart('http.body', str_repeat(chr(65 + $k % 26), $size));
            }
            return ['status' => 200, 'headers' => [], 'body' => 'tail'];
        case '/s/wait':
            Worker::sendPart('http.head', $head);
            Worker::sendPart('http.body', "first\n");
            waitFor($query['file']);
            Worker::sendPart('http.body', "second\n");
            return ['status' => 200, 'headers' => [], 'body' => "end\n"];
        case '/s/die':
            Worker::sendPart('http.head', $head);
            Worker::sendPart('http.body', "partial\n");
            waitFor($query['file']);
            posix_kill(getmypid(), 9);
            sleep(10);
            return ['status' => 200, 'headers' => [], 'body' => 'never'];
        case '/s/finish':
            // fastcgi_finish_request(): the answer ends, the worker goes on until the file exists.
            Worker::sendPart('http.head', $head);
            Worker::sendPart('http.body', "answered\n");
            Worker::sendPart('http.end', null);
            Worker::sendPart('http.body', 'dropped');
            waitFor($query['file']);
            return ['status' => 200, 'headers' => [], 'body' => 'dropped too'];
        case '/s/body-first':
            Worker::sendPart('http.body', "early\n");
            Worker::sendPart('http.head', $head);
            Worker::sendPart('http.body', "later\n");
            return ['status' => 200, 'headers' => [], 'body' => "rest\n"];
        case '/s/two-heads':
            Worker::sendPart('http.head', $head);
            Worker::sendPart('http.body', "first\n");
            Worker::sendPart('http.head', ['status' => 201, 'headers' => []]);
            Worker::sendPart('http.body', "second\n");
            return ['status' => 200, 'headers' => [], 'body' => "rest\n"];
        case '/s/bad-head':
            Worker::sendPart('http.head', ['status' => 102, 'headers' => []]);
            Worker::sendPart('http.body', 'ignored');
            return ['status' => 200, 'headers' => [], 'body' => 'ignored too'];
    }
    return ['status' => 404, 'headers' => [], 'body' => 'no such test'];
});
$worker->run();
