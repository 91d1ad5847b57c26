<?php

/*
 * A Symfony application as `symfony new` shapes one: a Kernel with FrameworkBundle and
 * MicroKernelTrait, its service container compiled to the cache directory on the first request
 * and loaded from there after (Debian's php-symfony-framework-bundle). The same routes as the
 * components application next to it, with the controllers as the kernel's methods; sessions are
 * PHP's native ones (framework.session), errors FrameworkBundle's production pages, and a
 * kernel.terminate subscriber records that terminate() ran.
 */

declare(strict_types=1);

namespace App;

use Symfony\Bundle\FrameworkBundle\FrameworkBundle;
use Symfony\Bundle\FrameworkBundle\Kernel\MicroKernelTrait;
use Symfony\Component\DependencyInjection\Loader\Configurator\ContainerConfigurator;
use Symfony\Component\EventDispatcher\EventSubscriberInterface;
use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpFoundation\RedirectResponse;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\Response;
use Symfony\Component\HttpKernel\Event\TerminateEvent;
use Symfony\Component\HttpKernel\Kernel as BaseKernel;
use Symfony\Component\HttpKernel\KernelEvents;
use Symfony\Component\Routing\Loader\Configurator\RoutingConfigurator;

final class Kernel extends BaseKernel implements EventSubscriberInterface
{
    use MicroKernelTrait;

    public function registerBundles(): iterable
    {
        return [new FrameworkBundle()];
    }

    public function getProjectDir(): string
    {
        return \dirname(__DIR__);
    }

    /** The application's writable state (FOLK_APP_STATE), as Laravel's storage is. */
    public function getCacheDir(): string
    {
        return self::stateDir() . '/cache/' . $this->environment;
    }

    public function getLogDir(): string
    {
        return self::stateDir() . '/log';
    }

    private static function stateDir(): string
    {
        $state = getenv('FOLK_APP_STATE');
        return ($state !== false && $state !== '' ? $state : sys_get_temp_dir()) . '/symfony-framework';
    }

    protected function configureContainer(ContainerConfigurator $container): void
    {
        $container->extension('framework', [
            'secret' => 'folk-test-application',
            'http_method_override' => false,
            'session' => ['storage_factory_id' => 'session.storage.factory.native', 'handler_id' => null],
            'router' => ['utf8' => true],
        ]);
    }

    protected function configureRoutes(RoutingConfigurator $routes): void
    {
        $routes->add('home', '/')->controller([$this, 'home'])->methods(['GET']);
        $routes->add('json', '/json')->controller([$this, 'json'])->methods(['GET']);
        $routes->add('form', '/form')->controller([$this, 'form'])->methods(['POST']);
        $routes->add('upload', '/upload')->controller([$this, 'upload'])->methods(['POST']);
        $routes->add('legacy-upload', '/legacy-upload')->controller([$this, 'legacyUpload'])->methods(['POST']);
        $routes->add('legacy-input', '/legacy-input')->controller([$this, 'legacyInput'])->methods(['POST']);
        $routes->add('redirect', '/redirect')->controller([$this, 'redirect'])->methods(['GET']);
        $routes->add('session', '/session')->controller([$this, 'session'])->methods(['GET']);
        $routes->add('exception', '/exception')->controller([$this, 'exception'])->methods(['GET']);
        // HTTP edge cases (FrameworkAppsTest#statusesAndResponseHeadersAnswerLikePhpFpm), shared with the components
        // application: one method runs the controller of each (the compiled routes cannot hold its closures).
        foreach (['no-content', 'etag', 'php-error', 'teapot', 'exit', 'dump', 'dd', 'cookies', 'large', 'download', 'file', 'streamed', 'streamed-exit', 'streamed-throw', 'fatal-memory', 'fatal-compile', 'fatal-memory-page', 'shutdown-output', 'session-ops', 'legacy-headers', 'legacy-finish', 'legacy-redirect', 'legacy-status', 'legacy-request-headers', 'process-state'] as $case) {
            $routes->add($case, '/' . $case)->controller([$this, 'edgeCase'])->defaults(['case' => $case])->methods(['GET']);
        }
    }

    public function home(): Response
    {
        return new Response("<!doctype html>\n<title>Symfony</title>\n<h1>Hello from Symfony</h1>\n");
    }

    public function json(Request $request): JsonResponse
    {
        return new JsonResponse(['framework' => 'symfony', 'query' => $request->query->all()]);
    }

    public function form(Request $request): JsonResponse
    {
        return new JsonResponse(['fields' => $request->request->all(), 'cookies' => $request->cookies->all()]);
    }

    public function upload(Request $request): JsonResponse
    {
        $describeUploads = require \dirname(__DIR__, 2) . '/describe-uploads.php';
        return new JsonResponse(['files' => $describeUploads($request->files->all()), 'fields' => $request->request->all()]);
    }

    public function legacyUpload(): Response
    {
        return new Response((require \dirname(__DIR__, 2) . '/legacy-uploads.php')(), 200, ['Content-Type' => 'application/json']);
    }

    public function legacyInput(): Response
    {
        return new Response((require \dirname(__DIR__, 2) . '/legacy-headers.php')('input'), 200, ['Content-Type' => 'application/json']);
    }

    public function redirect(): RedirectResponse
    {
        return new RedirectResponse('/json?from=redirect');
    }

    public function session(Request $request): JsonResponse
    {
        $session = $request->getSession();
        $session->set('count', $session->get('count', 0) + 1);
        return new JsonResponse(['count' => $session->get('count')]);
    }

    /** The route $case of ../../symfony-edge-cases.php. */
    public function edgeCase(Request $request, string $case): Response
    {
        static $controllers = null;
        $controllers ??= require \dirname(__DIR__, 2) . '/symfony-edge-cases.php';
        return $controllers[$case]($request);
    }

    public function exception(): never
    {
        throw new \RuntimeException('this route always fails');
    }

    public static function getSubscribedEvents(): array
    {
        return [KernelEvents::TERMINATE => 'terminated'];
    }

    /** Work after the response (mail, logs...): recorded so that the tests see terminate() ran. */
    public function terminated(TerminateEvent $event): void
    {
        if (($state = getenv('FOLK_APP_STATE')) !== false && is_dir($state)) {
            file_put_contents("$state/terminated.log", 'terminate ' . $event->getRequest()->getPathInfo() . "\n", FILE_APPEND);
        }
    }
}
