<?php

declare(strict_types=1);

namespace Folk\Worker;

use Folk\Worker\Bridge\FpmSapi;
use Folk\Worker\Bridge\PhpRequest;
use Folk\Worker\Bridge\RequestCycle;
use Folk\Worker\Bridge\SapiGlobals;
use Folk\Worker\Bridge\UserIni;

/**
 * Serves an application of PHP scripts as PHP-FPM does: each `http.handle` call runs the script
 * its URL names (`/wp-login.php`, `/admin/users.php`, `/index.php` for the other paths), at the
 * top level of a process of its own, forked from this worker. Nothing a request declares or
 * changes (functions, classes, constants, globals, static state, ini settings) is there for the
 * next one, so applications never written to serve many requests in one process (most legacy code
 * and CMSes) run unchanged. The worker script:
 *
 *     require getenv('FOLK_WORKER_PHP');
 *     Folk\Worker\Scripts::serve('/srv/legacy/public'); // returns only in a request's own process
 *     require Folk\Worker\Scripts::script();
 *
 * Which script, as nginx's usual PHP-FPM configuration picks it (`index index.php`,
 * `try_files $uri $uri/ /index.php?$args`, `fastcgi_split_path_info ^(.+?\.php)(/.*)$`, a 404 for a
 * script that is not there), from the request's path below the mapping's prefix (decoded, its `.`
 * and `..` segments resolved):
 * - a path with a segment ending in `.php` runs that script, what follows it as `PATH_INFO`
 *   (`/info.php/a/b`); 404 if the document root has no such file;
 * - a path naming a directory runs that directory's `index.php`: nginx answers the path without
 *   its final `/` with a redirect to it (301), a directory without an `index.php` with 403, and
 *   methods other than GET, HEAD and POST on a directory with 405; the mapping's stripped prefix
 *   itself, without its final `/`, is redirected the same way (as nginx's prefix location does);
 * - any other path runs the front controller (`$index`, `index.php` by default; null for none),
 *   without `PATH_INFO`, as try_files rewrites it; 404 without one.
 * A 404 is PHP-FPM's "File not found." (nginx's own page differs). Files that are not scripts are
 * for the gateway's `public-dir` to serve (give it the document root), as nginx serves them.
 *
 * `SCRIPT_FILENAME`, `SCRIPT_NAME`, `PATH_INFO`, `PHP_SELF`, `DOCUMENT_ROOT` and `DOCUMENT_URI` are the
 * script's (`REDIRECT_STATUS` is 200, as Debian's fastcgi_params set it), the
 * rest of `$_SERVER` and the other superglobals, sessions, header(), uploads, php://input and output
 * as in the framework adapters ({@see RequestCycle}). The `.user.ini` files from the document root
 * down to the script's directory count ({@see UserIni}), their auto_prepend_file and auto_append_file
 * included ({@see script()}). The request's process starts in its script's directory, with
 * `max_execution_time` counting from its start, and ends with its script (or its exit(), or its
 * fatal error: a 500, logged as PHP-FPM logs it); its shutdown functions run, its answer
 * goes out, then its upload temporary files are removed (also when exit() in a shutdown function
 * skips the rest of them: the answer then goes out from the destructors, after the script's own). A
 * process killed before it answered (a crash, the OOM killer) fails its call: the gateway's 502, as
 * nginx answers when a PHP-FPM child dies.
 *
 * Cost: a process per request (2.6-3.2 ms of CPU on a 2-core virtual machine, against PHP-FPM's
 * 0.1 ms for a small page; BENCHMARKS.md), and no speed-up from a booted application (that is what
 * the framework adapters are for). The worker takes its next call once the request's process has
 * answered and ended (it ends right after its answer): none is left a zombie. With the opcache on
 * for the CLI (`-d opcache.enable_cli=1`) the scripts are compiled once for all the requests'
 * processes, as under PHP-FPM, whose children share the master's opcache. With ext-ffi the request's process runs its objects' destructors before the
 * answer, as PHP-FPM ends a request, and then ends at once (PHP's own end of the process would free,
 * and first copy, all the worker's memory). A call the pool times out ends with the worker's process
 * group, the request's process included. A backtrace the master asks for (SIGUSR2) is the running
 * script's. Needs ext-pcntl (Debian's php-cli has it).
 */
final class Scripts
{
    /** The script the request's process runs, once it left the worker's loop. */
    private static ?string $script = null;
    /** auto_prepend_file and auto_append_file as the worker started (PHP ran its own prepend then, once). */
    private static string $bootPrepend = '';
    private static string $bootAppend = '';
    /** In the request's process: the auto_prepend_file and auto_append_file its .user.ini files set, resolved. */
    private static ?string $prepend = null;
    private static ?string $append = null;
    /** The params of the request's process, until its request is set up. */
    private ?array $params = null;
    /** @var resource|null in the request's process: where it tells the worker that its answer went out */
    private mixed $answered = null;
    /** In the request's process, once set up: its request (upload temporary files removed after the answer). */
    private ?PhpRequest $request = null;
    /**
     * PHP's and libc's ends of a process, with ext-ffi: a request's process runs its objects' destructors
     * as PHP ends a request, and then ends at once. PHP's own end of a process frees all it holds,
     * which in a forked process copies most of the worker's memory first (~6 ms of CPU a request).
     */
    private static ?\FFI $end = null;

    /**
     * The document root's real path for the current request: resolved at each request from the path
     * given to {@see serve()}, as nginx's `$realpath_root`, so that a link a deploy re-points
     * (`current` → the new release) runs the new release's scripts from the next request on, the
     * release whose files the gateway's `public-dir` serves then.
     */
    private string $root;

    /** Where a 301 of {@see resolve()} sends the client: the path resolved, with its "/" (decoded). */
    private string $redirect = '/';

    /** Whether the document root was missing at the last request (said once, until it is back). */
    private bool $rootMissing = false;

    private function __construct(
        private readonly Worker $worker,
        private readonly string $documentRoot,
        private readonly ?string $index,
        private readonly RequestCycle $cycle,
    ) {
        $this->root = $this->resolveRoot();
    }

    /** The document root's real path now; the path as given when it does not resolve (its scripts are then PHP-FPM's 404). */
    private function resolveRoot(): string
    {
        clearstatcache(true); // PHP keeps resolved paths for realpath_cache_ttl (120 s): a link re-pointed since would be missed
        $real = realpath($this->documentRoot);
        $missing = $real === false || !is_dir($real);
        if ($missing !== $this->rootMissing) {
            $this->rootMissing = $missing;
            $this->worker->log($missing
                ? sprintf('the document root "%s" is not a directory now (a deploy removed the release it named?): '
                    . 'every request is answered 404 "File not found." until it is back', $this->documentRoot)
                : sprintf('the document root "%s" is back: %s', $this->documentRoot, $real));
        }
        return $missing ? $this->documentRoot : $real;
    }

    /**
     * Serves the scripts under $documentRoot until the master closes the task channel, then exits.
     * Returns only in a request's own process, with the request set up: the worker script then
     * requires {@see script()} at its top level, where a web SAPI runs a script.
     *
     * @param ?string $index the front controller for paths that name no script (`index.php`), or null
     * @param ?Worker $worker the worker to serve with (its log, other methods), or a new one
     */
    public static function serve(string $documentRoot, ?string $index = 'index.php', ?Worker $worker = null): void
    {
        $worker ??= new Worker();
        if (!function_exists('pcntl_fork') || !function_exists('pcntl_waitpid')) {
            $worker->log('Folk\Worker\Scripts needs ext-pcntl to run each request in a process of its own '
                . '(Debian\'s php-cli has it; under php -n add -d extension=pcntl)');
            exit(Worker::EXIT_SETUP);
        }
        $root = str_starts_with($documentRoot, '/') ? $documentRoot : getcwd() . '/' . $documentRoot;
        if (!is_dir($root)) {
            $worker->log(sprintf('the document root "%s" is not a directory: give Scripts::serve() the application\'s public directory', $documentRoot));
            exit(Worker::EXIT_SETUP);
        }
        if (!self::opcacheOn()) {
            // A notice: the master logs it once per pool, not at every start of a worker that recycles.
            $worker->log('notice: the opcache is off in this worker: each request\'s process compiles the scripts it runs anew, '
                . 'where PHP-FPM compiles them once. Add -d opcache.enable_cli=1 to the pool\'s args '
                . '(and -d zend_extension=opcache under php -n)');
        } else {
            // The opcache counts from the request's start, which for the CLI is the worker's, inherited
            // by every request's process. file_update_protection: a script written less than that
            // before the worker started, or since (a deploy, then a reset at once), would never be
            // kept; kept now (one compiled half-written stays so until it is checked again, or, with
            // validate_timestamps off, until the workers are replaced, which such a deploy needs anyway).
            ini_set('opcache.file_update_protection', '0');
            if (filter_var(ini_get('opcache.validate_timestamps'), FILTER_VALIDATE_BOOL)) {
                // revalidate_freq: past it, a script it holds would never be checked again; checked at
                // every include instead (a stat).
                ini_set('opcache.revalidate_freq', '0');
            }
        }
        $sockets = self::socketsOpenNow();
        if ($sockets !== []) {
            $worker->log(sprintf('notice: the worker script opened %s before Scripts::serve() (fd %s): a database '
                . 'or cache connection? Every request\'s process shares what is open then, and the first request to end '
                . 'closes it for all the others (MySQL\'s "server has gone away" from the second request on). Open '
                . 'connections in the scripts the requests run, not before serve()',
                count($sockets) === 1 ? 'a socket' : count($sockets) . ' sockets', implode(', ', $sockets)));
        }
        self::$bootPrepend = (string) ini_get('auto_prepend_file');
        self::$bootAppend = (string) ini_get('auto_append_file');
        $scripts = new self($worker, $root, $index, RequestCycle::forScripts($worker));
        $scripts->cycle->warmUp(); // once here, not in every request's process
        self::$end = self::processEnd();
        $worker->register('http.handle', $scripts->handle(...));
        $code = $worker->serve();
        if (self::$script === null) {
            exit($code);
        }
        $scripts->begin(); // in the request's process, out of the worker's loop (which ends a call's own settings)
    }

    /**
     * The sockets open in this process besides standard input and output and the worker's own two
     * (fd 3 and 4), from /proc (none where there is no /proc).
     *
     * @return list<int>
     */
    private static function socketsOpenNow(): array
    {
        $sockets = [];
        foreach (@scandir('/proc/self/fd') ?: [] as $fd) {
            if ((string) (int) $fd === $fd && (int) $fd > 4 && str_starts_with((string) @readlink('/proc/self/fd/' . $fd), 'socket:')) {
                $sockets[] = (int) $fd;
            }
        }
        return $sockets;
    }

    /**
     * Whether the scripts a request's process compiles stay compiled for the next ones: the opcache's
     * shared memory, set up in the worker before it forks, is every request's process's (PHP-FPM's
     * children share their master's the same way). The CLI has it off by default.
     */
    private static function opcacheOn(): bool
    {
        return function_exists('opcache_get_status') && filter_var(ini_get('opcache.enable'), FILTER_VALIDATE_BOOL)
            && filter_var(ini_get('opcache.enable_cli'), FILTER_VALIDATE_BOOL);
    }

    /**
     * The script of the request this process runs (see {@see serve()}): its own file, or, where its
     * .user.ini files name an auto_prepend_file or auto_append_file, a file that requires those
     * around it.
     */
    public static function script(): string
    {
        $script = self::requested();
        return self::$prepend === null && self::$append === null ? $script : __DIR__ . '/scripts-request.php';
    }

    /** @internal the request's script itself */
    public static function requested(): string
    {
        return self::$script ?? throw new \LogicException('Scripts::script() names the script of a request\'s process, after Scripts::serve() returned');
    }

    /** @internal the auto_prepend_file the request's .user.ini files set, or null */
    public static function prepended(): ?string
    {
        return self::$prepend;
    }

    /** @internal the auto_append_file the request's .user.ini files set, or null */
    public static function appended(): ?string
    {
        return self::$append;
    }

    /** @return mixed the answer (a 404), or nothing: the request's process answered */
    private function handle(mixed $params): mixed
    {
        if (!is_array($params)) {
            throw new \InvalidArgumentException('http.handle params must be a map, got ' . get_debug_type($params));
        }
        $this->root = $this->resolveRoot();
        $server = is_array($params['server'] ?? null) ? $params['server'] : [];
        $uri = is_string($params['uri'] ?? null) ? $params['uri'] : '/';
        $target = $this->resolve($server, $uri, is_string($params['method'] ?? null) ? $params['method'] : 'GET');
        if ($target === null) {
            // What PHP-FPM answers for a SCRIPT_FILENAME it cannot open ("Primary script unknown").
            return ['status' => 404, 'headers' => ['Content-Type' => 'text/html; charset=UTF-8'], 'body' => "File not found.\n"];
        }
        if ($target === 301) {
            // The path as resolved, not as sent: "//admin" would make "//admin/", another host's URL.
            $location = implode('/', array_map('rawurlencode', explode('/', $this->redirect)));
            $query = strpos($uri, '?') === false ? '' : substr($uri, strpos($uri, '?'));
            return ['status' => 301, 'headers' => ['Location' => $location . $query, 'Content-Type' => 'text/html'],
                'body' => "<html><body><h1>301 Moved Permanently</h1></body></html>\n"];
        }
        if (is_int($target)) { // 403, 405: nginx's own page
            $reason = $target === 403 ? 'Forbidden' : 'Not Allowed';
            return ['status' => $target, 'headers' => ['Content-Type' => 'text/html'], 'body' => "<html><body><h1>$target $reason</h1></body></html>\n"];
        }
        [$file, $scriptName, $pathInfo] = $target;
        $facts = ['SCRIPT_FILENAME' => $file, 'SCRIPT_NAME' => $scriptName, 'DOCUMENT_ROOT' => $this->root] + $server;
        unset($facts['PATH_INFO']);
        if ($pathInfo !== '') {
            $facts['PATH_INFO'] = $pathInfo;
        }
        // What Debian's fastcgi_params add: nginx's $document_uri (the path after try_files and
        // index, before the split) and the constant php-cgi's cgi.force_redirect asks for.
        $facts['DOCUMENT_URI'] = $scriptName . $pathInfo;
        $facts['REDIRECT_STATUS'] = '200';
        $params['server'] = $facts;

        // The request's process says when its answer went out: one that ends without saying so did not answer.
        $pair = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
        if ($pair === false) {
            throw new \RuntimeException('cannot make a socket pair for the process of ' . $scriptName);
        }
        $pid = pcntl_fork();
        if ($pid === -1) {
            fclose($pair[0]);
            fclose($pair[1]);
            throw new \RuntimeException('cannot start a process for ' . $scriptName . ': ' . pcntl_strerror(pcntl_get_last_error()));
        }
        if ($pid === 0) {
            fclose($pair[0]);
            $this->enter($file, $params, $pair[1]);
        }
        fclose($pair[1]);
        try {
            $this->awaitAnswer($pid, $pair[0], $scriptName);
        } finally {
            fclose($pair[0]);
        }
        $this->worker->answeredByRequestProcess();
        return null;
    }

    /** In the request's process: leaves the worker's loop, for {@see serve()} to set the request up and return. */
    private function enter(string $file, array $params, mixed $answered): never
    {
        self::$script = $file;
        $this->params = $params;
        $this->answered = $answered;
        // As PHP-FPM ends a request: its shutdown functions, then its objects' destructors, then the answer.
        // After it, whenever it is made (a set-up that failed included): the word that it went out, the
        // upload files removed, and the end (PHP's own end of a process would only free memory).
        $this->worker->leaveForRequestProcess(
            self::$end === null ? null : static fn () => self::$end->zend_call_destructors(),
            function (): void {
                @fwrite($this->answered, '.');
                @fclose($this->answered);
                $this->request?->cleanup();
                if (self::$end !== null) {
                    self::closeStreams();
                    self::$end->_exit(0);
                }
            },
        );
    }

    /**
     * In the request's process, before it ends at once: the streams the script left open, closed as
     * PHP closes them at a request's end (PHP-FPM's too), which the end at once would skip: a
     * temporary file (tmpfile(), php://temp past its memory) is removed, a gzip file or a stream
     * filter writes its last block. Closing one may close others it holds: those fail, unheeded.
     */
    private static function closeStreams(): void
    {
        foreach (get_resources('stream') as $stream) {
            try {
                @fclose($stream);
            } catch (\Throwable) {
                // already closed by the stream that held it
            }
        }
    }

    /** In the request's process: sets the request up for its script, answered when the process ends. */
    private function begin(): void
    {
        // Before the request is set up, as PHP-FPM reads them: their limits count for its body, its session's settings.
        UserIni::apply($this->root, dirname(self::requested()));
        $this->request = $this->cycle->beginScript($this->params);
        SapiGlobals::describeScript(self::requested()); // getlastmod() and the like: the script's, not the worker's
        $this->params = null;
        // An interval timer is not inherited: the time limit counts from the script's start, as under PHP-FPM.
        set_time_limit((int) ini_get('max_execution_time'));
        // Resolved from the script's directory, as PHP resolves them; one that cannot be opened fails as PHP fails it.
        self::$prepend = self::around('auto_prepend_file', self::$bootPrepend);
        self::$append = self::around('auto_append_file', self::$bootAppend);
        FpmSapi::assume(); // PHP_SAPI, STDIN, $argv, phpinfo() as PHP-FPM's
    }

    /** The file a .user.ini set for $setting (not the worker's own, which PHP ran once as it started), or null. */
    private static function around(string $setting, string $boot): ?string
    {
        $file = (string) ini_get($setting);
        if ($file === '' || $file === $boot) {
            return null;
        }
        return stream_resolve_include_path($file) ?: $file;
    }

    /**
     * Waits until the request's process says its answer went out and then ends, or ends without
     * saying so (killed, or ended in a way that skipped its answer): that fails the call. A backtrace
     * asked of the worker meanwhile is the script's.
     *
     * @param resource $answered
     */
    private function awaitAnswer(int $pid, mixed $answered, string $scriptName): void
    {
        $backtraces = function_exists('pcntl_signal') && function_exists('posix_kill') ? pcntl_signal_get_handler(Backtrace::SIGNAL) : null;
        $backtraces = is_callable($backtraces) ? $backtraces : null; // only where the worker takes backtraces
        if ($backtraces !== null) {
            pcntl_signal(Backtrace::SIGNAL, static fn () => posix_kill($pid, Backtrace::SIGNAL));
        }
        try {
            // A blocking read would hold off the handler until the answer came: PHP runs it between
            // instructions, and the read is restarted after a signal. A select is not restarted.
            $status = 0;
            do {
                $read = [$answered];
                $none = null;
                $ready = @stream_select($read, $none, $none, 1);
            } while ($ready !== 1 && pcntl_waitpid($pid, $status, WNOHANG) === 0);
            $said = fread($answered, 1) === '.';
            if ($ready === 1) {
                // It ends right after its answer (or has ended without one): reaped now, no zombie left.
                $status = self::wait($pid);
            }
            if ($said) {
                return;
            }
        } finally {
            if ($backtraces !== null) {
                pcntl_signal(Backtrace::SIGNAL, $backtraces);
            }
        }
        throw new \RuntimeException(pcntl_wifsignaled($status)
            ? sprintf('the process of %s (pid %d) was killed by signal %d before it answered', $scriptName, $pid, pcntl_wtermsig($status))
            : sprintf('the process of %s (pid %d) ended with exit code %d without answering', $scriptName, $pid, pcntl_wexitstatus($status)));
    }

    /** Waits for a request's process to end; its status. */
    private static function wait(int $pid): int
    {
        $status = 0;
        while (pcntl_waitpid($pid, $status) === -1) {
            if (pcntl_get_last_error() !== PCNTL_EINTR) {
                throw new \RuntimeException(sprintf('cannot wait for the process of a request (pid %d): %s', $pid, pcntl_strerror(pcntl_get_last_error())));
            }
        }
        return $status;
    }

    /** PHP's zend_call_destructors() and libc's _exit(), or null without ext-ffi (PHP then ends the process itself). */
    private static function processEnd(): ?\FFI
    {
        if (!extension_loaded('ffi') || PHP_ZTS) {
            return null;
        }
        try {
            return \FFI::cdef('void zend_call_destructors(void); void _exit(int status);');
        } catch (\Throwable) {
            return null; // ffi.enable off, or a PHP that does not export it
        }
    }

    /**
     * The script a request runs: [file, SCRIPT_NAME, PATH_INFO]; else the status nginx answers
     * itself for a directory: 405 for a method other than GET, HEAD and POST, 301 for one named
     * without its "/", 403 for one without an index.php; null for PHP-FPM's 404.
     *
     * @param array<string, mixed> $server the gateway's server facts: SCRIPT_NAME is the mapping's
     *        stripped prefix (or ""), PATH_INFO the raw path below it
     */
    private function resolve(array $server, string $uri, string $method): array|int|null
    {
        $mount = is_string($server['SCRIPT_NAME'] ?? null) ? rtrim($server['SCRIPT_NAME'], '/') : '';
        $raw = is_string($server['PATH_INFO'] ?? null) ? $server['PATH_INFO'] : (string) strtok($uri, '?');
        if ($raw === '' && $mount !== '') {
            // The stripped prefix itself, without its "/": nginx sends it on with it (a prefix location's
            // auto-redirect), so that the page's relative links stay under it.
            $this->redirect = $mount . '/';
            return 301;
        }
        $path = self::normalize(rawurldecode($raw));
        if ($path === null) {
            return null;
        }
        if (preg_match('~^(.*?[^/]\.php)(/.*)?$~s', $path, $m) === 1) {
            $file = $this->root . $m[1];
            return is_file($file) ? [$file, $mount . $m[1], $m[2] ?? ''] : null;
        }
        if (is_dir($this->root . $path)) {
            if (!in_array($method, ['GET', 'HEAD', 'POST'], true)) {
                return 405; // nginx's index and static modules take no other method
            }
            if (!str_ends_with($path, '/')) {
                $this->redirect = $mount . $path . '/';
                return 301; // nginx sends a directory's URL on with its "/"
            }
            return is_file($this->root . $path . 'index.php') ? [$this->root . $path . 'index.php', $mount . $path . 'index.php', ''] : 403;
        }
        if ($this->index !== null && is_file($this->root . '/' . $this->index)) {
            return [$this->root . '/' . $this->index, $mount . '/' . $this->index, ''];
        }
        return null;
    }

    /** $path with `//`, `.` and `..` resolved as nginx resolves them; null if it leaves the root or holds a NUL. */
    private static function normalize(string $path): ?string
    {
        if (str_contains($path, "\0")) {
            return null;
        }
        $segments = [];
        foreach (explode('/', $path) as $segment) {
            if ($segment === '' || $segment === '.') {
                continue;
            }
            if ($segment === '..') {
                if ($segments === []) {
                    return null;
                }
                array_pop($segments);
                continue;
            }
            $segments[] = $segment;
        }
        $trailing = str_ends_with($path, '/') || str_ends_with($path, '/.') || str_ends_with($path, '/..');
        return '/' . implode('/', $segments) . ($trailing && $segments !== [] ? '/' : '');
    }
}
