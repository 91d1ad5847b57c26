<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * @internal Runs its closure when PHP destructs it, unless disarmed first. PHP skips the shutdown
 * functions left when one calls exit(), but still runs the destructors: {@see Scripts} makes one of
 * these as a request's process begins to end, so that its answer goes out even then.
 */
final class ExitInShutdown
{
    public function __construct(private ?\Closure $run)
    {
    }

    /** The shutdown functions ran on: nothing to do. */
    public function disarm(): void
    {
        $this->run = null;
    }

    public function __destruct()
    {
        $run = $this->run;
        $this->run = null;
        if ($run !== null) {
            $run();
        }
    }
}
