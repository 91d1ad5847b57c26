<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * What PHP-FPM sets back at the end of every request, and a worker process would otherwise carry
 * from one call to the next: the default time zone (date_default_timezone_set()), the ini
 * settings applications change for one request (ini_set(), error_reporting(), set_include_path(),
 * Locale::setDefault()), the C library's locale (setlocale()), the error and exception
 * handlers a request sets and leaves set, and libxml's collected errors
 * (libxml_use_internal_errors()). Left alone, a request that raised memory_limit for an export,
 * set the time zone or locale of its user, or installed a handler whose closure holds its
 * objects, would change every later request the worker serves.
 *
 * The worker captures them, the error_reporting() level and max_execution_time when it starts
 * serving (after the application's bootstrap, whose own settings and handlers stay), starts the
 * time limit again before each call ({@see begin()}) and sets back what a call changed after the
 * call and its deferred work ({@see restore()}); a handler a call pushed is popped back to the
 * one captured. Checking them costs about half a microsecond per call; checking every ini setting
 * would cost twenty, so other settings a request changes stay changed, unlike under PHP-FPM, and
 * so does the umask (reading it costs two system calls, ~2 us here). The environment a call
 * changes with putenv() is {@see Environment}'s.
 */
final class RequestState
{
    /** The ini settings set back after each call, when a call changed them. */
    public const SETTINGS = [
        'memory_limit', 'display_errors', 'log_errors', 'html_errors', 'include_path',
        'default_charset', 'default_mimetype', 'precision', 'serialize_precision', 'date.timezone', 'default_socket_timeout',
        'user_agent', 'ignore_user_abort', 'intl.default_locale',
    ];

    /** How many handlers a call may have pushed over the captured one before it is set again instead. */
    private const MAX_PUSHED_HANDLERS = 64;

    /**
     * @param array<string, string> $settings
     */
    private function __construct(
        private readonly array $settings,
        private readonly string $timezone,
        private readonly int $errorReporting,
        private readonly int $timeLimit,
        private readonly string $locale,
        private readonly mixed $errorHandler,
        private readonly mixed $exceptionHandler,
        private readonly ?bool $libxmlErrors,
    ) {
    }

    public static function capture(): self
    {
        $settings = [];
        foreach (self::SETTINGS as $name) {
            $value = ini_get($name);
            if ($value !== false) { // false: an extension's setting, and the extension is not loaded
                $settings[$name] = $value;
            }
        }
        // error_reporting through its function: without php.ini its ini value reads "", not E_ALL.
        return new self($settings, date_default_timezone_get(), error_reporting(), (int) ini_get('max_execution_time'),
            (string) setlocale(LC_ALL, '0'), self::handler('error'), self::handler('exception'),
            function_exists('libxml_use_internal_errors') ? libxml_use_internal_errors() : null);
    }

    /**
     * Before a call: max_execution_time as PHP-FPM applies it (the CLI's is 0 unless set with -d).
     * PHP's timer counts the process's CPU time since it was set, and PHP-FPM sets it again at each
     * request's start; left alone, it would count every call the worker served. Setting it also
     * undoes a set_time_limit() of the previous call.
     */
    public function begin(): void
    {
        if ($this->timeLimit > 0 || (int) ini_get('max_execution_time') !== 0) {
            set_time_limit($this->timeLimit);
        }
    }

    /** After a call: sets back what changed since {@see capture()}. */
    public function restore(): void
    {
        foreach ($this->settings as $name => $value) {
            if (ini_get($name) !== $value && ini_set($name, $value) === false && $value === '') {
                ini_restore($name); // a setting that refuses to be emptied (intl.default_locale) was empty from the start
            }
        }
        if (error_reporting() !== $this->errorReporting) {
            error_reporting($this->errorReporting);
        }
        if (date_default_timezone_get() !== $this->timezone) {
            date_default_timezone_set($this->timezone);
        }
        if ($this->locale !== '' && setlocale(LC_ALL, '0') !== $this->locale) {
            setlocale(LC_ALL, $this->locale);
        }
        self::popBackTo('error', $this->errorHandler);
        self::popBackTo('exception', $this->exceptionHandler);
        if ($this->libxmlErrors !== null) {
            // libxml_use_internal_errors(true) keeps parse errors until libxml_clear_errors(), which
            // code that only checks for false rarely calls: they would pile up in the worker, and the
            // next request, whoever's, would read them with libxml_get_errors(). PHP-FPM drops them
            // and turns the collection off at a request's end.
            if (libxml_use_internal_errors() !== $this->libxmlErrors) {
                libxml_use_internal_errors($this->libxmlErrors);
            }
            libxml_clear_errors();
        }
    }

    /**
     * Pops the error or exception handlers a call pushed until the captured one is current again;
     * sets it again if the call popped below it.
     *
     * @param 'error'|'exception' $kind
     */
    private static function popBackTo(string $kind, mixed $captured): void
    {
        for ($i = 0; self::handler($kind) !== $captured; $i++) {
            if ($i === self::MAX_PUSHED_HANDLERS) {
                $kind === 'error' ? set_error_handler($captured) : set_exception_handler($captured);
                return;
            }
            $kind === 'error' ? restore_error_handler() : restore_exception_handler();
        }
    }

    /**
     * The current error or exception handler: PHP only tells it to whoever replaces it (set and
     * popped again, the error levels of an error handler kept). Called by name, not through
     * "set_{$kind}_handler": a dynamic call costs three times as much, and this runs four times a call.
     *
     * @param 'error'|'exception' $kind
     */
    private static function handler(string $kind): mixed
    {
        if ($kind === 'error') {
            $handler = set_error_handler(null);
            restore_error_handler();
        } else {
            $handler = set_exception_handler(null);
            restore_exception_handler();
        }
        return $handler;
    }
}
