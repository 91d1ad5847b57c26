<?php

/*
 * A small Symfony application from components (Debian packages HttpKernel, Routing,
 * HttpFoundation, EventDispatcher and ErrorHandler; FrameworkBundle's configuration is more
 * than this test needs): routes, JSON, a form POST, an upload, a redirect, a session counter
 * (HttpFoundation sessions through HttpKernel's SessionListener), a 404, the production
 * error page and a kernel.terminate listener. Returns a function building the HttpKernel; public/index.php is the usual
 * Symfony Runtime front controller, under PHP-FPM and (with APP_RUNTIME) in a worker.
 */

declare(strict_types=1);

use Psr\Container\ContainerInterface;
use Symfony\Component\ErrorHandler\ErrorRenderer\HtmlErrorRenderer;
use Symfony\Component\EventDispatcher\EventDispatcher;
use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpFoundation\RedirectResponse;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\RequestStack;
use Symfony\Component\HttpFoundation\Response;
use Symfony\Component\HttpFoundation\Session\SessionFactory;
use Symfony\Component\HttpFoundation\Session\Storage\NativeSessionStorageFactory;
use Symfony\Component\HttpKernel\Controller\ArgumentResolver;
use Symfony\Component\HttpKernel\Controller\ControllerResolver;
use Symfony\Component\HttpKernel\Controller\ErrorController;
use Symfony\Component\HttpKernel\EventListener\ErrorListener;
use Symfony\Component\HttpKernel\EventListener\ResponseListener;
use Symfony\Component\HttpKernel\EventListener\RouterListener;
use Symfony\Component\HttpKernel\EventListener\SessionListener;
use Symfony\Component\HttpKernel\Event\TerminateEvent;
use Symfony\Component\HttpKernel\HttpKernel;
use Symfony\Component\HttpKernel\KernelEvents;
use Symfony\Component\Routing\Matcher\UrlMatcher;
use Symfony\Component\Routing\RequestContext;
use Symfony\Component\Routing\Route;
use Symfony\Component\Routing\RouteCollection;

return static function (array $context): HttpKernel {
    $routes = new RouteCollection();
    $route = static function (string $name, string $path, string $method, \Closure $controller) use ($routes): void {
        $routes->add($name, new Route($path, ['_controller' => $controller], methods: [$method]));
    };
    $route('home', '/', 'GET', static fn (): Response
        => new Response("<!doctype html>\n<title>Symfony</title>\n<h1>Hello from Symfony</h1>\n"));
    $route('json', '/json', 'GET', static fn (Request $request): JsonResponse
        => new JsonResponse(['framework' => 'symfony', 'query' => $request->query->all()]));
    $route('form', '/form', 'POST', static fn (Request $request): JsonResponse
        => new JsonResponse(['fields' => $request->request->all(), 'cookies' => $request->cookies->all()]));
    $describeUploads = require dirname(__DIR__) . '/describe-uploads.php';
    $route('upload', '/upload', 'POST', static fn (Request $request): JsonResponse => new JsonResponse(
        ['files' => $describeUploads($request->files->all()), 'fields' => $request->request->all()]));
    $route('legacy-input', '/legacy-input', 'POST', static fn (): Response => new Response(
        (require dirname(__DIR__) . '/legacy-headers.php')('input'), 200, ['Content-Type' => 'application/json']));
    $route('legacy-upload', '/legacy-upload', 'POST', static fn (): Response => new Response(
        (require dirname(__DIR__) . '/legacy-uploads.php')(), 200, ['Content-Type' => 'application/json']));
    // What Symfony makes of the request: its URL parts (base URL and path info from SCRIPT_NAME,
    // PHP_SELF and REQUEST_URI), query, cookies, headers, body and form fields.
    $routes->add('request', new Route('/request{rest}', ['_controller' => static fn (Request $request): JsonResponse => new JsonResponse([
        'method' => $request->getMethod(), 'pathInfo' => $request->getPathInfo(), 'baseUrl' => $request->getBaseUrl(),
        'basePath' => $request->getBasePath(), 'requestUri' => $request->getRequestUri(), 'uri' => $request->getUri(),
        'host' => $request->getHost(), 'port' => $request->getPort(), 'scheme' => $request->getScheme(),
        'queryString' => $request->getQueryString(), 'query' => $request->query->all(), 'cookies' => $request->cookies->all(),
        // X-Php-Ob-Level (HttpKernel's note of the output buffers open when it began) counts the
        // worker's capture buffer too, which code that cleans buffers down to it must keep.
        'headers' => array_diff_key($request->headers->all(), ['x-php-ob-level' => 0]), 'content' => $request->getContent(), 'fields' => $request->request->all(),
        'protocol' => $request->getProtocolVersion(), 'clientIp' => $request->getClientIp(),
    ]), 'rest' => ''], ['rest' => '.*']));
    // An answer as the request describes it (?spec=, base64url JSON: status, header lines, body, and
    // "framework": made as a Response, else with header(), http_response_code() and echo, then exit).
    $route('respond', '/respond', 'GET', static function (Request $request): Response {
        $spec = (require dirname(__DIR__) . '/respond.php')((string) $request->query->get('spec', ''));
        return (require dirname(__DIR__) . '/spec-headers.php')(new Response($spec['body'] ?? '', $spec['status'] ?? 200), $spec);
    });
    $route('redirect', '/redirect', 'GET', static fn (): RedirectResponse => new RedirectResponse('/json?from=redirect'));
    $route('session', '/session', 'GET', static function (Request $request): JsonResponse {
        $session = $request->getSession();
        $session->set('count', $session->get('count', 0) + 1);
        return new JsonResponse(['count' => $session->get('count')]);
    });
    // HTTP edge cases (FrameworkAppsTest#statusesAndResponseHeadersAnswerLikePhpFpm), as in the other applications.
    foreach (require dirname(__DIR__) . '/symfony-edge-cases.php' as $path => $controller) {
        $route($path, '/' . $path, 'GET', $controller);
    }
    $route('exception', '/exception', 'GET', static function (): never {
        throw new \RuntimeException('this route always fails');
    });

    $requestStack = new RequestStack();
    $sessions = new SessionFactory($requestStack, new NativeSessionStorageFactory());
    $services = new class(['session_factory' => $sessions]) implements ContainerInterface {
        public function __construct(private array $services)
        {
        }

        public function get(string $id): mixed
        {
            return $this->services[$id];
        }

        public function has(string $id): bool
        {
            return isset($this->services[$id]);
        }
    };

    $dispatcher = new EventDispatcher();
    $kernel = new HttpKernel($dispatcher, new ControllerResolver(), $requestStack, new ArgumentResolver());
    $dispatcher->addSubscriber(new RouterListener(new UrlMatcher($routes, new RequestContext()), $requestStack, debug: false));
    $dispatcher->addSubscriber(new SessionListener($services));
    $dispatcher->addSubscriber(new ResponseListener('UTF-8'));
    $dispatcher->addSubscriber(new ErrorListener(new ErrorController($kernel, null, new HtmlErrorRenderer(false))));
    // Work after the response (mail, logs...): recorded so that the tests see terminate() ran.
    $dispatcher->addListener(KernelEvents::TERMINATE, static function (TerminateEvent $event): void {
        if (($state = getenv('FOLK_APP_STATE')) !== false && is_dir($state)) {
            file_put_contents("$state/terminated.log", 'terminate ' . $event->getRequest()->getPathInfo() . "\n", FILE_APPEND);
        }
    });
    return $kernel;
};
