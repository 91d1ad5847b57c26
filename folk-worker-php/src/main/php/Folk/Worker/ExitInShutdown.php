<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * @internal Runs its closure when PHP destructs it, unless disarmed first. PHP skips the shutdown
 * functions left when one calls exit(), but still runs the destructors: the {@see Worker} makes one of
 * these as its process begins to end during a call, so that the call's answer goes out even then.
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
