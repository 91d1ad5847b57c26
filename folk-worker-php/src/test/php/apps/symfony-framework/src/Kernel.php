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
use Symfony\Component\HttpFoundation\Cookie;
use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpFoundation\RedirectResponse;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\Response;
use Symfony\Component\HttpFoundation\StreamedResponse;
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
        $routes->add('redirect', '/redirect')->controller([$this, 'redirect'])->methods(['GET']);
        $routes->add('session', '/session')->controller([$this, 'session'])->methods(['GET']);
        $routes->add('exception', '/exception')->controller([$this, 'exception'])->methods(['GET']);
        foreach (['no-content' => 'noContent', 'etag' => 'etag', 'teapot' => 'teapot', 'cookies' => 'cookies',
                'large' => 'large', 'streamed' => 'streamed'] as $path => $method) {
            $routes->add($path, '/' . $path)->controller([$this, $method])->methods(['GET']);
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

    // HTTP edge cases (FrameworkAppsTest#statusesAndResponseHeadersAnswerLikePhpFpm), as in the other applications.
    public function noContent(): Response
    {
        return new Response('', 204);
    }

    public function etag(Request $request): Response
    {
        $response = (new Response("the resource\n"))->setEtag('v1')->setMaxAge(60);
        $response->isNotModified($request);
        return $response;
    }

    public function teapot(): Response
    {
        return (new Response("short and stout\n"))->setStatusCode(418, 'Short And Stout');
    }

    public function cookies(): JsonResponse
    {
        $response = new JsonResponse(['ok' => true]);
        $response->headers->setCookie(Cookie::create('a', '1'));
        $response->headers->setCookie(Cookie::create('b', 'two words; "quoted"', 0, '/', null, false, true, false, 'lax'));
        $response->headers->setCookie(Cookie::create('c', 'x', new \DateTimeImmutable('2030-01-02 03:04:05 UTC')));
        $response->headers->clearCookie('d');
        $response->headers->set('X-Empty', '');
        return $response;
    }

    public function large(Request $request): Response
    {
        return new Response(self::largeBody($request->query->getInt('kb', 200)), 200, ['Content-Type' => 'text/plain']);
    }

    public function streamed(Request $request): StreamedResponse
    {
        $body = self::largeBody($request->query->getInt('kb', 200));
        return new StreamedResponse(static function () use ($body): void {
            foreach (str_split($body, 8192) as $chunk) {
                echo $chunk;
                flush();
            }
        }, 200, ['Content-Type' => 'text/plain']);
    }

    /** About $kb KB of text lines, then "end". */
    private static function largeBody(int $kb): string
    {
        return str_repeat(str_repeat('0123456789abcdef', 4) . "\n", intdiv($kb * 1024, 65)) . 'end';
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
