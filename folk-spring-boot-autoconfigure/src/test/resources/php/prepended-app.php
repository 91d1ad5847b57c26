<?php
// A worker that does not require folk-worker-php itself: it runs with
// -d auto_prepend_file=${FOLK_WORKER_PHP}, as a Symfony Runtime front controller does.
(new Folk\Worker\Worker())->register('loaded', fn () => get_included_files())->run();
