<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

use Symfony\Component\VarDumper\Caster\ReflectionCaster;
use Symfony\Component\VarDumper\Cloner\VarCloner;
use Symfony\Component\VarDumper\Dumper\CliDumper;
use Symfony\Component\VarDumper\Dumper\ContextProvider\SourceContextProvider;
use Symfony\Component\VarDumper\Dumper\ContextualizedDumper;
use Symfony\Component\VarDumper\Dumper\DataDumperInterface;
use Symfony\Component\VarDumper\Dumper\HtmlDumper;
use Symfony\Component\VarDumper\VarDumper;

/**
 * dump() and dd() during an HTTP request print into the page, as under PHP-FPM.
 *
 * Symfony's VarDumper (behind dump() and dd() in Symfony and Laravel alike) picks its dumper
 * from PHP_SAPI the first time something is dumped. A worker runs on the CLI SAPI, so it would
 * pick the CliDumper, which writes to the process's stdout (the master's log), and dd() would
 * not set its 500 status: the developer would get a blank page. Under PHP-FPM the dump is HTML
 * in the page, with VarDumper's stylesheet and script in every page that dumps (each request is
 * a fresh start there), and dd() answers 500.
 *
 * {@see begin()} installs a handler that does what VarDumper's own does under PHP-FPM while a
 * request is being answered (a new HtmlDumper per request, so that each page gets the stylesheet
 * and script), and what it does under the CLI otherwise. It replaces only VarDumper's default
 * handler: not one the application set (Symfony's DebugBundle, say), nor the one it asked for
 * with VAR_DUMPER_FORMAT.
 */
final class PageDumps
{
    private static bool $installed = false;
    /** Counts HTTP requests, so that the handler knows when a new one began. */
    private static int $request = 0;
    private static bool $answering = false;

    /** An HTTP request begins: dumps from now on go into its page. */
    public static function begin(): void
    {
        // Once VarDumper can be loaded: its dump() and dd() come with its autoloader (Composer's
        // "files"), which the application may set up after the worker started.
        if (!self::$installed && (\function_exists('dump') || class_exists(VarDumper::class, false))) {
            self::$installed = true;
            self::install();
        }
        self::$request++;
        self::$answering = true;
    }

    /** The request's answer is made: later dumps (a terminate step's, another method's) go to the log. */
    public static function end(): void
    {
        self::$answering = false;
    }

    private static function install(): void
    {
        if (isset($_SERVER['VAR_DUMPER_FORMAT']) || !class_exists(VarDumper::class)) {
            return; // the application chose a format (setHandler() would refuse ours), or dump() is someone else's
        }
        $cloner = new VarCloner();
        if (\defined(ReflectionCaster::class . '::UNSET_CLOSURE_FILE_INFO')) {
            $cloner->addCasters(ReflectionCaster::UNSET_CLOSURE_FILE_INFO); // as VarDumper's own handler
        }
        $page = null;
        $pageRequest = 0;
        $log = null;
        // The dumper is called right here, as in VarDumper's own handler: SourceContextProvider finds
        // the dump() call a fixed number of frames up.
        $handler = static function (mixed $var, ?string $label = null) use ($cloner, &$page, &$pageRequest, &$log): void {
            $data = $cloner->cloneVar($var);
            if ($label !== null) {
                $data = $data->withContext(['label' => $label]);
            }
            if (!self::$answering) {
                $log ??= self::dumper(new CliDumper());
                $log->dump($data);
                return;
            }
            if ($pageRequest !== self::$request) {
                $page = self::dumper(new HtmlDumper());
                $pageRequest = self::$request;
            }
            self::failForDd();
            $page->dump($data);
        };
        $previous = VarDumper::setHandler($handler);
        if ($previous !== null && !self::isVarDumpersOwn($previous)) {
            VarDumper::setHandler($previous); // the application's own stays
        }
    }

    /** Whether $handler is the one VarDumper made itself at its first dump (for the CLI, in a worker). */
    private static function isVarDumpersOwn(callable $handler): bool
    {
        return $handler instanceof \Closure
            && (new \ReflectionFunction($handler))->getClosureScopeClass()?->getName() === VarDumper::class;
    }

    /** The dumper VarDumper itself makes: the dump's source (file, line) alongside, where the version has it. */
    private static function dumper(DataDumperInterface $dumper): DataDumperInterface
    {
        return class_exists(ContextualizedDumper::class)
            ? new ContextualizedDumper($dumper, [new SourceContextProvider()])
            : $dumper;
    }

    /**
     * dd() (VarDumper's global function, which dumps and exits) sets status 500 outside the CLI
     * before it dumps, if no header was sent yet.
     */
    private static function failForDd(): void
    {
        foreach (debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS, 5) as $frame) {
            if ($frame['function'] === 'dd' && !isset($frame['class'])) {
                if (!headers_sent()) {
                    http_response_code(500);
                }
                return;
            }
        }
    }
}
