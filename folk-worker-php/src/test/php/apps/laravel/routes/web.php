<?php

use Illuminate\Http\Request;
use Illuminate\Support\Facades\Cache;
use Illuminate\Support\Facades\DB;
use Illuminate\Support\Facades\Log;
use Illuminate\Support\Facades\Route;
use Illuminate\Support\Facades\URL;

Route::get('/', fn () => "<!doctype html>\n<title>Laravel</title>\n<h1>Hello from Laravel</h1>\n");

Route::get('/json', fn (Request $request) => response()->json(['framework' => 'laravel', 'query' => $request->query()]));

Route::post('/form', fn (Request $request) => response()->json(['fields' => $request->post(), 'cookies' => $request->cookies->all()]));

Route::post('/upload', function (Request $request) {
    $describeUploads = require dirname(__DIR__, 2) . '/describe-uploads.php';
    return response()->json(['files' => $describeUploads($request->allFiles()), 'fields' => $request->post()]);
});

// What Laravel's bootstrap sets (config/app.php's time zone, display_errors off) and a request then changes.
Route::get('/settings', function (Request $request) {
    $seen = date_default_timezone_get() . ' display_errors=' . ini_get('display_errors') . "\n";
    if ($request->query('change') !== null) {
        date_default_timezone_set('Pacific/Auckland');
        ini_set('display_errors', '1');
    }
    return response($seen, 200, ['Content-Type' => 'text/plain']);
});

// What a request changes in Laravel's own state (the locale, the configuration, data shared with
// every view, the log's context, terminate()'s callbacks) and the next request sees: PHP-FPM starts
// each afresh.
Route::get('/state', function (Request $request) {
    $seen = json_encode([
        'locale' => app()->getLocale(),
        'translator' => app('translator')->getLocale(),
        'name' => config('app.name'),
        'shared' => array_keys(view()->getShared()),
        'log' => (fn () => $this->context)->call(Log::driver()),
        'terminating callbacks' => (fn () => count($this->terminatingCallbacks))->call(app()),
    ]);
    if ($request->query('change') !== null) {
        app()->terminating(static fn () => null); // as dispatch(...)->afterResponse() does
        app()->setLocale('fr');
        config(['app.name' => 'Changed by a request']);
        view()->share('leaked', 'by an earlier request');
        Log::withContext(['request' => 'earlier']);
    }
    return response($seen . "\n", 200, ['Content-Type' => 'application/json']);
});

// A deferred provider's service and the configuration it adds when a request first needs it.
Route::get('/deferred', fn () => response(app('report.format') . ' ' . config('report.format') . "\n", 200, ['Content-Type' => 'text/plain']));

// A configuration key a request sets for itself (a tenant, say) in a request that also first needs
// a deferred provider's service; then what the configuration holds.
Route::get('/config-key', function (Request $request) {
    if ($request->query('set') !== null) {
        config(['request.key' => $request->query('set')]);
    }
    return response()->json(['key' => config('request.key'), 'report' => app('report.format')]);
});

Route::get('/process-state', fn (Request $request) => response((require dirname(__DIR__, 2) . '/process-state.php')($request->query('change') !== null),
    200, ['Content-Type' => 'application/json']));

// A database transaction a request began and never ended (an exception before its commit), then
// what the next requests see. PHP-FPM's process closes the connection at the request's end, and
// the database rolls the transaction back.
Route::get('/db/notes', function () {
    DB::statement('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    return response()->json(['notes' => DB::table('notes')->pluck('body'), 'transaction level' => DB::transactionLevel(),
        'in a transaction' => DB::connection()->getPdo()->inTransaction()]);
});
Route::get('/db/forgotten-commit', function () {
    DB::statement('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    DB::beginTransaction();
    DB::table('notes')->insert(['body' => 'never committed']);
    throw new RuntimeException('failed before its commit');
});
// The same begun on the PDO itself, past Laravel's count of transactions, and answered 200.
Route::get('/db/pdo-begin', function () {
    DB::statement('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    DB::getPdo()->beginTransaction();
    DB::table('notes')->insert(['body' => 'never committed either']);
    return response()->json(['begun' => true]);
});

// What a request leaves in its connection for itself: the record that it wrote (a read/write
// connection's reads then stick to the writer) and the queries it logged. PHP-FPM's next request
// starts on a new connection, with neither.
Route::get('/db/request-state', function () {
    $connection = DB::connection();
    $seen = ['records modified' => (fn () => $this->recordsModified)->call($connection),
        'queries logged' => count($connection->getQueryLog())];
    $connection->enableQueryLog();
    DB::statement('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)'); // a write
    return response()->json($seen);
});

// What a request forces on the URL generator or sets as its route defaults (a middleware's
// URL::defaults() for the user's locale), then what the next request's URLs are.
Route::get('/url', function (Request $request) {
    $seen = ['url' => url('/page'), 'defaults' => URL::getDefaultParameters()];
    if ($request->query('change') !== null) {
        URL::forceScheme('https');
        URL::forceRootUrl('https://changed.example');
        URL::defaults(['locale' => 'fr']);
    }
    return response()->json($seen);
});

// The id the log's UidProcessor gives this request's lines: each request's own under PHP-FPM.
Route::get('/log-uid', function () {
    foreach (Log::driver()->getLogger()->getProcessors() as $processor) {
        if ($processor instanceof Monolog\Processor\UidProcessor) {
            return response($processor->getUid() . "\n", 200, ['Content-Type' => 'text/plain']);
        }
    }
    return response("no UidProcessor\n", 500, ['Content-Type' => 'text/plain']);
});

// A scoped service through the container and through its facade: the same instance in a request.
Route::get('/scoped', fn () => response()->json(['facade is the container\'s' => App\Facades\RequestToken::getFacadeRoot() === app('request.token')]));

// What a request puts in the array cache store lives for that request only under PHP-FPM.
Route::get('/cache/array', function () {
    $seen = ['seen' => Cache::store('array')->get('greeting'), 'default store' => Cache::get('greeting')];
    Cache::store('array')->put('greeting', 'from an earlier request', 60);
    return response()->json($seen);
});

// A request that makes an auth guard (auth()->user(), as a guest page's layout asks), then what the
// container holds for the next requests: the callbacks that run when the next request is bound (the
// auth manager registers one for each guard it makes), and whether the URL generator has this request.
Route::get('/auth-guard', fn (Request $request) => response()->json([
    'user' => auth()->user(),
    'request rebound callbacks' => count((fn () => $this->reboundCallbacks['request'] ?? [])->call(app())),
    'url has this request' => (fn () => $this->request)->call(app('url')) === $request,
]));

// A request that changes the configuration for itself and begins a transaction, then fails while
// its log cannot be written (App\Exceptions\Handler::report() throws): Kernel::handle() lets that
// exception out, and PHP ends the request with it. What the next requests see.
Route::get('/report-fails', function () {
    config(['request.key' => 'left by a failed request', 'logging.unwritable' => true]);
    DB::statement('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    DB::beginTransaction();
    DB::table('notes')->insert(['body' => 'never committed either']);
    throw new RuntimeException('the page failed');
});

Route::get('/redirect', fn () => redirect('/json?from=redirect'));
Route::get('/named-route', fn () => 'named')->name('named');
Route::get('/controller-calls', [App\Http\Controllers\CallsController::class, 'show']);

/*
 * Session operations in the order ?ops= lists them (comma-separated): put:k=v, forget:k, flush,
 * regenerate, regenerate-destroy, invalidate, flash:v, now:v, reflash, pull:k, id (the cookie's
 * or another); answers what the session holds then (the token aside: random).
 */
// An answer as the request describes it (?spec=, base64url JSON: status, header lines, body, and
// "framework": made as Laravel's response, else with header(), http_response_code() and echo, then exit).
Route::get('/respond', function (Request $request) {
    $spec = (require dirname(__DIR__, 2) . '/respond.php')((string) $request->query('spec', ''));
    return (require dirname(__DIR__, 2) . '/spec-headers.php')(response($spec['body'] ?? '', $spec['status'] ?? 200), $spec);
});

Route::get('/session-ops', function (Request $request) {
    $session = $request->session();
    $seen = [];
    foreach (array_filter(explode(',', (string) $request->query('ops', ''))) as $op) {
        [$verb, $arg] = explode(':', $op, 2) + [1 => ''];
        $seen[] = [$op, match ($verb) {
            'put' => (function () use ($session, $arg) { [$k, $v] = explode('=', $arg, 2) + [1 => '']; $session->put($k, $v); return true; })(),
            'forget' => (function () use ($session, $arg) { $session->forget($arg); return true; })(),
            'flush' => (function () use ($session) { $session->flush(); return true; })(),
            'regenerate' => $session->regenerate(),
            'regenerate-destroy' => $session->regenerate(true),
            'invalidate' => $session->invalidate(),
            'flash' => (function () use ($session, $arg) { $session->flash('note', $arg); return true; })(),
            'now' => (function () use ($session, $arg) { $session->now('note', $arg); return true; })(),
            'reflash' => (function () use ($session) { $session->reflash(); return true; })(),
            'pull' => $session->pull($arg),
            'id' => $session->getId() === $request->cookies->get($session->getName()) ? 'cookie' : 'other',
            default => null,
        }];
    }
    return response()->json(['ops' => $seen, 'all' => array_diff_key($session->all(), ['_token' => 1])]);
});

// A flash made through the redirector (redirect()->with(); back()->withErrors()->withInput() and a
// failed validation flash theirs the same way), for the next request to read at /session-ops.
Route::get('/flash-redirect', fn (Request $request) => redirect('/session-ops')->with('note', (string) $request->query('note')));

Route::get('/session', function (Request $request) {
    $count = $request->session()->get('count', 0) + 1;
    $request->session()->put('count', $count);
    return response()->json(['count' => $count]);
});

// HTTP edge cases (FrameworkAppsTest#statusesAndResponseHeadersAnswerLikePhpFpm), as in the other applications.
Route::get('/no-content', fn () => response()->noContent());

Route::get('/etag', function (Request $request) {
    $response = response("the resource\n")->setEtag('v1')->setMaxAge(60);
    $response->isNotModified($request);
    return $response;
});

Route::get('/teapot', fn () => response("short and stout\n")->setStatusCode(418, 'Short And Stout'));

// What legacy code does: set a status, print, exit().
Route::get('/exit', function () {
    http_response_code(403);
    echo "printed, then exit\n";
    exit;
});

// Legacy code's header(), setcookie() and redirect by exit, beside Laravel's response.
Route::get('/legacy-headers', function () {
    (require dirname(__DIR__, 2) . '/legacy-headers.php')('headers');
    return "legacy headers\n";
});
Route::get('/legacy-finish', fn () => (require dirname(__DIR__, 2) . '/legacy-headers.php')('finish'));
Route::get('/legacy-redirect', fn () => (require dirname(__DIR__, 2) . '/legacy-headers.php')('redirect'));
Route::get('/legacy-status', fn () => (require dirname(__DIR__, 2) . '/legacy-headers.php')('status'));
Route::get('/legacy-request-headers', fn () => response((require dirname(__DIR__, 2) . '/legacy-headers.php')('request-headers'),
    200, ['Content-Type' => 'application/json']));
Route::post('/legacy-input', fn () => response((require dirname(__DIR__, 2) . '/legacy-headers.php')('input'),
    200, ['Content-Type' => 'application/json']));
Route::get('/download', fn (Request $request) => response()->stream(
    static fn () => (require dirname(__DIR__, 2) . '/legacy-download.php')((int) $request->query('kb', 200),
        $request->boolean('sized'), $request->boolean('closed')),
    200, ['Content-Type' => 'text/csv', 'Content-Disposition' => 'attachment; filename="rows.csv"']));
Route::get('/file', fn () => response()->download((require dirname(__DIR__, 2) . '/download-file.php')(),
    'rows.csv', ['Content-Type' => 'text/csv']));
Route::post('/legacy-upload', fn () => response((require dirname(__DIR__, 2) . '/legacy-uploads.php')(), 200,
    ['Content-Type' => 'application/json']));

// Fatal errors (memory exhausted, a function declared twice): Laravel's shutdown handler renders its error page.
Route::get('/fatal-memory', fn () => (require dirname(__DIR__, 2) . '/fatal-errors.php')('memory'));
Route::get('/fatal-compile', fn () => (require dirname(__DIR__, 2) . '/fatal-errors.php')('compile'));
Route::get('/fatal-memory-page', fn () => (require dirname(__DIR__, 2) . '/fatal-errors.php')('memory-page'));
Route::get('/shutdown-output', fn () => response((require dirname(__DIR__, 2) . '/shutdown-output.php')()));

// dump() prints into the page (VarDumper's HTML, its stylesheet and script in each page), dd() answers 500.
Route::get('/dump', function () {
    dump(['a' => 1, 'b' => 'two']);
    return "after dump\n";
});

Route::get('/dd', fn () => dd(['a' => 1]));

// Not encrypted, so that the values compare (EncryptCookies' values are random).
Route::get('/cookies', fn () => response()->json(['ok' => true])
    ->withCookie(cookie('a', '1', 0, '/', null, false, false))
    ->withCookie(cookie('b', 'two words; "quoted"', 0, '/', null, false, true, false, 'lax'))
    ->withCookie(cookie()->forget('d'))
    ->header('X-Empty', ''))->withoutMiddleware(\Illuminate\Cookie\Middleware\EncryptCookies::class);

Route::get('/large', fn (Request $request) => response(str_repeat(str_repeat('0123456789abcdef', 4) . "\n",
    intdiv((int) $request->query('kb', 200) * 1024, 65)) . 'end', 200, ['Content-Type' => 'text/plain']));

Route::get('/streamed', fn (Request $request) => response()->stream(function () use ($request) {
    $body = str_repeat(str_repeat('0123456789abcdef', 4) . "\n", intdiv((int) $request->query('kb', 200) * 1024, 65)) . 'end';
    foreach (str_split($body, 8192) as $chunk) {
        echo $chunk;
        flush();
    }
}, 200, ['Content-Type' => 'text/plain']));

// A streamed download whose callback throws midway (an export whose query fails): under PHP-FPM the
// exception leaves send() in public/index.php and PHP gives it to Laravel's exception handler, which
// logs it and prints its error page after the lines, the response's status and headers already sent.
Route::get('/stream-throw', fn (Request $request) => response()->streamDownload(function () use ($request) {
    $line = str_repeat('z', 100);
    for ($i = 0; $i < (int) $request->query('lines', 10); $i++) {
        echo "line $i $line\n";
    }
    throw new RuntimeException('export failed midway');
}, 'export.txt', ['Content-Type' => 'text/plain']));

// Work after the response that throws: Laravel's exception handler logs it; the answer went before.
Route::get('/terminate-throw', function () {
    app()->terminating(static function () {
        throw new RuntimeException('after-response work failed');
    });
    return "answered\n";
});

Route::get('/exception', function () {
    throw new RuntimeException('this route always fails');
});

// What Laravel's Request makes of the request: path, URLs, segments, query, form fields, cookies
// (decrypted by EncryptCookies, null where they were not Laravel's), headers and body.
Route::any('/request/{rest?}', fn (Request $request) => response()->json([
    'method' => $request->method(), 'path' => $request->path(), 'url' => $request->url(), 'fullUrl' => $request->fullUrl(),
    'segments' => $request->segments(), 'query' => $request->query(), 'post' => $request->post(),
    'cookies' => $request->cookies->all(),
    // X-Php-Ob-Level counts the worker's capture buffer too (see the Symfony application's /request).
    'headers' => array_diff_key($request->headers->all(), ['x-php-ob-level' => 0]), 'content' => $request->getContent(),
    'ip' => $request->ip(), 'secure' => $request->secure(),
]))->where('rest', '.*');
