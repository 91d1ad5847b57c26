<?php

/*
 * The HTTP edge-case routes of the two Symfony applications (FrameworkAppsTest's statuses, cookies
 * and large bodies), written once with HttpFoundation: path (without its leading "/") => controller,
 * every one for GET. The components application routes to these closures; the FrameworkBundle one
 * from its kernel's methods, since its compiled routes cannot hold closures.
 */

declare(strict_types=1);

use Symfony\Component\HttpFoundation\BinaryFileResponse;
use Symfony\Component\HttpFoundation\Cookie;
use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\Response;
use Symfony\Component\HttpFoundation\StreamedResponse;

/** About ?kb= KB (default 200) of text lines, then "end". */
$largeBody = static fn (Request $request): string
    => str_repeat(str_repeat('0123456789abcdef', 4) . "\n", intdiv($request->query->getInt('kb', 200) * 1024, 65)) . 'end';

/*
 * Session operations through HttpFoundation's session, in the order ?ops= lists them (comma-separated):
 * set:k=v, remove:k, clear, invalidate, migrate, migrate-destroy, flash:v (adds a flash message),
 * flashes (takes them), save, start, id (none, the cookie's or another); answers what the session
 * holds then, and whether its id is the one the request's cookie named (ids are random).
 */
$sessionOps = static function (Request $request): JsonResponse {
    $session = $request->getSession();
    $cookieId = $request->cookies->get($session->getName());
    $seen = [];
    foreach (array_filter(explode(',', (string) $request->query->get('ops', ''))) as $op) {
        [$verb, $arg] = explode(':', $op, 2) + [1 => ''];
        $seen[] = [$op, match ($verb) {
            'set' => (static function () use ($session, $arg): bool { [$k, $v] = explode('=', $arg, 2) + [1 => '']; $session->set($k, $v); return true; })(),
            'remove' => $session->remove($arg),
            'clear' => (static function () use ($session): bool { $session->clear(); return true; })(),
            'invalidate' => $session->invalidate(),
            'migrate' => $session->migrate(),
            'migrate-destroy' => $session->migrate(true),
            'flash' => (static function () use ($session, $arg): bool { $session->getFlashBag()->add('note', $arg); return true; })(),
            'flashes' => $session->getFlashBag()->get('note'),
            'save' => (static function () use ($session): bool { $session->save(); return true; })(),
            'start' => $session->start(),
            'id' => match ($session->getId()) { '' => 'none', $cookieId => 'cookie', default => 'other' },
            default => null,
        }, $session->isStarted()];
    }
    return new JsonResponse(['ops' => $seen, 'all' => $session->all(), 'started' => $session->isStarted(),
        'id is the cookie\'s' => $session->getId() === $cookieId, 'native session' => session_status()]);
};

return [
    'session-ops' => $sessionOps,
    'no-content' => static fn (): Response => new Response('', 204),
    'etag' => static function (Request $request): Response {
        $response = (new Response("the resource\n"))->setEtag('v1')->setMaxAge(60);
        $response->isNotModified($request);
        return $response;
    },
    'process-state' => static fn (Request $request): Response => new Response(
        (require __DIR__ . '/process-state.php')($request->query->has('change')), 200, ['Content-Type' => 'application/json']),
    // PHP's own error in a controller (a method called on null): Symfony 5.4's HttpKernel catches
    // exceptions only, so the \Error leaves handle() and the ErrorHandler PHP calls answers it.
    'php-error' => static function (Request $request): Response {
        $user = $request->attributes->get('user');
        return new Response($user->name());
    },
    'teapot' => static fn (): Response => (new Response("short and stout\n"))->setStatusCode(418, 'Short And Stout'),
    // What legacy code does: set a status, print, exit().
    'exit' => static function (): never {
        http_response_code(403);
        echo "printed, then exit\n";
        exit;
    },
    // exit() while a streamed body is sent: the status and headers are out already.
    'streamed-exit' => static fn (): StreamedResponse => new StreamedResponse(static function (): never {
        echo "part one\n";
        flush();
        exit;
    }, 202, ['Content-Type' => 'text/plain', 'X-Streamed' => 'yes']),
    // An exception while a streamed body is sent (an export that fails midway): the status and
    // headers are out, what was printed stays, the exception handler's page follows it.
    'streamed-throw' => static fn (Request $request): StreamedResponse => new StreamedResponse(static function () use ($request): never {
        $line = str_repeat('z', 100);
        for ($i = 0; $i < $request->query->getInt('lines', 10); $i++) {
            echo "line $i $line\n";
        }
        throw new \RuntimeException('export failed midway');
    }, 200, ['Content-Type' => 'text/plain']),
    // dump() prints into the page (VarDumper's HTML, its stylesheet and script in each page), dd() answers 500.
    'dump' => static function (): Response {
        dump(['a' => 1, 'b' => 'two']);
        return new Response("after dump\n");
    },
    'dd' => static function (): never {
        dd(['a' => 1]);
    },
    // Legacy code's header(), setcookie() and redirect by exit, beside Symfony's response.
    'legacy-headers' => static function (): Response {
        (require __DIR__ . '/legacy-headers.php')('headers');
        return new Response("legacy headers\n");
    },
    'legacy-finish' => static fn (): Response => new Response((require __DIR__ . '/legacy-headers.php')('finish')),
    'legacy-redirect' => static fn (): Response => (require __DIR__ . '/legacy-headers.php')('redirect'),
    'legacy-status' => static fn (): Response => (require __DIR__ . '/legacy-headers.php')('status'),
    'legacy-request-headers' => static fn (): Response => new Response((require __DIR__ . '/legacy-headers.php')('request-headers'),
        200, ['Content-Type' => 'application/json']),
    // Fatal errors (memory exhausted, a function declared twice): what PHP itself answers.
    'fatal-memory' => static fn (): never => (require __DIR__ . '/fatal-errors.php')('memory'),
    'fatal-compile' => static fn (): never => (require __DIR__ . '/fatal-errors.php')('compile'),
    'fatal-memory-page' => static fn (): never => (require __DIR__ . '/fatal-errors.php')('memory-page'),
    'shutdown-output' => static fn (): Response => new Response((require __DIR__ . '/shutdown-output.php')()),
    'cookies' => static function (): JsonResponse {
        $response = new JsonResponse(['ok' => true]);
        $response->headers->setCookie(Cookie::create('a', '1'));
        $response->headers->setCookie(Cookie::create('b', 'two words; "quoted"', 0, '/', null, false, true, false, 'lax'));
        $response->headers->setCookie(Cookie::create('c', 'x', new \DateTimeImmutable('2030-01-02 03:04:05 UTC')));
        $response->headers->clearCookie('d');
        $response->headers->set('X-Empty', '');
        return $response;
    },
    'large' => static fn (Request $request): Response
        => new Response($largeBody($request), 200, ['Content-Type' => 'text/plain']),
    'download' => static function (Request $request): StreamedResponse {
        $download = require __DIR__ . '/legacy-download.php';
        $kb = $request->query->getInt('kb', 200);
        $sized = $request->query->has('sized');
        $closed = $request->query->has('closed');
        return new StreamedResponse(static fn () => $download($kb, $sized, $closed), 200,
            ['Content-Type' => 'text/csv', 'Content-Disposition' => 'attachment; filename="rows.csv"']);
    },
    // A file the framework sends itself (its size, ranges and validators from the file), not printed.
    'file' => static fn (): BinaryFileResponse => new BinaryFileResponse((require __DIR__ . '/download-file.php')(),
        200, ['Content-Type' => 'text/csv']),
    'streamed' => static function (Request $request) use ($largeBody): StreamedResponse {
        $body = $largeBody($request);
        return new StreamedResponse(static function () use ($body): void {
            foreach (str_split($body, 8192) as $chunk) {
                echo $chunk;
                flush();
            }
        }, 200, ['Content-Type' => 'text/plain']);
    },
];
