<?php
// The "hello" benchmark handler (PHP-FPM); www/worker.php serves the same line at /hello.
echo "Hello from PHP\n";
