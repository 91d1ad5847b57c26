<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * Shutdown functions a call registers (register_shutdown_function()) run once the call is over,
 * as PHP-FPM runs a request's at the request's end, instead of piling up in the worker (each
 * holding what its closure captured) until the worker exits.
 *
 * PHP keeps them in one table, the first member of its basic globals, and runs that table only
 * when the process ends. {@see begin()} notes the table's next key before a call; after the call
 * and its deferred work, {@see end()} moves the entries added since into a table of their own
 * (with the engine's hash functions, through FFI) and has PHP run it as it runs its own at
 * shutdown. The first function of that table puts the worker's table back, so that a function
 * that registers another, calls exit() or dies of a fatal error meets the worker's own shutdown
 * functions as in any PHP process. What they print is dropped: the call is answered (PHP-FPM
 * drops it too once Symfony's or Laravel's send() has called fastcgi_finish_request()). An
 * adapter whose application does not end its request first (Slim's emitter) runs them at the end
 * of its handler instead ({@see runNow()}), what they print part of the answer. An exception one
 * throws is logged, and the ones after it do not run, as under PHP-FPM.
 *
 * Costs one read of the table's next key before and after each call (~0.1 us). Needs ext-ffi
 * with `ffi.enable`, and a non-thread-safe PHP that exports its basic globals (Debian's); without
 * them, or with `FOLK_SHUTDOWN_FUNCTIONS=0`, shutdown functions stay until the worker exits.
 *
 * A function bound to an object that outlives the call (`[$this, 'close']` of a logger's handler,
 * `$this->flush(...)` or `function () { $this->run(); }` of a service, as Guzzle's task queue
 * registers its run, a closure the application keeps) runs at the call's end and once more at the
 * worker's exit. Such an object registers once per PHP process and remembers it did (Monolog's
 * BufferHandler flushes its records so): under PHP-FPM the object is new with every request, and
 * registers again; in a worker it lives on, and without the second run what it gathered after its
 * first call would be lost when the worker exits. Each such function is kept once (the same object
 * and method, or closure declaration), at most {@see MAX_KEPT} of them. One that a later call
 * registers again is registered per request: it runs after each call, as under PHP-FPM, and is
 * not kept; nor is one registered with arguments (a request's data), or one a shutdown function
 * registered (its parent's run at the exit registers it again). A closure's captured variables do
 * not tell: a logger's flush captures its long-lived handler as a request's callback captures the
 * request. One whose object nothing else holds any more at a later call's end (a request's object
 * the next request replaced) is let go then, as PHP-FPM frees it with its request. At the exit each
 * runs on its own: one that throws is logged and the others still run.
 */
final class ShutdownFunctions
{
    /** PHP's HashTable, as Zend/zend_types.h has it since PHP 7.3. */
    public const HASH_TABLE = <<<'C'
        typedef struct {
            uint32_t refcount; uint32_t type_info; uint32_t flags; uint32_t nTableMask;
            void *arData;
            uint32_t nNumUsed; uint32_t nNumOfElements; uint32_t nTableSize; uint32_t nInternalPointer;
            int64_t nNextFreeElement;
            void *pDestructor;
        } HashTable;

        C;

    /** What this needs of PHP's headers: the first member of php_basic_globals, and the engine's hash functions. */
    private const LAYOUT = self::HASH_TABLE . <<<'C'
        typedef struct { HashTable *user_shutdown_function_names; } php_basic_globals;
        extern php_basic_globals basic_globals;
        void php_call_shutdown_functions(void);
        HashTable *_zend_new_array(uint32_t size);
        void *zend_hash_index_find(const HashTable *ht, uint64_t h);
        int zend_hash_index_del(HashTable *ht, uint64_t h);
        void *zend_hash_next_index_insert(HashTable *ht, void *pData);
        void zend_array_destroy(HashTable *ht);
        typedef struct { uintptr_t ptr; uint32_t type_info; uint32_t u2; } folk_zval;
        typedef struct {
            size_t size; folk_zval function_name; uintptr_t retval; uintptr_t params; uintptr_t object;
            uint32_t param_count; uintptr_t named_params;
        } folk_fcall_info;
        typedef struct { uintptr_t function_handler; uintptr_t calling_scope; uintptr_t called_scope; uintptr_t object; } folk_fcall_cache;
        typedef struct { folk_fcall_info fci; folk_fcall_cache fci_cache; } folk_shutdown_entry;
        typedef struct { uint32_t refcount; uint32_t type_info; } folk_refcounted;
        typedef struct { uint64_t w[64]; } folk_words;
        C;

    /**
     * Most functions kept for the exit: objects that live on and register once are few (a logger's
     * handlers); past this, a request's objects that stay in a reference cycle (never let go) would
     * pile up, so later ones run after their call only.
     */
    private const MAX_KEPT = 64;

    /** Most functions remembered as registered per call ({@see $perCall}). */
    private const MAX_PER_CALL = 256;

    /** Rounds of functions registered by the previous round's, before the rest waits for the worker's exit. */
    private const MAX_ROUNDS = 8;

    /** The worker's, once {@see create()} found this PHP lets it run calls' functions. */
    private static ?self $active = null;

    /** The key the next function registered gets, when the call began; -1: no table then, nothing to do. */
    private int $firstKey = -1;
    /** The worker's table while a call's functions run (their table's first function puts it back). */
    private ?\FFI\CData $workerTable = null;
    private readonly \Closure $putWorkerTableBack;
    /**
     * Functions of the call's bound to objects that outlive it, run once already, for the worker's
     * table once the call's rounds are over; null until the first.
     */
    private ?\FFI\CData $kept = null;
    /** @var array<int, array{int, string, int}> per key of {@see $kept}: its object's address, its object and method (kept once each), the references the entry holds */
    private array $keptObjects = [];
    private bool $keptFull = false;
    /**
     * The functions registered again by a later call (the same object and method, or closure
     * declaration: a registration per request, which runs at each call's end as under PHP-FPM),
     * never kept for the exit: a second run there would repeat a past request's work with its data.
     * At most {@see MAX_PER_CALL}, the oldest forgotten first.
     *
     * @var array<string, true>
     */
    private array $perCall = [];
    /** The references to its object an entry of an invokable object holds, measured by {@see create()}. */
    private int $invokableEntryReferences = 1;
    /** The references to its object an entry of [$object, 'method'] holds itself, measured by {@see create()}. */
    private int $methodEntryReferences = 2;
    /**
     * Where a closure keeps the object it is bound to ({@code $this}), as a word index into it, and
     * the word that tells which declaration it was made from (two closures of one declaration bound
     * to one object are kept once); measured by {@see create()}, 0 where it could not tell.
     */
    private int $closureThisWord = 0;
    private int $closureDeclarationWord = 0;
    /** Closure's class entry (a closure object's third word); the references a closure holds to its $this. */
    private int $closureClass = 0;
    private int $closureThisReferences = 1;
    /**
     * Whether this PHP's shutdown function entries are laid out as {@see LAYOUT} says (8.1 and
     * later, checked on the probe of {@see create()}); if not, nothing is kept for the exit.
     */
    private bool $entriesReadable;
    /** PHP's basic globals, looked up once: each call reads them two or three times. */
    private readonly \FFI\CData $globals;

    /** @param \FFI $ffi kept: {@see $globals} is only good while the FFI that typed it lives */
    private function __construct(private readonly \FFI $ffi, private readonly \Closure $log)
    {
        $this->globals = $ffi->basic_globals;
        $this->entriesReadable = PHP_VERSION_ID >= 80100 && PHP_INT_SIZE === 8;
        $this->putWorkerTableBack = function (): void {
            $this->globals->user_shutdown_function_names = $this->workerTable;
        };
    }

    /**
     * Whether this PHP lets the worker run a call's shutdown functions after it, checked with a
     * function registered and run so; null when it does not.
     *
     * @param \Closure(string): void $log
     */
    public static function create(\Closure $log): ?self
    {
        if (PHP_ZTS || !extension_loaded('ffi') || getenv('FOLK_SHUTDOWN_FUNCTIONS') === '0') {
            return null;
        }
        try {
            $self = new self(\FFI::cdef(self::LAYOUT), $log);
        } catch (\Throwable) {
            return null; // FFI refused (ffi.enable), or this PHP does not export these symbols
        }
        $ran = false;
        $self->begin();
        if ($self->firstKey < 0) {
            return null; // no table: the worker registers its own function first
        }
        $count = $self->count();
        $probe = static function () use (&$ran): void {
            $ran = true;
        };
        register_shutdown_function($probe);
        if ($self->count() !== $count + 1) {
            return null; // not the layout this expects; the probe waits for the exit, harmless
        }
        $self->entriesReadable = $self->entriesReadable && $self->lastEntryHoldsAClosureOf(2); // $probe's and the entry's
        unset($probe); // the entry's reference only: a function made for the call, not kept
        if ($self->entriesReadable) {
            // How many references an entry of [$object, 'method'] holds to its object (two on PHP 8.2: its
            // array's, and the one it keeps for the call): more than that at a call's end, it lives on.
            $target = new class () {
                public function run(): void
                {
                }

                public function other(): void
                {
                }

                /** @return list<\Closure> two closures of one declaration, then one of another, all bound to $this */
                public function closures(): array
                {
                    $made = [];
                    for ($i = 0; $i < 2; $i++) {
                        $made[] = function (): void {
                        };
                    }
                    $made[] = function (): void {
                    };
                    return $made;
                }
            };
            register_shutdown_function([$target, 'run']);
            $held = $self->lastEntrysObjectReferences() - 1; // less $target's own
            $self->entriesReadable = $held >= 1 && $held <= 3;
            $self->methodEntryReferences = $held;
            if ($self->entriesReadable) {
                $self->measureClosures($target, $self->lastEntry()->fci_cache->object);
            }
            unset($target);
        }
        $self->end();
        if (!$ran || $self->count() !== $count) {
            return null;
        }
        if ($self->entriesReadable) {
            register_shutdown_function(static fn () => $self->runKeptAtExit()); // the worker's: outside any call
        }
        return self::$active = $self;
    }

    /**
     * Registers a shutdown function for the process's end, not the call's: the library's own
     * clean-up, registered the first time a request needs it (FFI callbacks to take out before FFI
     * frees them). True if it is the process's; false if the call had registered functions of its
     * own before it, in which case it runs with them after the call: ask again at the next call.
     */
    public static function forTheProcess(\Closure $function): bool
    {
        register_shutdown_function($function);
        $self = self::$active;
        if ($self === null || $self->firstKey < 0) {
            return true; // nothing moves a call's functions
        }
        $table = $self->globals->user_shutdown_function_names;
        if ($table->nNextFreeElement === $self->firstKey + 1) {
            $self->firstKey++; // the first since the call began: counted among the worker's
            return true;
        }
        return false;
    }

    /** Before a call. */
    public function begin(): void
    {
        $table = $this->globals->user_shutdown_function_names;
        $this->firstKey = $table === null ? -1 : $table->nNextFreeElement;
    }

    /** After the call and its deferred work: runs what it registered. */
    public function end(): void
    {
        for ($round = 0; $round < self::MAX_ROUNDS && $this->added(); $round++) {
            $this->runAdded(false, $round === 0);
        }
        $this->letGoOfUnheld();
    }

    /** Within the call: runs what it registered so far, and returns what they printed. */
    public function runNow(): string
    {
        $printed = '';
        for ($round = 0; $round < self::MAX_ROUNDS && $this->added(); $round++) {
            $printed .= $this->runAdded(true, $round === 0);
        }
        $this->letGoOfUnheld();
        return $printed;
    }

    /** Whether the call registered shutdown functions not run yet (one read of PHP's table). */
    public function added(): bool
    {
        $table = $this->globals->user_shutdown_function_names;
        return $this->firstKey >= 0 && $table !== null && $table->nNextFreeElement > $this->firstKey;
    }

    private function count(): int
    {
        $table = $this->globals->user_shutdown_function_names;
        return $table === null ? 0 : $table->nNumOfElements;
    }

    /**
     * @param bool $registeredByTheCall whether the call registered them (its first round): those shutdown
     *             functions registered run in a round of their own, and are not kept (their parent's exit run
     *             registers them again)
     * @return string what they printed, if kept
     */
    private function runAdded(bool $keepOutput, bool $registeredByTheCall): string
    {
        $ffi = $this->ffi;
        $worker = $this->globals->user_shutdown_function_names;
        $first = $this->firstKey;
        $next = $worker->nNextFreeElement;
        $calls = $this->openCallTable($worker);
        for ($key = $first; $key < $next; $key++) {
            $entry = $ffi->zend_hash_index_find($worker, $key);
            if ($entry !== null) {
                $ffi->zend_hash_next_index_insert($calls, $entry);
            }
        }
        // Out of the worker's table without freeing them: the call's owns them now.
        $destructor = $worker->pDestructor;
        $worker->pDestructor = null;
        for ($key = $next - 1; $key >= $first; $key--) {
            $ffi->zend_hash_index_del($worker, $key);
        }
        $worker->pDestructor = $destructor;
        $worker->nNextFreeElement = $first;
        $level = ob_get_level();
        $printed = '';
        ob_start($keepOutput ? null : static fn (): string => '');
        try {
            $ffi->php_call_shutdown_functions();
        } catch (\Throwable $e) {
            ($this->log)(sprintf('a shutdown function the last call registered threw %s: %s (%s:%d); the ones after it '
                . 'did not run, as under PHP-FPM', get_class($e), $e->getMessage(), $e->getFile(), $e->getLine()));
        } finally {
            while (ob_get_level() > $level) { // buffers a function left open too, innermost first
                $last = (string) ob_get_clean();
                $printed = $keepOutput ? $last . $printed : '';
            }
            $this->globals->user_shutdown_function_names = $worker; // had the first function not run
            $this->workerTable = null;
            if ($registeredByTheCall) {
                $this->keepLiving($calls);
            }
            $ffi->zend_array_destroy($calls);
        }
        return $printed;
    }

    /**
     * Moves out of the call's table (run already) the functions bound to an object something
     * else still holds, once each, into {@see $kept}. The first function is ours (it put the
     * worker's table back). A string callable or a static method has no object to outlive the call.
     */
    private function keepLiving(\FFI\CData $calls): void
    {
        if (!$this->entriesReadable) {
            return;
        }
        $ffi = $this->ffi;
        $bound = [];
        $held = $this->keptReferences();
        $last = $calls->nNextFreeElement;
        for ($key = 1; $key < $last; $key++) {
            $slot = $ffi->zend_hash_index_find($calls, $key);
            $binding = $slot === null ? null : $this->bindingOf($this->entry($slot));
            if ($binding !== null) {
                $bound[$key] = [$slot, ...$binding];
                $held[$binding[0]] = ($held[$binding[0]] ?? 0) + $binding[1];
            }
        }
        foreach ($bound as $key => [$slot, $object, $own, $id]) {
            // More references than the entries' own (this call's and those kept): something else holds it.
            if ($this->references($object) <= $held[$object]) {
                continue;
            }
            if (isset($this->perCall[$id])) {
                continue;
            }
            if (in_array($id, array_column($this->keptObjects, 1), true)) {
                // Registered again: one per call, which ran after its call as PHP-FPM runs it. Neither
                // is kept (this one is freed with the call's table), and the earlier one is let go.
                $this->registeredPerCall($id);
                continue;
            }
            if (count($this->keptObjects) >= self::MAX_KEPT) {
                if (!$this->keptFull) {
                    $this->keptFull = true;
                    ($this->log)(sprintf('%d shutdown functions whose objects lived on after their calls are kept for '
                        . 'the exit; those of later calls run after their call only, not again at the exit', self::MAX_KEPT));
                }
                continue;
            }
            if ($this->kept === null) {
                $this->kept = $ffi->_zend_new_array(0);
                $this->kept->pDestructor = $calls->pDestructor;
            }
            $next = $this->kept->nNextFreeElement;
            $this->keptObjects[$next < 0 ? 0 : $next] = [$object, $id, $own]; // a new table's starts below 0: its first key is 0
            $this->moveEntry($calls, $key, $slot, $this->kept);
        }
    }

    /**
     * What decides whether an entry's function outlives its call: the object whose life it is
     * bound to (its address), the references the entry holds to that object, and what it is kept
     * once per. [$object, 'method']: the object. A closure only the entry holds: the object it is
     * bound to ({@code $this->flush(...)}, {@code function () { $this->run(); }}), or itself if it
     * is bound to none. A closure held elsewhere too, or an invokable object: itself.
     *
     * @return array{int, int, string}|null null for a function of no object
     */
    private function bindingOf(\FFI\CData $entry): ?array
    {
        if ($entry->fci->param_count > 0) {
            return null; // registered with arguments: a request's data, for this request's run only
        }
        $name = $entry->fci->function_name;
        $type = $name->type_info & 0xff;
        // Addresses read as integers: FFI would read a pointer field through to what it points to.
        if ($type === 7 && $entry->fci_cache->object !== 0) { // IS_ARRAY: [$object, 'method']
            $object = $entry->fci_cache->object;
            return [$object, $this->methodEntryReferences, $object . ':' . $entry->fci_cache->function_handler];
        }
        if ($type !== 8) { // IS_OBJECT: a closure or an invokable object, the one the entry holds
            return null;
        }
        $object = $name->ptr;
        if ($this->closureClass === 0) {
            return [$object, 1, $object . ':0']; // closures could not be measured: each judged by itself
        }
        $words = $this->ffi->cast('folk_words*', $object)->w;
        if ($words[2] !== $this->closureClass) {
            return [$object, $this->invokableEntryReferences, $object . ':0']; // an invokable object
        }
        if ($this->references($object) === 1 && ($words[$this->closureThisWord + 1] & 0xff) === 8) {
            $this_ = $words[$this->closureThisWord];
            $declaration = $this->closureDeclarationWord > 0 ? $words[$this->closureDeclarationWord] : $object;
            return [$this_, $this->closureThisReferences, $this_ . ':closure:' . $declaration];
        }
        return [$object, 1, $object . ':0'];
    }

    /** Notes {@code $id} as registered per call, and lets go of the one kept for it. */
    private function registeredPerCall(string $id): void
    {
        if (count($this->perCall) >= self::MAX_PER_CALL) {
            unset($this->perCall[array_key_first($this->perCall)]);
        }
        $this->perCall[$id] = true;
        foreach ($this->keptObjects as $key => [, $keptId]) {
            if ($keptId === $id) {
                unset($this->keptObjects[$key]);
                $this->freeKept($key);
            }
        }
    }

    /** Frees the kept function at {@code $key} of {@see $kept}, and its object with its last reference. */
    private function freeKept(int $key): void
    {
        try {
            $this->ffi->zend_hash_index_del($this->kept, $key);
        } catch (\Throwable $e) {
            ($this->log)(sprintf('the destructor of an object a shutdown function held threw %s: %s', get_class($e),
                $e->getMessage()));
        }
    }

    /** @return array<int, int> per object of {@see $kept}, the references its entries hold to it */
    private function keptReferences(): array
    {
        $held = [];
        foreach ($this->keptObjects as [$object, , $own]) {
            $held[$object] = ($held[$object] ?? 0) + $own;
        }
        return $held;
    }

    /** The refcount of the object at $address. */
    private function references(int $address): int
    {
        return $this->ffi->cast('folk_refcounted*', $address)->refcount;
    }

    /**
     * Finds, on closures made for it, where a closure keeps its $this and which word tells its
     * declaration apart, so that a closure bound to an object that lives on is kept as
     * [$object, 'method'] is ({@see bindingOf()}). Leaves them 0 (a closure is then judged by
     * itself alone) unless every probe agrees.
     */
    private function measureClosures(object $target, int $address): void
    {
        $before = $this->references($address);
        $method = $target->run(...);
        register_shutdown_function($method);
        // The closure's own reference to its $this, and the entry's (PHP 8.2 holds the call's object too).
        $ownReferences = $this->references($address) - $before;
        $words = [$this->ffi->cast('folk_words*', $this->lastEntry()->fci->function_name->ptr)->w];
        [$first, $second, $other] = $target->closures();
        foreach ([$target->run(...), $target->other(...), $first, $second, $other] as $closure) {
            register_shutdown_function($closure);
            $words[] = $this->ffi->cast('folk_words*', $this->lastEntry()->fci->function_name->ptr)->w;
        }
        $class = $words[0][2];
        $thisWord = 0;
        for ($i = 7; $i < 63 && $thisWord === 0; $i++) { // past the object's header
            if ($words[0][$i] === $address && ($words[0][$i + 1] & 0xff) === 8) {
                $thisWord = $i;
            }
        }
        if ($thisWord === 0 || !in_array($ownReferences, [1, 2, 3], true)) {
            return;
        }
        foreach ($words as $each) {
            if ($each[2] !== $class || $each[$thisWord] !== $address) {
                return;
            }
        }
        $declaration = 0;
        for ($i = 7; $i < $thisWord && $declaration === 0; $i++) {
            [$m1, $m2, $n, $c1, $c2, $d] = array_map(static fn (\FFI\CData $w): int => $w[$i], $words);
            if ($m1 !== 0 && $m1 === $m2 && $m1 !== $n && $c1 !== 0 && $c1 === $c2 && $c1 !== $d) {
                $declaration = $i;
            }
        }
        // An invokable object's entry may hold it twice (its name, and the object it keeps for the call).
        $invokable = new class () {
            public function __invoke(): void
            {
            }
        };
        register_shutdown_function($invokable);
        $invokableReferences = $this->references($this->lastEntry()->fci->function_name->ptr) - 1; // less $invokable's own
        if (!in_array($invokableReferences, [1, 2, 3], true)) {
            return;
        }
        $this->invokableEntryReferences = $invokableReferences;
        $this->closureClass = $class;
        $this->closureThisWord = $thisWord;
        $this->closureDeclarationWord = $declaration;
        $this->closureThisReferences = $ownReferences;
    }

    /**
     * Whether the entry registered last reads as {@see LAYOUT} says: a closure whose object counts
     * {@code $references} references.
     */
    private function lastEntryHoldsAClosureOf(int $references): bool
    {
        $entry = $this->lastEntry();
        if ($entry === null) {
            return false;
        }
        $name = $entry->fci->function_name;
        return $entry->fci->size === 64 && ($name->type_info & 0xff) === 8 && $name->ptr !== 0
            && $this->ffi->cast('folk_refcounted*', $name->ptr)->refcount === $references;
    }

    /** The references to its object that the entry registered last holds with those of others; 0 if it has no object. */
    private function lastEntrysObjectReferences(): int
    {
        $entry = $this->lastEntry();
        if ($entry === null || ($entry->fci->function_name->type_info & 0xff) !== 7 || $entry->fci_cache->object === 0) {
            return 0;
        }
        return $this->ffi->cast('folk_refcounted*', $entry->fci_cache->object)->refcount;
    }

    /** The entry registered last in the current table, or null. */
    private function lastEntry(): ?\FFI\CData
    {
        $table = $this->globals->user_shutdown_function_names;
        $slot = $this->ffi->zend_hash_index_find($table, $table->nNextFreeElement - 1);
        return $slot === null ? null : $this->entry($slot);
    }

    /** The php_shutdown_function_entry a table's slot (a zval of the pointer to it) holds. */
    private function entry(\FFI\CData $slot): \FFI\CData
    {
        return $this->ffi->cast('folk_shutdown_entry*', $this->ffi->cast('folk_zval*', $slot)->ptr);
    }

    /**
     * A table for functions to run apart from the worker's, made current: first in it the function
     * that puts {@code $worker} back, so that what the others register goes to the worker's table.
     */
    private function openCallTable(\FFI\CData $worker): \FFI\CData
    {
        $calls = $this->ffi->_zend_new_array(0);
        $calls->pDestructor = $worker->pDestructor;
        $this->workerTable = $worker;
        $this->globals->user_shutdown_function_names = $calls;
        register_shutdown_function($this->putWorkerTableBack);
        return $calls;
    }

    /** Moves the entry at {@code $key} of {@code $from} (its {@code $slot}) to the end of {@code $to}, without freeing it. */
    private function moveEntry(\FFI\CData $from, int $key, \FFI\CData $slot, \FFI\CData $to): void
    {
        $this->ffi->zend_hash_next_index_insert($to, $slot);
        $destructor = $from->pDestructor;
        $from->pDestructor = null;
        $this->ffi->zend_hash_index_del($from, $key);
        $from->pDestructor = $destructor;
    }

    /**
     * After a call: lets go of the kept functions whose object only the function holds now (the
     * application dropped it, or replaced it with the next request's), freeing the object as
     * PHP-FPM frees a request's. Nothing to do, and one check, while none is kept.
     */
    private function letGoOfUnheld(): void
    {
        if ($this->keptObjects === []) {
            return;
        }
        $held = $this->keptReferences();
        $unheld = [];
        foreach ($held as $object => $references) {
            if ($this->references($object) <= $references) {
                $unheld[$object] = true; // decided before any is freed: freeing one lowers the count
            }
        }
        foreach ($this->keptObjects as $key => [$object]) {
            if (!isset($unheld[$object])) {
                continue;
            }
            unset($this->keptObjects[$key]);
            $this->freeKept($key);
        }
    }

    /**
     * At the worker's exit: runs each kept function once more, each on its own, so that one that
     * throws (logged) does not keep the others from running.
     */
    private function runKeptAtExit(): void
    {
        $kept = $this->kept;
        if ($kept === null) {
            return;
        }
        $ffi = $this->ffi;
        foreach (array_keys($this->keptObjects) as $key) {
            unset($this->keptObjects[$key]);
            $slot = $ffi->zend_hash_index_find($kept, $key);
            if ($slot === null) {
                continue;
            }
            $worker = $this->globals->user_shutdown_function_names;
            $one = $this->openCallTable($worker);
            $this->moveEntry($kept, $key, $slot, $one);
            try {
                $ffi->php_call_shutdown_functions();
            } catch (\Throwable $e) {
                ($this->log)(sprintf('a shutdown function kept for the exit threw %s: %s (%s:%d); the others still run',
                    get_class($e), $e->getMessage(), $e->getFile(), $e->getLine()));
            } finally {
                $this->globals->user_shutdown_function_names = $worker;
                $this->workerTable = null;
                $ffi->zend_array_destroy($one);
            }
        }
    }
}
