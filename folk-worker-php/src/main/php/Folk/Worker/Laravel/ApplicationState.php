<?php

declare(strict_types=1);

namespace Folk\Worker\Laravel;

use Illuminate\Cache\ArrayStore;
use Illuminate\Cache\CacheManager;
use Illuminate\Config\Repository;
use Illuminate\Container\Container;
use Illuminate\Contracts\Foundation\Application;
use Illuminate\Foundation\Application as FoundationApplication;
use Illuminate\Log\LogManager;
use Illuminate\Log\Logger;
use Illuminate\Routing\UrlGenerator;
use Illuminate\Support\ServiceProvider;
use Illuminate\View\Factory;
use Monolog\ResettableInterface;

/**
 * What a request changes in a Laravel application's own state for itself, which PHP-FPM's next
 * request never sees because it boots the application afresh: the configuration (`config([...])`
 * at run time), the locale (`App::setLocale()` for a user), data shared with every view
 * (`View::share()`), the log channels' context (`Log::withContext()`) and handlers' state
 * (Monolog's reset: buffers flushed, a fingers-crossed handler idle again, a UidProcessor's id
 * made anew), the callbacks of `terminate()` (`app()->terminating()`, which
 * `dispatch(...)->afterResponse()` uses), what it put in `array` cache stores, and what it forced
 * on the URL generator or set as its route defaults (`URL::forceScheme()`, `URL::defaults()`).
 * Left alone, the next request in the worker would answer in the previous user's language, log
 * with its context and id, read its cached values, make its URLs, or run its after-response jobs
 * again at every terminate() that follows.
 *
 * Captured once the application has booted ({@see capture()}; the view's data when the view
 * factory is made), set back after each request ({@see restore()}): the configuration and the
 * view's data by putting the captured arrays back (PHP shares them until written, so this costs
 * no copy), the locale through `setLocale()` when the translator's differs, so that listeners of
 * LocaleUpdated hear it as they heard the change.
 *
 * Terminating callbacks are set back to those registered while the application booted, even
 * after a request that loaded a deferred provider: one a provider registers then is dropped
 * with the request's (dropping runs it once; keeping a request's would run it at every request).
 *
 * So are the container's rebound callbacks (`rebinding()`, `refresh()`), which all run again at
 * each later request's `instance('request', ...)`: the auth manager registers one for each guard
 * it makes (`refresh('request', $guard, 'setRequest')`, in any request that calls `auth()->user()`
 * or passes the `auth` middleware), and kept, every guard a worker ever made would stay, with its
 * user and session store (some 4 KB a request), and be given every later request. A callback
 * registered after the capture stays only if what it belongs to stays: one a service provider's
 * code registered (the `url` singleton registers its request rebinder when a request first makes
 * it: dropped, the URL generator would keep that request), or one for a shared instance the
 * container keeps (the application itself, a singleton; for `refresh()`, its target). The rest,
 * for objects of the request (a guard, a scoped instance, a middleware's closure), is dropped.
 *
 * A provider registered after the capture may add configuration; it stays registered in the
 * worker, so its configuration must stay too. After a request that registered one, the
 * configuration kept is the request's with every captured value put back: keys the provider added
 * stay, values the request changed go back (a key that such a request added for itself stays with
 * the provider's). {@see KernelAdapter} registers the deferred providers (Laravel's translator is
 * one) before the capture, so that only a provider the application registers in a request does.
 */
final class ApplicationState
{
    /** @var array<string, mixed> the configuration as the application booted */
    private array $config = [];
    private int $providers = 0;
    /** Puts the configuration's items back: bound to the repository, which has no method for it. */
    private ?\Closure $putConfig = null;
    /** @var array<string, mixed>|null the data the view factory shared when it was made */
    private ?array $viewData = null;
    private ?\Closure $putViewData = null;
    /** Reads the log manager's channels made so far (it has no method for it either). */
    private ?\Closure $logChannels = null;
    /** Puts the URL generator's forced root and scheme, its formatters and route defaults back: bound to it. */
    private ?\Closure $putUrlState = null;
    /** Puts back the terminating callbacks registered while the application booted: bound to it. */
    private ?\Closure $putTerminating = null;
    /** @var array<string, list<\Closure>> the container's rebound callbacks, as booted (and those kept since) */
    private array $rebound = [];
    /** Reads the container's rebound callbacks and shared instances, and puts the former back: bound to it. */
    private ?\Closure $reboundState = null;
    private ?\Closure $putRebound = null;

    public function __construct(private readonly Application $app)
    {
    }

    /** Once the application has booted (Laravel boots in the worker's first request). */
    public function capture(): void
    {
        $app = $this->app;
        $config = $app->make('config');
        if ($config instanceof Repository) {
            $this->putConfig = \Closure::bind(function (array $items): void {
                $this->items = $items;
            }, $config, Repository::class);
            $this->config = $config->all();
        }
        $this->providers = count($app->getLoadedProviders());
        if ($app->resolved('view')) {
            $this->viewMade($app->make('view'));
        } else {
            $app->afterResolving('view', fn (mixed $view) => $this->viewMade($view));
        }
        if ($app->resolved('url')) {
            $this->urlMade($app->make('url'));
        } else {
            $app->afterResolving('url', fn (mixed $url) => $this->urlMade($url));
        }
        if ($app instanceof FoundationApplication) {
            $booted = \Closure::bind(fn (): array => $this->terminatingCallbacks, $app, FoundationApplication::class)();
            $this->putTerminating = \Closure::bind(function () use ($booted): void {
                if (count($this->terminatingCallbacks) !== count($booted)) { // terminating() only appends
                    $this->terminatingCallbacks = $booted;
                }
            }, $app, FoundationApplication::class);
        }
        if ($app instanceof Container) {
            $this->reboundState = \Closure::bind(fn (): array => [$this->reboundCallbacks, $this->instances], $app, Container::class);
            $this->putRebound = \Closure::bind(function (array $callbacks): void {
                $this->reboundCallbacks = $callbacks;
            }, $app, Container::class);
            $this->rebound = ($this->reboundState)()[0];
        }
        $log = $app->make('log');
        if ($log instanceof LogManager) {
            $this->logChannels = \Closure::bind(fn (): array => $this->channels, $log, LogManager::class);
        }
    }

    /** After each request and its terminate(). */
    public function restore(): void
    {
        $app = $this->app;
        if ($this->putConfig !== null) {
            $providers = count($app->getLoadedProviders());
            if ($providers !== $this->providers) {
                $this->providers = $providers;
                $this->config = array_replace_recursive($app->make('config')->all(), $this->config);
            }
            ($this->putConfig)($this->config);
        }
        if ($app->resolved('translator')) {
            $this->restoreLocale($app->make('translator'), $this->config['app'] ?? null);
        }
        if ($this->putViewData !== null) {
            ($this->putViewData)($this->viewData);
        }
        if ($this->putUrlState !== null) {
            ($this->putUrlState)();
        }
        if ($this->putTerminating !== null) {
            ($this->putTerminating)();
        }
        if ($this->reboundState !== null) {
            $this->restoreRebound();
        }
        if ($this->logChannels !== null) {
            foreach (($this->logChannels)() as $channel) {
                if ($channel instanceof Logger) {
                    $channel->withoutContext();
                    $monolog = $channel->getLogger();
                    if ($monolog instanceof ResettableInterface) {
                        $monolog->reset(); // buffers flushed, a request id (UidProcessor) made anew
                    }
                }
            }
        }
        if ($app->resolved('cache')) {
            $this->flushArrayStores($app->make('cache'));
        }
    }

    /**
     * The container's rebound callbacks as captured, with those registered since that outlive the
     * request ({@see keepsRebound()}), which stay from then on. `rebinding()` only appends: the
     * callbacks past the captured ones of an abstract are the new ones.
     */
    private function restoreRebound(): void
    {
        [$callbacks, $instances] = ($this->reboundState)();
        if ($callbacks === $this->rebound) {
            return; // most requests: nothing registered (a guard's callback came with an auth call)
        }
        $kept = $this->rebound;
        foreach ($callbacks as $abstract => $list) {
            foreach (array_slice($list, count($this->rebound[$abstract] ?? [])) as $callback) {
                if ($this->keepsRebound($callback, $instances)) {
                    $kept[$abstract][] = $callback;
                }
            }
        }
        ($this->putRebound)($kept);
        $this->rebound = $kept;
    }

    /**
     * Whether a rebound callback a request registered belongs to what the worker keeps: to a
     * service provider (its code ran as a singleton was first made), to the container, or to a
     * shared instance the container holds (for one `refresh()` made, its target). One that
     * belongs to nothing kept (a guard, a scoped instance, a closure of the request's code) is
     * the request's own.
     *
     * @param array<string, mixed> $instances the container's shared instances
     */
    private function keepsRebound(mixed $callback, array $instances): bool
    {
        if (!$callback instanceof \Closure) {
            return true;
        }
        $function = new \ReflectionFunction($callback);
        $owner = $function->getClosureThis();
        if ($owner instanceof Container) {
            $used = $function->getClosureUsedVariables(); // refresh(): fn ($app, $instance) => $target->{$method}($instance)
            if (isset($used['target'], $used['method']) && is_object($used['target']) && count($used) === 2) {
                $owner = $used['target'];
            }
        }
        return $owner instanceof ServiceProvider || $owner === $this->app
            || ($owner !== null && in_array($owner, $instances, true));
    }

    /**
     * Empties the `array` cache stores made so far: what a request puts in one lives for that
     * request under PHP-FPM, and a worker's next request would read it (a deferred provider makes
     * the manager; it has no method that lists its stores).
     */
    private function flushArrayStores(mixed $cache): void
    {
        if (!$cache instanceof CacheManager) {
            return;
        }
        foreach (\Closure::bind(fn (): array => $this->stores, $cache, CacheManager::class)() as $repository) {
            $store = is_object($repository) && method_exists($repository, 'getStore') ? $repository->getStore() : null;
            if ($store instanceof ArrayStore) {
                $store->flush();
            }
        }
    }

    /** @param mixed $settings the configuration's `app` key, as set back */
    private function restoreLocale(object $translator, mixed $settings): void
    {
        $locale = $settings['locale'] ?? null;
        if (is_string($locale) && method_exists($translator, 'getLocale') && $translator->getLocale() !== $locale) {
            $this->app->setLocale($locale);
        }
        $fallback = $settings['fallback_locale'] ?? null;
        if (is_string($fallback) && method_exists($translator, 'getFallback') && $translator->getFallback() !== $fallback) {
            $translator->setFallback($fallback);
        }
    }

    /**
     * The URL generator as the application made it: what a request forces (`URL::forceScheme()`,
     * `URL::forceRootUrl()`, formatters) or sets as route defaults (`URL::defaults()` in a
     * middleware, for a user's locale) would make the next requests' URLs too; the generator
     * keeps its defaults when it is given the next request.
     */
    private function urlMade(mixed $url): void
    {
        if (!$url instanceof UrlGenerator) {
            return;
        }
        $made = \Closure::bind(fn (): array => [$this->forcedRoot, $this->forceScheme, $this->formatHostUsing,
            $this->formatPathUsing, $this->getDefaultParameters()], $url, UrlGenerator::class)();
        $this->putUrlState = \Closure::bind(function () use ($made): void {
            [$root, $scheme, $formatHost, $formatPath, $defaults] = $made;
            if ($this->forcedRoot !== $root || $this->forceScheme !== $scheme) {
                $this->forcedRoot = $root;
                $this->forceScheme = $scheme;
                $this->cachedRoot = null;
                $this->cachedScheme = null;
            }
            $this->formatHostUsing = $formatHost;
            $this->formatPathUsing = $formatPath;
            if ($this->getDefaultParameters() !== $defaults) {
                $this->routeGenerator = null; // made again, from the request, with no defaults
                $this->defaults($defaults);
            }
        }, $url, UrlGenerator::class);
    }

    private function viewMade(mixed $view): void
    {
        if ($view instanceof Factory) {
            $this->viewData = $view->getShared();
            $this->putViewData = \Closure::bind(function (array $shared): void {
                $this->shared = $shared;
            }, $view, Factory::class);
        }
    }
}
