<?php

// The usual Symfony front controller (PHP-FPM: SymfonyRuntime; a worker: APP_RUNTIME).
use App\Kernel;

require_once dirname(__DIR__) . '/vendor/autoload_runtime.php';

return static fn (array $context) => new Kernel('prod', false);
