<?php
// An application of scripts (apps/scripts/public), each request in a process of its own, as
// PHP-FPM runs it: Folk\Worker\Scripts.
require getenv('FOLK_WORKER_PHP') ?: __DIR__ . '/../../../../main/php/autoload.php';
Folk\Worker\Scripts::serve(__DIR__ . '/public');
require Folk\Worker\Scripts::script();
