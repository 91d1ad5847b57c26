<?php

declare(strict_types=1);

namespace Folk\Worker\Symfony;

use Folk\Worker\Worker;
use Symfony\Component\HttpKernel\HttpKernelInterface;
use Symfony\Component\HttpKernel\KernelInterface;
use Symfony\Component\Runtime\RunnerInterface;

/** Runs a Folk worker serving an HttpKernel until the master closes the task channel. */
final class WorkerRunner implements RunnerInterface
{
    public function __construct(
        private readonly HttpKernelInterface $kernel,
        private readonly ?Worker $worker = null,
    ) {
    }

    public function run(): int
    {
        if ($this->kernel instanceof KernelInterface) {
            // Before control.ready: the first request finds the container loaded, and a kernel that
            // cannot boot (a configuration error) fails the worker's boot, which the pool backs off.
            $this->kernel->boot();
        }
        return (new HttpKernelAdapter($this->kernel))->register($this->worker ?? new Worker())->serve();
    }
}
