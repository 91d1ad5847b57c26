<?php

// PHP-FPM front controller of the probe.
(require __DIR__ . '/../probe.php')((string) file_get_contents('php://input'));
