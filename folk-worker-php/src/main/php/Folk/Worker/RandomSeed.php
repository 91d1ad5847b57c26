<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * Starts each call with PHP's Mersenne Twister unseeded, as PHP starts each request (ext/random's
 * request start marks it unseeded: the first mt_rand() of the request seeds it at random). A
 * worker process has one request, so without this a call's `mt_srand(42)` (a "stable" shuffle for
 * a page, legacy code seeding before making a token) would decide every later call's mt_rand(),
 * rand(), shuffle(), str_shuffle() and array_rand(), whoever they serve: a sequence anybody can
 * replay. The flag is one byte of ext/random's module globals, written through FFI (~0.1 us a
 * call); a call that draws nothing pays nothing more, one that does pays PHP's own seeding.
 *
 * Only where the layout is known (PHP 8.2 and 8.3: the one Debian 12 ships; 8.4 changed it) and
 * checked: {@see create()} seeds, clears the flag, and checks that the next mt_rand() left the
 * seeded sequence and set the flag again. Elsewhere (older or newer PHP, ZTS builds, no ext-ffi or
 * ffi.enable off) it is null, and a seed stays for later calls, as folk-worker-php's README says.
 */
final class RandomSeed
{
    /** ext/random's globals in PHP 8.2 and 8.3 (ext/random/php_random.h). */
    private const LAYOUT = <<<'C'
        typedef struct {
            void *combined_lcg;
            bool combined_lcg_seeded;
            void *mt19937;
            bool mt19937_seeded;
            int random_fd;
        } php_random_globals;
        extern php_random_globals random_globals;
        C;

    /** A pointer to the globals: the FFI object that declared them is kept with it. */
    private readonly \FFI\CData $globals;

    private function __construct(private readonly \FFI $ffi)
    {
        $this->globals = \FFI::addr($ffi->random_globals);
    }

    /** The reset, or null where this PHP's layout is not known or failed its check. */
    public static function create(): ?self
    {
        if (PHP_ZTS || PHP_VERSION_ID < 80200 || PHP_VERSION_ID >= 80400 || !extension_loaded('ffi')) {
            return null;
        }
        try {
            $self = new self(\FFI::cdef(self::LAYOUT));
        } catch (\Throwable) {
            return null; // FFI refused (ffi.enable), or this PHP does not export ext/random's globals
        }
        $globals = $self->globals;
        // Read before anything is written: after a seed, the flag is set and the state is there.
        mt_srand(1);
        $seeded = [mt_rand(), mt_rand()];
        mt_srand(1);
        mt_rand();
        if ($globals->mt19937_seeded !== true || \FFI::isNull($globals->mt19937)) {
            return null;
        }
        $self->reset();
        $next = mt_rand(); // seeded at random here, were the flag the one PHP reads
        $works = $globals->mt19937_seeded === true && $next !== $seeded[1];
        mt_srand(); // no seed of the check's stays for the application
        return $works ? $self : null;
    }

    /** Marks the generators unseeded, as at the start of a PHP request: their next draw seeds them. */
    public function reset(): void
    {
        $this->globals->mt19937_seeded = false;
        $this->globals->combined_lcg_seeded = false;
    }
}
