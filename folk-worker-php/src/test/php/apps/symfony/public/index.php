<?php

// The usual Symfony Runtime front controller (PHP-FPM: SymfonyRuntime; a worker: APP_RUNTIME).
require_once dirname(__DIR__) . '/vendor/autoload_runtime.php';

return static fn (array $context) => (require dirname(__DIR__) . '/app.php')($context);
