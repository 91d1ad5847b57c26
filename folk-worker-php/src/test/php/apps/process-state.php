<?php

/*
 * What a request changes in the PHP process for itself, which PHP-FPM sets back when the request
 * ends or the next one starts, for the applications' /process-state route: the working directory
 * (PHP-FPM's is the script's directory at each request's start, where relative paths resolve),
 * the C locale (setlocale()), intl's default locale, the error and exception handlers a request
 * sets without restoring them, and the environment (putenv()). With $change, the route reports
 * first, then changes each; the next request reports what it inherited. JSON answer. (The umask
 * is set back by PHP-FPM but not in a worker: folk-worker-php's README, "Known differences".)
 */

declare(strict_types=1);

return static function (bool $change): string {
    $errorHandler = set_error_handler(null);
    restore_error_handler();
    $exceptionHandler = set_exception_handler(null);
    restore_exception_handler();
    $setHere = static fn (mixed $handler): bool
        => $handler instanceof \Closure && (new \ReflectionFunction($handler))->getFileName() === __FILE__;
    $seen = json_encode([
        'cwd' => getcwd(),
        'relative path' => is_file('index.php'),
        'locale' => setlocale(LC_ALL, '0'),
        'intl' => class_exists(\Locale::class) ? \Locale::getDefault() : null,
        'error handler of an earlier request' => $setHere($errorHandler),
        'exception handler of an earlier request' => $setHere($exceptionHandler),
        'environment' => getenv('FOLK_PROCESS_STATE'),
    ]);
    if ($change) {
        chdir('/');
        setlocale(LC_ALL, 'C.utf8');
        if (class_exists(\Locale::class)) {
            \Locale::setDefault('fr_FR');
        }
        putenv('FOLK_PROCESS_STATE=set by an earlier request');
        set_error_handler(static fn (): bool => false);
        set_exception_handler(static function (\Throwable $e): void {
        });
    }
    return $seen . "\n";
};
