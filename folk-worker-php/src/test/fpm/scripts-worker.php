<?php
// A Folk worker for an application of scripts that dokuwiki.sh, mediawiki.sh or wordpress.sh made (copied there as
// worker.php, beside its public/): each request in a process of its own, Folk\Worker\Scripts.
require getenv('FOLK_WORKER_PHP');
Folk\Worker\Scripts::serve(__DIR__ . '/public');
require Folk\Worker\Scripts::script();
