<?php
// The benchmark's application of scripts (public/), each request in a process of its own:
// folk-worker-php's Folk\Worker\Scripts (scripts-vs-fpm.sh).
require getenv('FOLK_WORKER_PHP') ?: __DIR__ . '/../../../../folk-worker-php/src/main/php/autoload.php';
Folk\Worker\Scripts::serve(__DIR__ . '/public');
require Folk\Worker\Scripts::script();
