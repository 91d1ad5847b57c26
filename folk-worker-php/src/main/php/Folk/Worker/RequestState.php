<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * What PHP-FPM sets back at the end of every request, and a worker process would otherwise carry
 * from one call to the next: the default time zone (date_default_timezone_set()) and the ini
 * settings applications change for one request (ini_set(), error_reporting(), set_include_path()).
 * Left alone, a request that raised memory_limit for an export, or set the time zone of its user,
 * would change every later request the worker serves.
 *
 * The worker captures them, the error_reporting() level and max_execution_time when it starts
 * serving (after the application's bootstrap, whose own settings stay), starts the time limit
 * again before each call ({@see begin()}) and sets back what a call changed after the call and
 * its deferred work ({@see restore()}). Checking them costs about half a microsecond per call; checking every ini setting would cost
 * twenty, so other settings a request changes stay changed, unlike under PHP-FPM.
 */
final class RequestState
{
    /** The ini settings set back after each call, when a call changed them. */
    public const SETTINGS = [
        'memory_limit', 'display_errors', 'log_errors', 'html_errors', 'include_path',
        'default_charset', 'precision', 'serialize_precision', 'date.timezone', 'default_socket_timeout',
        'user_agent', 'ignore_user_abort',
    ];

    /**
     * @param array<string, string> $settings
     */
    private function __construct(
        private readonly array $settings,
        private readonly string $timezone,
        private readonly int $errorReporting,
        private readonly int $timeLimit,
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
        return new self($settings, date_default_timezone_get(), error_reporting(), (int) ini_get('max_execution_time'));
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
            if (ini_get($name) !== $value) {
                ini_set($name, $value);
            }
        }
        if (error_reporting() !== $this->errorReporting) {
            error_reporting($this->errorReporting);
        }
        if (date_default_timezone_get() !== $this->timezone) {
            date_default_timezone_set($this->timezone);
        }
    }
}
