<?php

/*
 * A deliberately tiny test harness: register tests with test(), assert with the functions
 * below, run with run-tests.php. No PHPUnit, no Composer.
 */

declare(strict_types=1);

namespace Folk\Worker\Tests;

final class AssertionFailed extends \RuntimeException
{
}

final class SkipTest extends \RuntimeException
{
}

final class Tests
{
    /** @var array<string, \Closure(): void> */
    public static array $tests = [];
    public static string $currentFile = '';

    /** Runs the registered tests whose name contains $filter; returns the process exit code. */
    public static function run(?string $filter): int
    {
        $failed = [];
        $passed = 0;
        $skipped = 0;
        $start = hrtime(true);
        foreach (self::$tests as $name => $test) {
            if ($filter !== null && !str_contains($name, $filter)) {
                continue;
            }
            $t0 = hrtime(true);
            try {
                $test();
                $passed++;
                printf("ok    %6.0f ms  %s\n", (hrtime(true) - $t0) / 1e6, $name);
            } catch (SkipTest $e) {
                $skipped++;
                printf("skip  %6.0f ms  %s: %s\n", (hrtime(true) - $t0) / 1e6, $name, $e->getMessage());
            } catch (\Throwable $e) {
                $failed[] = $name;
                printf("FAIL  %6.0f ms  %s\n", (hrtime(true) - $t0) / 1e6, $name);
                $detail = $e instanceof AssertionFailed
                    ? $e->getMessage() . "\n" . self::location($e)
                    : get_class($e) . ': ' . $e->getMessage() . "\n" . $e->getTraceAsString();
                echo '      ', str_replace("\n", "\n      ", rtrim($detail)), "\n";
            }
            flush();
        }
        printf(
            "\n%d passed, %d failed, %d skipped in %.1f s\n",
            $passed,
            count($failed),
            $skipped,
            (hrtime(true) - $start) / 1e9,
        );
        foreach ($failed as $name) {
            echo "  failed: $name\n";
        }
        return $failed === [] && $passed > 0 ? 0 : 1;
    }

    private static function location(\Throwable $e): string
    {
        foreach ($e->getTrace() as $frame) {
            $file = $frame['file'] ?? '';
            if ($file !== '' && !str_ends_with($file, 'Testing.php')) {
                return sprintf('at %s:%d', basename($file), $frame['line'] ?? 0);
            }
        }
        return '';
    }
}

function test(string $name, \Closure $body): void
{
    $prefix = basename(Tests::$currentFile, '.php');
    $key = $prefix . ' > ' . $name;
    if (isset(Tests::$tests[$key])) {
        throw new \LogicException('duplicate test name: ' . $key);
    }
    Tests::$tests[$key] = $body;
}

function skip(string $why): never
{
    throw new SkipTest($why);
}

function fail(string $message): never
{
    throw new AssertionFailed($message);
}

function show(mixed $value): string
{
    if (is_string($value)) {
        $printable = preg_match('/^[\x20-\x7e]*$/', $value) === 1;
        $text = $printable ? '"' . $value . '"' : 'bytes(' . strlen($value) . ') ' . bin2hex(substr($value, 0, 64));
    } else {
        $text = str_replace("\n", ' ', var_export($value, true));
    }
    return strlen($text) > 400 ? substr($text, 0, 400) . '...' : $text;
}

function assertSame(mixed $expected, mixed $actual, string $message = ''): void
{
    if ($expected !== $actual) {
        fail(($message !== '' ? $message . ': ' : '') . "expected\n  " . show($expected) . "\nbut got\n  " . show($actual));
    }
}

/** Equality that also tells -0.0 from 0.0 and accepts NAN == NAN (compares serialize()). */
function assertIdentical(mixed $expected, mixed $actual, string $message = ''): void
{
    if (serialize($expected) !== serialize($actual)) {
        fail(($message !== '' ? $message . ': ' : '') . "expected\n  " . show($expected) . "\nbut got\n  " . show($actual));
    }
}

function assertTrue(bool $condition, string $message = 'expected true'): void
{
    if (!$condition) {
        fail($message);
    }
}

function assertContains(string $needle, string $haystack, string $message = ''): void
{
    if (!str_contains($haystack, $needle)) {
        fail(($message !== '' ? $message . ': ' : '') . 'expected to find ' . show($needle) . ' in ' . show($haystack));
    }
}

/**
 * @param class-string<\Throwable> $class
 */
function assertThrows(string $class, \Closure $body, string $messagePart = ''): \Throwable
{
    try {
        $body();
    } catch (\Throwable $e) {
        if (!$e instanceof $class) {
            fail(sprintf('expected %s, got %s: %s', $class, get_class($e), $e->getMessage()));
        }
        if ($messagePart !== '' && !str_contains($e->getMessage(), $messagePart)) {
            fail(sprintf('expected the %s message to contain "%s", got "%s"', $class, $messagePart, $e->getMessage()));
        }
        return $e;
    }
    fail('expected ' . $class . ' to be thrown');
}

/** Polls $condition until it returns true or the deadline passes. */
function waitUntil(\Closure $condition, float $timeoutSeconds, string $what): void
{
    $deadline = hrtime(true) + (int) ($timeoutSeconds * 1e9);
    while (!$condition()) {
        if (hrtime(true) > $deadline) {
            fail(sprintf('timed out after %.1f s waiting until %s', $timeoutSeconds, $what));
        }
        usleep(2000);
    }
}

/** True if the process exists and is not a zombie. */
function processAlive(int $pid): bool
{
    $stat = @file_get_contents('/proc/' . $pid . '/stat');
    if ($stat === false) {
        return false;
    }
    $state = substr($stat, strrpos($stat, ')') + 2, 1);
    return $state !== 'Z' && $state !== 'X';
}

/** Field 5 (pgrp) of /proc/<pid>/stat, or null. */
function processGroupOf(int $pid): ?int
{
    $stat = @file_get_contents('/proc/' . $pid . '/stat');
    if ($stat === false) {
        return null;
    }
    return (int) explode(' ', substr($stat, strrpos($stat, ')') + 2))[2];
}

/** Sends SIGKILL to one pid (test clean-up), with or without ext-posix. */
function killPid(int $pid): void
{
    if (function_exists('posix_kill')) {
        posix_kill($pid, 9);
        return;
    }
    $null = ['file', '/dev/null', 'w'];
    $p = proc_open(['/bin/sh', '-c', 'kill -s KILL "$1" 2>/dev/null', 'kill', (string) $pid], [0 => ['file', '/dev/null', 'r'], 1 => $null, 2 => $null], $pipes);
    if ($p !== false) {
        proc_close($p);
    }
}

/** The handshake params of our worker: its pid and the features this PHP supports. */
function readyParams(int $pid): array
{
    return ['pid' => $pid, 'features' => function_exists('pcntl_signal') ? ['context', 'abort', 'backtrace'] : ['context', 'abort']];
}

/** Sends SIGUSR2 to one pid, with or without ext-posix. */
function signalUsr2(int $pid): void
{
    if (function_exists('posix_kill')) {
        posix_kill($pid, 12);
        return;
    }
    $null = ['file', '/dev/null', 'w'];
    $p = proc_open(['/bin/sh', '-c', 'kill -s USR2 "$1"', 'kill', (string) $pid], [0 => ['file', '/dev/null', 'r'], 1 => $null, 2 => $null], $pipes);
    proc_close($p);
}
