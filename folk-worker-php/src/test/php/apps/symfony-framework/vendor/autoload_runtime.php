<?php

// autoload_runtime.php as Symfony Runtime's Composer plugin renders it: the components app's
// copy, after this application's autoloader.
require_once __DIR__ . '/autoload.php';

return require dirname(__DIR__, 2) . '/symfony/vendor/autoload_runtime.php';
