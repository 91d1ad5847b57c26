<?php

declare(strict_types=1);

namespace Folk\Worker\Symfony;

use Folk\Worker\Bridge\HeaderCapture;
use Symfony\Component\ErrorHandler\ErrorHandler;
use Symfony\Component\ErrorHandler\ErrorRenderer\HtmlErrorRenderer;
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
 *
 * Errors are handled as SymfonyRuntime handles them under PHP-FPM, not as on the command line
 * (the worker runs on the CLI SAPI, but it answers HTTP): display_errors follows the debug
 * option, and Symfony's ErrorHandler renders what reaches it (a fatal error) as the HTML page
 * of HtmlErrorRenderer, where on the command line it would dump it as text.
 */
class Runtime extends SymfonyRuntime
{
    public function getRunner(?object $application): RunnerInterface
    {
        if ($application instanceof HttpKernelInterface) {
            $this->handleErrorsAsOnTheWeb((bool) $_SERVER[$this->options['debug_var_name']]);
            return new WorkerRunner($application);
        }
        return parent::getRunner($application);
    }

    /** What SymfonyErrorHandler does for a web SAPI, and ErrorHandler::renderException() there. */
    private function handleErrorsAsOnTheWeb(bool $debug): void
    {
        $previous = set_exception_handler(null);
        restore_exception_handler();
        if (!\is_array($previous) || !$previous[0] instanceof ErrorHandler) {
            return; // the application's own error handling (the error_handler option), or none
        }
        ini_set('display_errors', $debug ? '1' : '0');
        $handler = $previous[0];
        $current = $handler->setExceptionHandler(null);
        if (!\is_array($current) || $current[0] !== $handler || $current[1] !== 'renderException') {
            $handler->setExceptionHandler($current); // one the application set
            return;
        }
        $handler->setExceptionHandler(static function (\Throwable $exception) use ($debug): void {
            $page = (new HtmlErrorRenderer($debug))->render($exception);
            if (!headers_sent()) {
                http_response_code($page->getStatusCode());
                foreach ($page->getHeaders() as $name => $value) {
                    HeaderCapture::header($name . ': ' . $value, false);
                }
            }
            echo $page->getAsString();
        });
    }
}
