<?php

declare(strict_types=1);

namespace Folk\Worker\Psr;

use Folk\Worker\Bridge\PhpRequest;
use Folk\Worker\Bridge\RequestCycle;
use Folk\Worker\Bridge\StreamedBody;
use Folk\Worker\Worker;
use Psr\Http\Message\ResponseInterface;
use Psr\Http\Message\ServerRequestFactoryInterface;
use Psr\Http\Message\ServerRequestInterface;
use Psr\Http\Message\StreamFactoryInterface;
use Psr\Http\Message\UploadedFileFactoryInterface;

/**
 * Serves a PSR-15 request handler (or any `callable(ServerRequestInterface): ResponseInterface`)
 * on `http.handle`:
 *
 *     $app = require __DIR__ . '/../app.php';             // the application, unchanged
 *     (new Psr15Adapter($app))->register(new Worker())->run();
 *
 * The server request is built with PSR-17 factories: the ones given, else nyholm/psr7's
 * Psr17Factory when it is installed. It carries what PHP-FPM would give the application's own
 * ServerRequestCreator: server params ($_SERVER), query params, cookies, the parsed body of a
 * form POST, uploaded files (temporary files, removed after the request) and the raw body.
 * The response's status, headers (repeated ones as lists) and body (read to the end, so a
 * streamed body is buffered) become the result. Applications that use PHP's session
 * functions get the session cookie and cache headers PHP-FPM would send.
 */
final class Psr15Adapter
{
    private readonly \Closure $handler;
    private readonly ServerRequestFactoryInterface $requests;
    private readonly StreamFactoryInterface $streams;
    private readonly UploadedFileFactoryInterface $uploads;

    /**
     * @param object|callable $handler a Psr\Http\Server\RequestHandlerInterface (anything with
     *        handle()) or a callable taking the request and returning the response
     */
    public function __construct(
        object|callable $handler,
        ?ServerRequestFactoryInterface $requests = null,
        ?StreamFactoryInterface $streams = null,
        ?UploadedFileFactoryInterface $uploads = null,
    ) {
        $this->handler = is_callable($handler)
            ? \Closure::fromCallable($handler)
            : (method_exists($handler, 'handle') ? \Closure::fromCallable([$handler, 'handle'])
                : throw new \InvalidArgumentException('expected a PSR-15 request handler or a callable, got ' . get_debug_type($handler)));
        $nyholm = 'Nyholm\\Psr7\\Factory\\Psr17Factory';
        $default = ($requests === null || $streams === null || $uploads === null) && class_exists($nyholm) ? new $nyholm() : null;
        $this->requests = $requests ?? $default ?? throw self::noFactory('ServerRequestFactoryInterface');
        $this->streams = $streams ?? $default ?? throw self::noFactory('StreamFactoryInterface');
        $this->uploads = $uploads ?? $default ?? throw self::noFactory('UploadedFileFactoryInterface');
    }

    /** Registers `http.handle` on the worker and returns it. */
    public function register(Worker $worker): Worker
    {
        // A PSR-15 application's emitter (Slim's) sends the response without ending the request:
        // what its shutdown functions print is sent too, as under PHP-FPM.
        return $worker->register('http.handle', new RequestCycle($worker, $this->handle(...), shutdownOutput: true));
    }

    /** Builds the PSR-7 server request PHP-FPM would give the application for this request. */
    public function serverRequest(PhpRequest $php): ServerRequestInterface
    {
        $server = $php->server;
        $request = $this->requests->createServerRequest($php->method, self::absoluteUri($server), $server);
        // The factory may set headers of its own from the URI (nyholm's and guzzle's set Host): the
        // client's first line of a name replaces them, its further lines of that name are added.
        $seen = [];
        foreach ($php->headerList as [$name, $value]) {
            $key = strtolower($name);
            $request = isset($seen[$key]) ? $request->withAddedHeader($name, $value) : $request->withHeader($name, $value);
            $seen[$key] = true;
        }
        $protocol = $server['SERVER_PROTOCOL'] ?? 'HTTP/1.1';
        $request = $request
            ->withProtocolVersion(str_starts_with($protocol, 'HTTP/') ? substr($protocol, 5) : '1.1')
            ->withCookieParams($php->cookies)
            ->withQueryParams($php->get)
            ->withUploadedFiles($this->uploadedFiles($php->normalizedFiles()))
            ->withBody($this->streams->createStream($php->body));
        return $php->hasFormBody() ? $request->withParsedBody($php->post) : $request;
    }

    /** @return array{0: int, 1: list<array{0: string, 1: string}>, 2: string|\Closure(): void} */
    private function handle(PhpRequest $php): array
    {
        $response = ($this->handler)($this->serverRequest($php));
        if (!$response instanceof ResponseInterface) {
            throw new \UnexpectedValueException('the PSR-15 handler returned ' . get_debug_type($response) . ', not a ResponseInterface');
        }
        $headers = [];
        foreach ($response->getHeaders() as $name => $values) {
            foreach ($values as $value) {
                $headers[] = [(string) $name, $value];
            }
        }
        $body = $response->getBody();
        if ($body->isSeekable()) {
            $body->rewind();
        }
        $size = $body->getSize();
        if ($size !== null && $size <= StreamedBody::THRESHOLD) {
            return [$response->getStatusCode(), $headers, $body->getContents()];
        }
        // A large body (a file, say) or one of unknown size: read and printed in pieces, as
        // PSR-7 emitters do, so that a streamed answer never holds all of it.
        return [$response->getStatusCode(), $headers, static function () use ($body): void {
            while (!$body->eof()) {
                $chunk = $body->read(65536);
                if ($chunk === '') {
                    break;
                }
                echo $chunk;
            }
        }];
    }

    private function uploadedFiles(array $tree): array
    {
        $files = [];
        foreach ($tree as $key => $node) {
            if (!is_array($node)) {
                continue;
            }
            if (!array_key_exists('tmp_name', $node) || is_array($node['tmp_name'])) {
                $files[$key] = $this->uploadedFiles($node);
                continue;
            }
            $stream = $node['error'] === UPLOAD_ERR_OK
                ? $this->streams->createStreamFromFile($node['tmp_name'], 'r')
                : $this->streams->createStream('');
            $files[$key] = $this->uploads->createUploadedFile($stream, (int) $node['size'], (int) $node['error'], $node['name'], $node['type']);
        }
        return $files;
    }

    /** The absolute URI the way PSR-7 server request creators derive it from $_SERVER. */
    private static function absoluteUri(array $server): string
    {
        $scheme = ($server['HTTPS'] ?? 'off') !== 'off' && ($server['HTTPS'] ?? '') !== '' ? 'https' : ($server['REQUEST_SCHEME'] ?? 'http');
        $host = $server['HTTP_HOST'] ?? (($server['SERVER_NAME'] ?? 'localhost')
            . (isset($server['SERVER_PORT']) && !in_array($server['SERVER_PORT'], ['80', '443'], true) ? ':' . $server['SERVER_PORT'] : ''));
        return $scheme . '://' . $host . ($server['REQUEST_URI'] ?? '/');
    }

    private static function noFactory(string $interface): \LogicException
    {
        return new \LogicException('no PSR-17 ' . $interface . ' given and nyholm/psr7 is not installed: '
            . 'pass the factories of your PSR-7 implementation to ' . self::class . ' (apt-get install php-nyholm-psr7, or composer require nyholm/psr7)');
    }
}
