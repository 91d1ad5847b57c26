<?php

declare(strict_types=1);

namespace Folk\Worker\Symfony;

use Symfony\Component\HttpKernel\HttpKernelInterface;
use Symfony\Component\Runtime\RunnerInterface;
use Symfony\Component\Runtime\SymfonyRuntime;

/**
 * A Symfony Runtime that serves the application's HttpKernel in a Folk worker. With the
 * usual front controller (`require dirname(__DIR__).'/vendor/autoload_runtime.php'; return
 * fn (array $context) => new Kernel(...);`) nothing in the application changes; the worker is
 * started as
 *
 *     APP_RUNTIME='Folk\Worker\Symfony\Runtime' php -d auto_prepend_file="$FOLK_WORKER_PHP" public/index.php
 *
 * (autoload_runtime.php reads APP_RUNTIME from $_SERVER or $_ENV and instantiates it, so the
 * class must be loadable first: auto_prepend_file loads this library's autoloader). Every
 * option of SymfonyRuntime (env, debug, dotenv) works as usual. Applications that are not an
 * HttpKernel (console commands, plain closures) run as with SymfonyRuntime.
 */
class Runtime extends SymfonyRuntime
{
    public function getRunner(?object $application): RunnerInterface
    {
        if ($application instanceof HttpKernelInterface) {
            return new WorkerRunner($application);
        }
        return parent::getRunner($application);
    }
}
