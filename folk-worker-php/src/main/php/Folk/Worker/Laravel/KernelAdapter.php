<?php

declare(strict_types=1);

namespace Folk\Worker\Laravel;

use Folk\Worker\Bridge\PhpRequest;
use Folk\Worker\Bridge\RequestCycle;
use Folk\Worker\Symfony\HttpKernelAdapter;
use Folk\Worker\Worker;
use Illuminate\Contracts\Foundation\Application;
use Illuminate\Contracts\Http\Kernel;
use Illuminate\Contracts\Routing\ResponseFactory;
use Illuminate\Foundation\Bootstrap\BootProviders;
use Illuminate\Http\Request;
use Illuminate\Http\UploadedFile;
use Illuminate\Routing\Route;
use Illuminate\Routing\Router;
use Illuminate\Support\Env;
use Illuminate\Support\Facades\Facade;

/**
 * Serves a Laravel application on `http.handle`, the way public/index.php does under PHP-FPM
 * but for many requests in one process:
 *
 *     $app = require __DIR__ . '/../bootstrap/app.php';   // the application, unchanged
 *     (new KernelAdapter($app))->register(new Worker())->run();
 *
 * Per request: an Illuminate Request built like Request::capture() (uploads as UploadedFile
 * instances that pass isValid() although PHP did not upload them itself), Kernel::handle(),
 * the response as Response::send() emits it; after the response is sent, Kernel::terminate()
 * and the per-request state reset a long-running Laravel needs: scoped instances, the
 * resolved auth guards (the user of request 1 is not request 2's), the session store and its
 * drivers, the redirector (it holds a store), the router's current route and the route's
 * controller, queued cookies, and the request facade; and what the request changed in the
 * application's configuration, locale, shared view data and log context, and the callbacks it
 * registered for the container's next rebinding (each guard's, {@see ApplicationState}).
 * The application, its configuration and its singletons stay booted.
 */
final class KernelAdapter
{
    private readonly Kernel $kernel;
    private readonly ApplicationState $state;
    /** Set by {@see register()}: the log of what the reset finds. */
    private ?Worker $worker = null;

    public function __construct(private readonly Application $app)
    {
        // Laravel asks runningInConsole() whether to act as a console command or as a web request
        // (among others: how its shutdown handler renders a fatal error, as text on stdout or as its
        // error page). A worker answers HTTP, as public/index.php under PHP-FPM; an application that
        // sets APP_RUNNING_IN_CONSOLE itself keeps its value.
        if (Env::get('APP_RUNNING_IN_CONSOLE') === null) {
            putenv('APP_RUNNING_IN_CONSOLE=false');
            $_ENV['APP_RUNNING_IN_CONSOLE'] = $_SERVER['APP_RUNNING_IN_CONSOLE'] = 'false';
        }
        $this->kernel = $app->make(Kernel::class);
        $this->state = new ApplicationState($app);
        HttpKernelAdapter::captureHeaders();
    }

    /** Registers `http.handle` on the worker and returns it. */
    public function register(Worker $worker): Worker
    {
        // Laravel bootstraps in its first request (its configured time zone, display_errors off):
        // those settings stay, what a request changes after them is set back (Worker::captureRequestState()).
        if (method_exists($this->app, 'afterBootstrapping')) { // Illuminate\Foundation\Application's, not the contract's
            $this->app->afterBootstrapping(BootProviders::class, function () use ($worker): void {
                // The deferred providers, registered now as Laravel's console kernel (artisan,
                // queue:work) registers them: one a request first needed would add its configuration
                // after the capture, and the configuration set back after that request would keep
                // whatever the request had set beside it (a tenant), for every later request.
                $this->app->loadDeferredProviders();
                $worker->captureRequestState();
                $this->state->capture();
            });
        }
        $this->worker = $worker;
        return $worker->register('http.handle', new RequestCycle($worker, $this->handle(...), phpSessionHeaders: false, appReplaces: false));
    }

    /**
     * The response's parts, Kernel::terminate() and the reset after it, which {@see RequestCycle}
     * runs also where the application's terminate() does not (an exception the application did not
     * catch while a streamed response printed) or throws.
     *
     * @return array{0: int, 1: list<array{0: string, 1: string}>, 2: \Closure(): void, 3: \Closure(): void, 4: \Closure(): void}
     */
    private function handle(PhpRequest $php): array
    {
        Request::enableHttpMethodParameterOverride(); // as Request::capture() does
        $request = Request::createFromBase(HttpKernelAdapter::request($php, UploadedFile::class));
        try {
            $response = $this->kernel->handle($request);
        } catch (\Throwable $e) {
            // Laravel's handle() answers every exception itself unless reporting or rendering it
            // fails too (a log that cannot be written): PHP ends the request with it (RequestCycle),
            // and what the request changed (configuration, a transaction, guards) is set back after,
            // as after any other, or it would be the next request's.
            $this->worker?->defer(fn () => $this->reset($request));
            throw $e;
        }
        $parts = HttpKernelAdapter::responseParts($response);
        $parts[] = fn () => $this->kernel->terminate($request, $response);
        $parts[] = fn () => $this->reset($request);
        return $parts;
    }

    private function reset(Request $request): void
    {
        $app = $this->app;
        if ($app->resolved('db')) {
            $this->resetConnections($app->make('db'), $request);
        }
        if (method_exists($app, 'forgetScopedInstances')) {
            // A facade keeps the instance it first resolved: one of a scoped service would outlive it.
            foreach ((fn (): array => $this->scopedInstances)->call($app) as $name) {
                Facade::clearResolvedInstance($name);
            }
            $app->forgetScopedInstances();
        }
        if ($app->resolved('auth')) {
            $app->make('auth')->forgetGuards();
        }
        if ($app->resolved('session')) {
            $app->make('session')->forgetDrivers();
        }
        $app->forgetInstance('session.store');
        // The redirector takes the session store once, when it is made (the response factory holds
        // it): kept, the next requests' redirect()->with(), withErrors(), withInput() and guest()
        // would write into this request's store, never saved again (flashes, errors and old input
        // lost), and intended() would read this client's URL. Made again when next needed, as under
        // PHP-FPM, it takes that request's store.
        foreach (['redirect', ResponseFactory::class] as $name) {
            $app->forgetInstance($name);
            Facade::clearResolvedInstance($name);
        }
        // A route keeps the controller it made, and under PHP-FPM each request makes its own: what a
        // request left in the controller's properties would be the next request's, whoever's.
        $route = $request->route();
        if ($route instanceof Route && method_exists($route, 'flushController')) {
            $route->flushController();
        }
        if ($app->resolved('router')) {
            // The router keeps the route it last matched: a request no route matches (its 404 page, a
            // global middleware) would find the previous request's in Route::current(), with the
            // models bound to its parameters; under PHP-FPM it finds none.
            $router = $app->make('router');
            if ($router instanceof Router) {
                (function (): void {
                    $this->current = null;
                    $this->currentRequest = null;
                })->call($router);
            }
        }
        if ($app->resolved('cookie')) {
            $app->make('cookie')->flushQueuedCookies();
        }
        $app->forgetInstance('request');
        Facade::clearResolvedInstance('request');
        Facade::clearResolvedInstance('session');
        Facade::clearResolvedInstance('auth');
        $this->state->restore(); // nothing to set back before the application booted
    }

    /**
     * What a request leaves in its database connections, which PHP-FPM's process closes at the
     * request's end. A transaction it began and never ended (an exception before its commit): the
     * database rolls it back when the connection closes; a worker keeps the connection, and left
     * open, the next requests would run inside it (nothing they write committed) and hold its locks
     * (an SQLite database locked for every other process); also one begun where Laravel does not
     * count it (`DB::getPdo()->beginTransaction()`, or `START TRANSACTION` on MySQL, whose PDO
     * asks the server; `SET autocommit=0` shows as one), after which the connection is dropped, as
     * the request may have changed its session. The record that it wrote: a read/write
     * connection's reads stick to the writer for the rest of the request (`sticky`), which in a
     * worker would be every request after the first write. And the queries it logged
     * (`DB::enableQueryLog()`, debug bars), which would pile up request after request.
     */
    private function resetConnections(object $db, Request $request): void
    {
        if (!method_exists($db, 'getConnections')) {
            return;
        }
        foreach ($db->getConnections() as $name => $connection) {
            $level = $connection->transactionLevel();
            if ($level > 0) {
                $this->worker?->log(sprintf('%s %s left %d database transaction%s open on connection "%s"; rolled back, '
                    . 'as the end of a PHP-FPM request would (commit or roll back before the response)',
                    $request->getMethod(), $request->getRequestUri(), $level, $level === 1 ? '' : 's', $name));
                try {
                    $connection->rollBack(0);
                } catch (\Throwable $e) {
                    $this->worker?->log(sprintf('rolling back on connection "%s" failed (%s); disconnecting', $name, $e->getMessage()));
                    $db->purge($name);
                    continue;
                }
            }
            // One begun past Laravel's count: on the PDO itself, or with SQL (pdo_mysql asks the server;
            // pdo_sqlite sees only its own). The request may have changed the connection's session too
            // (SET autocommit=0 looks like this at every later request): rolled back, and the connection
            // dropped, so that the next request connects anew, as under PHP-FPM.
            $pdo = method_exists($connection, 'getRawPdo') ? $connection->getRawPdo() : null;
            if ($pdo instanceof \PDO && $pdo->inTransaction()) {
                try {
                    $pdo->rollBack();
                    $done = 'rolled back and disconnected';
                } catch (\Throwable $e) {
                    $done = sprintf('rolling back failed (%s); disconnected', $e->getMessage());
                }
                $db->purge($name);
                $this->worker?->log(sprintf('%s %s left a database transaction open on connection "%s", begun on its PDO'
                    . ' or with SQL where Laravel does not count it (or by an earlier request\'s SET autocommit=0); %s, as'
                    . ' the end of a PHP-FPM request would', $request->getMethod(), $request->getRequestUri(), $name, $done));
                continue;
            }
            $connection->forgetRecordModificationState();
            if ($connection->logging()) {
                $connection->flushQueryLog();
            }
        }
    }
}
