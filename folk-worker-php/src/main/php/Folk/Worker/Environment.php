<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * The environment a call changes with putenv() is set back after it, as PHP-FPM sets it back at
 * each request's end; left alone, a request's `putenv('TZ=...')` or `putenv('LANG=...')` would
 * hold for every later request of the worker, and for the programs they start.
 *
 * PHP notes each putenv() in a table of its basic globals (its second member) with the value it
 * replaced, and a request's end clears that table, which puts every value back. The worker does
 * the same after each call (through FFI): an empty table, one read (~0.1 us), means the call made
 * no putenv(). When the worker begins serving, the table's entries, the bootstrap's own putenv()
 * calls (Laravel's .env loader makes them), are taken out of it without putting anything back:
 * they stay, and what a call changes goes back to them. Needs ext-ffi with `ffi.enable` and a
 * non-thread-safe PHP that exports its basic globals (Debian's); without them the environment a
 * call changes stays changed.
 */
final class Environment
{
    /** What this needs of PHP's headers: php_basic_globals up to its putenv table, and the function that clears it. */
    private const LAYOUT = ShutdownFunctions::HASH_TABLE . <<<'C'
        typedef struct { HashTable *user_shutdown_function_names; HashTable putenv_ht; } php_basic_globals;
        extern php_basic_globals basic_globals;
        void zend_hash_clean(HashTable *ht);
        C;

    private const PROBE = 'FOLK_ENVIRONMENT_PROBE';

    private readonly \FFI\CData $putenvTable;

    /** @param \FFI $ffi kept: the table's pointer is only good while the FFI that typed it lives */
    private function __construct(private readonly \FFI $ffi)
    {
        $this->putenvTable = \FFI::addr($ffi->basic_globals->putenv_ht);
    }

    /** Null when this PHP does not let the worker clear its putenv table. */
    public static function create(): ?self
    {
        if (PHP_ZTS || !extension_loaded('ffi') || getenv(self::PROBE) !== false) {
            return null;
        }
        try {
            $self = new self(\FFI::cdef(self::LAYOUT));
        } catch (\Throwable) {
            return null; // FFI refused (ffi.enable), or this PHP does not export its basic globals
        }
        // The layout checked, reading only: one putenv() of a new name adds one entry.
        $count = $self->putenvTable->nNumOfElements;
        putenv(self::PROBE . '=1');
        $added = $self->putenvTable->nNumOfElements === $count + 1;
        putenv(self::PROBE);
        if (!$added) {
            return null;
        }
        $self->capture();
        putenv(self::PROBE . '=2');
        $self->restore();
        return getenv(self::PROBE) === false && $self->putenvTable->nNumOfElements === 0 ? $self : null;
    }

    /** Takes the environment as it is now as the one to set back: the putenv() calls so far stay. */
    public function capture(): void
    {
        $table = $this->putenvTable;
        if ($table->nNumOfElements === 0) {
            return;
        }
        // Out of the table without its destructor, which would put back the values they replaced;
        // the strings they set stay allocated, as the environment points at them.
        $destructor = $table->pDestructor;
        $table->pDestructor = null;
        try {
            $this->ffi->zend_hash_clean($table);
        } finally {
            $table->pDestructor = $destructor;
        }
    }

    /** After a call: puts back what its putenv() calls replaced. */
    public function restore(): void
    {
        if ($this->putenvTable->nNumOfElements !== 0) {
            $this->ffi->zend_hash_clean($this->putenvTable);
        }
    }
}
