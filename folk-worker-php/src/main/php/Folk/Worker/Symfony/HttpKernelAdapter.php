<?php

declare(strict_types=1);

namespace Folk\Worker\Symfony;

use Folk\Worker\Bridge\CliHeaders;
use Folk\Worker\Bridge\HeaderCapture;
use Folk\Worker\Bridge\PhpRequest;
use Folk\Worker\Bridge\RequestCycle;
use Folk\Worker\Bridge\UploadedFiles;
use Folk\Worker\Worker;
use Symfony\Component\ErrorHandler\ErrorHandler;
use Symfony\Component\HttpFoundation\File\UploadedFile;
use Symfony\Component\HttpFoundation\InputBag;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\Response;
use Symfony\Component\HttpKernel\HttpKernelInterface;
use Symfony\Component\HttpKernel\TerminableInterface;

/**
 * Serves a Symfony HttpKernel (a Kernel, or an HttpKernel assembled from components) on
 * `http.handle`:
 *
 *     (new HttpKernelAdapter($kernel))->register(new Worker())->run();
 *
 * or, unchanged front controller, through {@see Runtime} (`APP_RUNTIME`).
 *
 * Per request: a Request built like Request::createFromGlobals() under PHP-FPM (form fields,
 * cookies, uploads through Symfony's FileBag; where is_uploaded_file() cannot be told of them
 * ({@see UploadedFiles}), UploadedFile instances in test mode, which pass isValid() and move()), `handle()`, the response's headers and cookies as sent by
 * Response::send() and its content printed by sendContent() (streamed responses buffered);
 * after the response is sent: `terminate()` for a TerminableInterface kernel and `reset()`
 * for a kernel that implements ResetInterface (a Symfony Kernel resets its services itself
 * with its `services_resetter` at the next request). The session cookie is the one Symfony's
 * SessionListener puts on the response, so PHP's own session headers are not added; the
 * headers Symfony's session code sends with header() are kept ({@see HeaderCapture}).
 */
final class HttpKernelAdapter
{
    /** Symfony code that calls header() itself (session handlers, SessionUtils): see {@see HeaderCapture}. */
    public const HEADER_NAMESPACES = [
        'Symfony\\Component\\HttpFoundation\\Session',
        'Symfony\\Component\\HttpFoundation\\Session\\Storage',
        'Symfony\\Component\\HttpFoundation\\Session\\Storage\\Handler',
    ];

    /**
     * Where Response::send() calls header(): what it sends counts for a request that ends the process
     * (legacy code's `$response->send(); exit;`, a framework's error page for a fatal error), see
     * {@see HeaderCapture::installForResponses()}.
     */
    public const RESPONSE_NAMESPACES = ['Symfony\\Component\\HttpFoundation'];

    /** Symfony's ErrorHandler during a call, if it is PHP's exception handler ({@see noteExceptionHandler()}). */
    private ?ErrorHandler $errorHandler = null;
    /** @var callable|null the handler the ErrorHandler passed exceptions to before the exception */
    private mixed $exceptionHandler = null;

    /** @param class-string<UploadedFile> $uploadedFileClass the class of uploaded files */
    public function __construct(
        private readonly HttpKernelInterface $kernel,
        private readonly string $uploadedFileClass = UploadedFile::class,
    ) {
        self::captureHeaders();
    }

    /**
     * Where Symfony's code (also Laravel's) calls header(): the session code's are captured unless
     * PHP keeps header lines itself ({@see CliHeaders}), Response::send()'s always.
     */
    public static function captureHeaders(): void
    {
        if (!CliHeaders::keep()) {
            HeaderCapture::install(...self::HEADER_NAMESPACES);
        }
        HeaderCapture::installForResponses(...self::RESPONSE_NAMESPACES);
    }

    /** Registers `http.handle` on the worker and returns it. */
    public function register(Worker $worker): Worker
    {
        return $worker->addResetter($this->restoreExceptionHandler(...))
            ->register('http.handle', new RequestCycle($worker, $this->handle(...), phpSessionHeaders: false, appReplaces: false));
    }

    /**
     * Notes Symfony's ErrorHandler, when it is PHP's exception handler, and the handler it passes
     * uncaught exceptions to now, as an exception leaves the call: its handleException() gives that
     * handler up after one exception (PHP ends there), and from the next on a worker would render
     * them as on the command line.
     */
    private function noteExceptionHandler(): void
    {
        $current = set_exception_handler(null);
        restore_exception_handler();
        $this->errorHandler = \is_array($current) && ($current[0] ?? null) instanceof ErrorHandler ? $current[0] : null;
        if ($this->errorHandler !== null) {
            $this->exceptionHandler = $this->errorHandler->setExceptionHandler(null);
            $this->errorHandler->setExceptionHandler($this->exceptionHandler);
        }
    }

    /** After each call: the ErrorHandler's handler as it was before an exception left the call, if one did. */
    private function restoreExceptionHandler(): void
    {
        $this->errorHandler?->setExceptionHandler($this->exceptionHandler);
        $this->errorHandler = null;
        $this->exceptionHandler = null;
    }

    /**
     * The Request Request::createFromGlobals() builds under PHP-FPM for this request.
     *
     * @param class-string<UploadedFile> $uploadedFileClass
     */
    public static function request(PhpRequest $php, string $uploadedFileClass = UploadedFile::class): Request
    {
        // Symfony's FileBag reads $_FILES as under PHP-FPM, whatever shape PHP gave it.
        $request = new Request($php->get, $php->post, [], $php->cookies, $php->files, $php->server, $php->body);
        if ($php->files !== [] && !UploadedFiles::available()) {
            // is_uploaded_file() does not know the files: made again in test mode, they pass
            // isValid() and move() as under PHP-FPM.
            $request->files->replace(self::testMode($request->files->all(), $uploadedFileClass));
        }
        if (str_starts_with((string) $request->headers->get('CONTENT_TYPE', ''), 'application/x-www-form-urlencoded')
            && in_array(strtoupper((string) $request->server->get('REQUEST_METHOD', 'GET')), ['PUT', 'DELETE', 'PATCH'], true)) {
            parse_str($php->body, $data);
            $request->request = new InputBag($data);
        }
        return $request;
    }

    /**
     * Status, header lines and a body printer of a response, as Response::send() emits them.
     *
     * @return array{0: int, 1: list<array{0: string, 1: string}>, 2: \Closure(): void}
     */
    public static function responseParts(Response $response): array
    {
        $headers = [];
        foreach ($response->headers->allPreserveCaseWithoutCookies() as $name => $values) {
            foreach ($values as $value) {
                $headers[] = [(string) $name, (string) $value];
            }
        }
        foreach ($response->headers->getCookies() as $cookie) {
            $headers[] = ['Set-Cookie', (string) $cookie];
        }
        return [$response->getStatusCode(), $headers, static function () use ($response): void {
            $response->sendContent();
        }];
    }

    /** @return array{0: int, 1: list<array{0: string, 1: string}>, 2: \Closure(): void, 3: \Closure(): void, 4: \Closure(): void} */
    private function handle(PhpRequest $php): array
    {
        try {
            $request = self::request($php, $this->uploadedFileClass);
            $response = $this->kernel->handle($request);
        } catch (\Throwable $e) {
            $this->noteExceptionHandler(); // before the handler it names runs (RequestCycle, as PHP would)
            throw $e;
        }
        $parts = self::responseParts($response);
        $kernel = $this->kernel;
        $parts[2] = $this->noting($parts[2]); // a streamed response's callback may throw
        $parts[] = $this->noting(static function () use ($kernel, $request, $response): void {
            if ($kernel instanceof TerminableInterface) {
                $kernel->terminate($request, $response);
            }
        });
        $parts[] = function () use ($kernel): void {
            $this->restoreExceptionHandler(); // after an exception in terminate(), before the next call
            if ($kernel instanceof \Symfony\Contracts\Service\ResetInterface) {
                $kernel->reset();
            }
        };
        return $parts;
    }

    /** $step, noting the exception handler as an exception it throws leaves it ({@see noteExceptionHandler()}). */
    private function noting(\Closure $step): \Closure
    {
        return function () use ($step): void {
            try {
                $step();
            } catch (\Throwable $e) {
                $this->noteExceptionHandler(); // before the handler it names runs (RequestCycle, as PHP would)
                throw $e;
            }
        };
    }

    /**
     * @param array<array-key, mixed>    $files FileBag's files: UploadedFile, null, or arrays of them
     * @param class-string<UploadedFile> $class
     * @return array<array-key, mixed>
     */
    private static function testMode(array $files, string $class): array
    {
        foreach ($files as $key => $file) {
            if (is_array($file)) {
                $files[$key] = self::testMode($file, $class);
            } elseif ($file instanceof UploadedFile) {
                $files[$key] = new $class($file->getPathname(), $file->getClientOriginalName(), $file->getClientMimeType(),
                    $file->getError(), true);
            }
        }
        return $files;
    }
}
